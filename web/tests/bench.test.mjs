// The benchmark suite never rots: its quick mode runs here (about a minute) and must write
// well-formed results for every engine, model and section RESULTS.md reports.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { ROOT } from './helpers.mjs';

const MODELS = ['bilstm-attention', 'cnn', 'gru-attention', 'lstm', 'transformer'];
const timed = (t, what) => assert.ok(t && t.median_ms > 0 && t.p95_ms >= t.median_ms && t.runs >= 1, `${what}: ${JSON.stringify(t)}`);

test('bench/run.mjs --quick: every engine on every shipped classifier, natively, in node and in Chromium', { timeout: 900000 }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-bench-'));
  // With relaxed SIMD, as a full run is made: the SIMD128 and relaxed-SIMD kernels side by side.
  const run = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', path.join(ROOT, 'bench/run.mjs'), '--quick', '--out', out],
    { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(run.status, 0, run.stderr);
  const r = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
  assert.equal(r.quick, true);
  assert.deepEqual(Object.keys(r.native).sort(), MODELS);
  assert.deepEqual([...new Set(r.node.map((row) => row.model))].sort(), MODELS);
  assert.deepEqual([...new Set(r.chromium.map((row) => row.model))].sort(), MODELS);
  assert.deepEqual(r.kernels, { node: 'simd128', node_relaxed: 'relaxed-simd', chromium: 'relaxed-simd' });
  for (const row of r.node) {
    for (const engine of ['predict', 'predict_relaxed', 'classify', 'ort', 'tfjs_wasm', 'tfjs_cpu']) timed(row[engine], `${row.model} ${engine}`);
    for (const engine of ['attnlens', 'ort', 'tfjs_wasm', 'tfjs_cpu']) timed(row.batch[engine], `${row.model} batch ${engine}`);
  }
  for (const row of r.chromium) timed(row.predict, `${row.model} in Chromium`);
  for (const m of MODELS) {
    assert.ok(r.native[m].rows[0].predict.median_ms > 0 && r.native[m].peak_rss_bytes > 1e6, m);
    // The training peak is measured on its own (VmHWM reset before training): more than the model, and
    // with a batch of 128 reviews more than the load-and-infer peak of the quick run's batch of 8.
    assert.ok(r.memory.native_training_peak_rss_bytes[m] > r.native[m].peak_rss_bytes, `${m} training RSS`);
    for (const where of ['native', 'wasm_node', 'wasm_chromium']) assert.ok(r.training[where][m].reviews_per_second > 0, `${m} ${where}`);
    for (const backend of ['wasm', 'cpu']) {  // TF.js trains or says why not
      const t = r.training.tfjs[`${m}/${backend}`];
      assert.ok(t.reviews_per_second > 0 || /not registered|not implemented/i.test(t.error), `${m} TF.js ${backend}: ${JSON.stringify(t)}`);
    }
  }
  for (const peak of [r.peak.native.gemm_gflops, r.peak.native.gemv_gflops, r.peak.native.packed_gemm_gflops, r.peak.wasm_node.gemmGflops,
    r.peak.wasm_node.packedGemmGflops, r.peak.wasm_node_relaxed.packedGemmGflops, r.peak.wasm_chromium.gemvGflops, r.peak.wasm_chromium.packedGemmGflops])
    assert.ok(Number.isFinite(peak) && peak > 0.1, `peak ${peak}`);
  assert.equal(r.peak.wasm_chromium.kernels, 'relaxed-simd');
  assert.ok(r.keystroke.dom.runs >= 5 && r.keystroke.dom.median_ms > 0);
  assert.ok(r.sizes.first_load_chromium.bytes > r.sizes.attnlens_wasm.gzip, 'the first load includes the wasm');
  // <attn-lens>: the one-element page loads the engine and a model; twelve elements add files, not copies.
  assert.equal(r.element.one.elements, 1);
  assert.equal(r.element.twelve.elements, 12);
  assert.ok(r.element.one.bytes > r.sizes.attnlens_wasm.gzip + 500e3, `one element: ${r.element.one.bytes} bytes`);
  assert.ok(r.element.twelve.bytes > r.element.one.bytes && r.element.twelve.bytes < r.element.one.bytes + 2 * r.element.extra_files_gzip);
  timed(r.element.cold, 'viewport to highlight, cold');
  timed(r.element.warm, 'viewport to highlight, warm');
  assert.ok(r.memory.wasm_chromium.after_10k_bytes >= r.memory.wasm_chromium.after_load_bytes);
  assert.ok(r.default_model.float32_accuracy > 0.8 && r.default_model.accuracy > 0.8);
  const md = fs.readFileSync(path.join(out, 'RESULTS.md'), 'utf8');
  for (const heading of ['## Targets', '## Batch-1 latency', '## Training throughput', '## Peak and achieved GFLOP/s', '## Memory', '## Download size'])
    assert.ok(md.includes(heading), heading);
  assert.match(md, /\| transformer \| 50 \|/);
  assert.match(md, /\| the same ≥ 1\.5 with the relaxed-SIMD kernels \(node with --experimental-wasm-relaxed-simd\) \| lowest: /);
  assert.match(md, /\| model \| tokens \| SIMD128 predict \| relaxed-SIMD predict \|/);
  // The GEMM-bound target: both builds' CNN and Transformer against their own packed-GEMM peak.
  assert.match(md, /\| the GEMM-bound models \(cnn, transformer\) at 50 tokens ≥ 60 % [^|]*\| cnn SIMD128 \d+ %, transformer SIMD128 \d+ %, cnn relaxed SIMD \d+ %, transformer relaxed SIMD \d+ % \|/);
  assert.doesNotMatch(md, /NaN|undefined|Infinity/);
  fs.rmSync(out, { recursive: true, force: true });
});

test('bench/kernels.mjs: every kernel of both modules timed alone', { timeout: 120000 }, () => {
  const run = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', path.join(ROOT, 'bench/kernels.mjs'), '--calls', '20', '--repeats', '3'],
    { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const rows = run.stdout.split('\n').filter((line) => /^\| [a-z_]+ \|/.test(line) && !line.startsWith('| kernel '));
  assert.deepEqual(rows.map((line) => line.split('|')[1].trim()), ['gemm', 'gemv', 'gru_steps', 'lstm_steps', 'exp_shifted']);
  for (const line of rows) {
    const [simd128, relaxed] = line.split('|').slice(3, 5).map((cell) => Number.parseFloat(cell));
    assert.ok(simd128 > 0 && relaxed > 0, line);
  }
  assert.doesNotMatch(run.stdout, /NaN|undefined|Infinity/);
});
