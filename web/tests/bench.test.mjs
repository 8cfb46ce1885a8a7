// The benchmarks never rot: their quick modes run here (seconds) and must write well-formed results.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { ROOT } from './helpers.mjs';

test('bench/inference.mjs --quick: attnlens and ONNX Runtime timed on every shipped classifier', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-bench-'));
  const run = spawnSync(process.execPath, [path.join(ROOT, 'bench/inference.mjs'), '--quick', '--out', out], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const results = JSON.parse(fs.readFileSync(path.join(out, 'inference.json'), 'utf8'));
  assert.equal(results.quick, true);
  assert.deepEqual(results.rows.map((r) => r.model).sort(), ['bilstm-attention', 'cnn', 'gru-attention', 'lstm', 'transformer']);
  for (const row of results.rows) {
    assert.ok(row.attnlens_ms.median > 0 && row.attnlens_ms.p95 >= row.attnlens_ms.median, row.model);
    assert.ok(row.ort_ms.median > 0 && Number.isFinite(row.ort_over_attnlens), row.model);
  }
  assert.match(fs.readFileSync(path.join(out, 'inference.md'), 'utf8'), /\| transformer \| 50 \|/);
  fs.rmSync(out, { recursive: true, force: true });
});
