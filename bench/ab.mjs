#!/usr/bin/env node
// Two builds of a wasm module side by side, in one process, their calls interleaved run by run:
// what a change to the build or the engine is measured with before it is kept. On this shared
// machine one build's times move by 10–15 % from run to run; interleaved, the ratio of two moves
// by a few percent.
//
//   node bench/ab.mjs DIR_A DIR_B [--module attnlens|attnlens-train] [--tokens 200] [--runs 30]
//                    [--kernels-a K] [--kernels-b K]
//
// --kernels-a/-b: the kernels each runs (src/wasm/kernel_loader.js): relaxed-simd, simd128 or
// built-in; by default what the build picks (relaxed SIMD only where node has it). For example
// `node --experimental-wasm-relaxed-simd bench/ab.mjs web/dist web/dist --kernels-a simd128
// --kernels-b relaxed-simd` is the relaxed-SIMD kernels against SIMD128 in one build.
//
// DIR_A and DIR_B hold <module>.js and <module>.wasm (for example a copy of web/dist/ made before
// the change, and web/dist/). Measured, on the review the benchmark suite uses (bench/timing.mjs):
// predict for every shipped classifier; for the default model faithfulness (occlusion with every
// metric) and the attention experiments; with attnlens-train, integrated gradients at 50 points and
// a training step (batch 8, 50 tokens). Prints median A, median B and A / B (above 1: B is faster).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../web/tests/helpers.mjs';
import { measureInterleaved, reviewMaker } from './timing.mjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { module: { type: 'string', default: 'attnlens' }, tokens: { type: 'string', default: '200' },
    runs: { type: 'string', default: '30' }, 'kernels-a': { type: 'string' },
    'kernels-b': { type: 'string' } },
});
const fail = (message) => { console.error(`bench/ab.mjs: ${message}`); process.exit(2); };
if (positionals.length !== 2) fail('give two folders, each with <module>.js and <module>.wasm');
if (!['attnlens', 'attnlens-train'].includes(args.module)) fail('--module must be attnlens or attnlens-train');
const tokens = Number(args.tokens), runs = Number(args.runs);
if (!(Number.isInteger(tokens) && tokens > 0) || !(Number.isInteger(runs) && runs > 0)) fail('--tokens and --runs must be positive whole numbers');

const kernelChoices = ['relaxed-simd', 'simd128', 'built-in'];
for (const option of ['kernels-a', 'kernels-b'])
  if (args[option] !== undefined && !kernelChoices.includes(args[option])) fail(`--${option} must be one of ${kernelChoices.join(', ')}`);
async function load(dir, kernels) {
  const js = path.resolve(dir, `${args.module}.js`), wasm = path.resolve(dir, `${args.module}.wasm`);
  for (const file of [js, wasm]) if (!fs.existsSync(file)) fail(`${file} is missing`);
  const lens = await (await import(js)).default({ wasmBinary: fs.readFileSync(wasm), ...(kernels ? { kernels } : {}) });
  if (kernels && lens.kernels !== kernels)
    fail(`${dir} runs the ${lens.kernels ?? 'built-in (no kernel modules in this build)'} kernels, not ${kernels}` +
      (kernels === 'relaxed-simd' ? ': run node with --experimental-wasm-relaxed-simd' : ''));
  console.log(`${dir}: ${lens.kernels ?? 'built-in'} kernels`);
  return lens;
}
const [A, B] = [await load(positionals[0], args['kernels-a']), await load(positionals[1], args['kernels-b'])];
const modelBytes = (name) => new Uint8Array(fs.readFileSync(path.join(ROOT, 'models', `${name}.safetensors`)));

const rows = [];
async function compare(label, makeCall, options = {}) {
  const [a, b] = [makeCall(A), makeCall(B)];
  const r = await measureInterleaved({ a: a.call, b: b.call }, { warmupMs: options.warmupMs ?? 300, runs: options.runs ?? runs });
  a.done?.(); b.done?.();
  const row = { label, a: r.a.median_ms, b: r.b.median_ms, ratio: r.a.median_ms / r.b.median_ms };
  rows.push(row);
  console.log(`${label.padEnd(44)} A ${row.a.toFixed(3).padStart(9)} ms   B ${row.b.toFixed(3).padStart(9)} ms   A/B ${row.ratio.toFixed(3)}`);
}
const withModel = (name, use) => (lens) => {
  const model = lens.Model.fromBytes(modelBytes(name));
  return { call: () => use(model), done: () => model.delete() };
};

for (const name of ['bilstm-attention', 'gru-attention', 'lstm', 'cnn', 'transformer']) {
  const text = reviewMaker(path.join(ROOT, 'models', `${name}.safetensors`)).text(tokens);
  await compare(`predict ${name}, ${tokens} tokens`, withModel(name, (m) => m.predict(text)));
}
const text = reviewMaker(path.join(ROOT, 'models', 'bilstm-attention.safetensors')).text(tokens);
const slow = { runs: Math.max(3, Math.round(runs / 5)), warmupMs: 0 };
await compare('faithfulness, occlusion (bilstm-attention)', withModel('bilstm-attention',
  (m) => m.faithfulness(text, { methods: ['occlusion'] })), slow);
await compare('attention experiments (bilstm-attention)', withModel('bilstm-attention', (m) => m.attentionExperiments(text)), slow);
if (args.module === 'attnlens-train') {
  await compare('integrated gradients, 50 points (bilstm-attention)', withModel('bilstm-attention',
    (m) => m.explain(text, { method: 'integrated-gradients', steps: 50 })), slow);
  const trainTexts = Array.from({ length: 64 }, (_, i) => reviewMaker(path.join(ROOT, 'models', 'bilstm-attention.safetensors')).text(50, i));
  await compare('training step, batch 8 × 50 tokens (bilstm-attention)', (lens) => {
    const trainer = lens.Trainer.fromBytes(modelBytes('bilstm-attention'), trainTexts, trainTexts.map((_, i) => i % 2),
      { batchSize: 8, maxLength: 50, validationFraction: 0, seed: 1 });
    return { call: () => trainer.step(), done: () => trainer.delete() };
  });
}
