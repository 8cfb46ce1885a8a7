#!/usr/bin/env node
// Batch-1 inference latency, attnlens (wasm) against ONNX Runtime Web on the same weights, in node:
// writes bench/inference.{md,json}.
//   node bench/inference.mjs            the full run: 50, 200 and 1,000 tokens, 2 s warm-up, 50 timed runs each
//   node bench/inference.mjs --quick    seconds: 50 tokens, a short warm-up, 5 runs; written to build/bench/ (CI)
// Each shipped classifier is exported with `attnlens export --format onnx` and both engines run one
// thread. attnlens times `model.classify(text)` — what the page calls: tokenising, the forward pass and
// the explanation (attention, or for models without attention a gradient × input backward pass);
// ONNX Runtime times `session.run` on the token ids alone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import { CLI, ROOT, loadEngine, vocabularyOf } from '../web/tests/helpers.mjs';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } } });
const QUICK = args.quick;
const LENGTHS = QUICK ? [50] : [50, 200, 1000];
const WARMUP_MS = QUICK ? 200 : 2000, RUNS = QUICK ? 5 : 50;
const OUT = args.out ?? path.join(ROOT, QUICK ? 'build/bench' : 'bench');
const MODELS = ['bilstm-attention', 'gru-attention', 'lstm', 'cnn', 'transformer'];
fs.mkdirSync(OUT, { recursive: true });
ort.env.wasm.numThreads = 1;
const lens = await loadEngine();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-bench-'));

// Median and 95th percentile of fn's time, after warming V8's optimising tier up.
async function time(fn) {
  const started = performance.now();
  while (performance.now() - started < WARMUP_MS) await fn();
  const times = [];
  for (let i = 0; i < RUNS; ++i) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { median: at(0.5), p95: at(0.95) };
}

const rows = [];
for (const name of MODELS) {
  const file = path.join(ROOT, 'models', `${name}.safetensors`);
  const onnxFile = path.join(work, `${name}.onnx`);
  const run = spawnSync(CLI, ['export', '--format', 'onnx', '--model', file, '--out', onnxFile], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`export of ${name} failed: ${run.stderr}`);
  const session = await ort.InferenceSession.create(fs.readFileSync(onnxFile));
  const model = lens.Model.fromBytes(new Uint8Array(fs.readFileSync(file)));
  // A review of common words (ids 2…501 of the model's own vocabulary), cut to exactly n tokens.
  const vocabulary = vocabularyOf(file);
  const ids = new Map(vocabulary.map((word, id) => [word, id]));
  const words = vocabulary.slice(2, 502).filter((w) => /^[a-z]+$/.test(w));
  for (const n of LENGTHS) {
    const text = Array.from({ length: n }, (_, i) => words[i % words.length]).join(' ');
    const prediction = model.classify(text);
    if (prediction.tokens.length !== n) throw new Error(`${name}: ${prediction.tokens.length} tokens, expected ${n}`);
    const tokenIds = BigInt64Array.from(prediction.tokens.map((t) => BigInt(ids.get(t.text) ?? 1)));
    const feeds = { token_ids: new ort.Tensor('int64', tokenIds, [1, n]) };
    const check = await session.run(feeds);
    const difference = Math.abs(check.probability.data[0] - prediction.probability);
    if (difference > 1e-4) throw new Error(`${name}: ONNX Runtime and attnlens differ by ${difference}`);
    const ours = await time(() => model.classify(text));
    const theirs = await time(() => session.run(feeds));
    rows.push({ model: name, tokens: n, explanation: prediction.explanation, attnlens_ms: ours, ort_ms: theirs,
      ort_over_attnlens: theirs.median / ours.median });
    console.error(`${name} ${n} tokens: attnlens ${ours.median.toFixed(2)} ms, ONNX Runtime ${theirs.median.toFixed(2)} ms `
      + `(ratio ${(theirs.median / ours.median).toFixed(2)})`);
  }
  model.delete();
  await session.release();
}
fs.rmSync(work, { recursive: true, force: true });

const ortVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version;
const results = { date: new Date().toISOString(), quick: QUICK, node: process.version, cpu: `${os.cpus()[0]?.model}, ${os.cpus().length} cores`,
  onnxruntime_web: ortVersion, warmup_ms: WARMUP_MS, runs: RUNS, rows };
fs.writeFileSync(path.join(OUT, 'inference.json'), JSON.stringify(results, null, 2) + '\n');
const md = [
  '# Batch-1 inference: attnlens (wasm) and ONNX Runtime Web, same weights',
  '',
  `Made by \`node bench/inference.mjs${QUICK ? ' --quick' : ''}\` on ${results.date.slice(0, 10)} (node ${process.version}, ${results.cpu}, `
    + `onnxruntime-web ${ortVersion}, one thread each; ${WARMUP_MS / 1000} s warm-up, ${RUNS} timed runs). Do not edit: rerun the command.`,
  '',
  'attnlens times `model.classify(text)`, what the page calls (tokenising, the forward pass and the explanation — for the LSTM and '
    + 'the CNN that is gradient × input, a backward pass); ONNX Runtime times `session.run` on the token ids of the same text, '
    + 'with the weights exported by `attnlens export --format onnx`. Ratio > 1: attnlens is faster.',
  '',
  '| model | tokens | attnlens median (p95), ms | ONNX Runtime median (p95), ms | ORT / attnlens |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.model} | ${r.tokens} | ${r.attnlens_ms.median.toFixed(2)} (${r.attnlens_ms.p95.toFixed(2)}) | `
    + `${r.ort_ms.median.toFixed(2)} (${r.ort_ms.p95.toFixed(2)}) | ${r.ort_over_attnlens.toFixed(2)} |`),
  '',
];
fs.writeFileSync(path.join(OUT, 'inference.md'), md.join('\n'));
console.error(`wrote ${path.relative(ROOT, OUT)}/inference.{md,json}`);
