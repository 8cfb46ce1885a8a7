#!/usr/bin/env node
// The benchmark suite, one command: writes bench/RESULTS.md and bench/results.json.
//   node --experimental-wasm-relaxed-simd bench/run.mjs
//                                 the full run (about 35 minutes here): 50, 200 and 1,000 tokens
//   node --experimental-wasm-relaxed-simd bench/run.mjs --quick
//                                 a minute: 50 tokens, batch 8, short warm-ups, few runs; written to
//                                 build/bench/ (web/tests/bench.test.mjs runs it in CI so it never rots)
// The node figures are for the SIMD128 kernels; with the flag the relaxed-SIMD kernels are measured
// beside them (without it, that row of the targets says "not measured"). Chromium runs relaxed SIMD.
// Every shipped classifier, the same weights everywhere, one thread everywhere:
//   native       `attnlens bench` (build/release/attnlens): latency, batch throughput, training, RSS, peak
//   wasm, node   web/dist/attnlens.wasm (Model.predict, and Model.classify for attention models), the
//                engine with gradients attnlens-train.wasm (classify for the others, and training)
//   Chromium     the same files served gzip-compressed to headless Chromium: latency, training, the
//                page's first load in bytes, keystroke to highlight on the real page; <attn-lens> on a
//                page of its own: bytes for one element and for twelve, viewport to first highlight
//   ONNX Runtime Web (the model exported by `attnlens export --format onnx`) and TensorFlow.js
//                (bench/tfjs-models.mjs: the same graph in TF.js ops) on its cpu and wasm backends.
// Before timing anything, each model's logits from ONNX Runtime and both TF.js backends are
// checked against attnlens's (within 1e-4), so every row compares the same computation.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as ort from 'onnxruntime-web';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../web/tests/browser.mjs';
import { CLI, DIST, ROOT, loadEngine, loadTrainEngine } from '../web/tests/helpers.mjs';
import { buildTfjsClassifier } from './tfjs-models.mjs';
import { measureInterleaved, reviewMaker, summarize } from './timing.mjs';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string' },
  'element-runs': { type: 'string' } } });
const QUICK = args.quick;
const S = QUICK
  ? { lengths: [50], warmupMs: 100, runs: 5, batch: 8, batchRuns: 2, trainTokens: 50, trainSteps: 2, keystrokes: 8, peakSeconds: 0.2, memoryTokens: 1000 }
  : { lengths: [50, 200, 1000], warmupMs: 1500, runs: 30, batch: 128, batchRuns: 5, trainTokens: 200, trainSteps: 5, keystrokes: 60, peakSeconds: 2,
      memoryTokens: 10000 };
S.elementRuns = Number(args['element-runs'] ?? (QUICK ? 2 : 9));  // --element-runs N: more viewport-to-highlight runs in a quick run
const OUT = args.out ?? path.join(ROOT, QUICK ? 'build/bench' : 'bench');
const MODELS = ['bilstm-attention', 'gru-attention', 'lstm', 'cnn', 'transformer'];
const DEFAULT_MODEL = 'gru-attention-ngrams';  // the page's default (web/index.html)
const TOLERANCE = 1e-4;
fs.mkdirSync(OUT, { recursive: true });
ort.env.wasm.numThreads = 1;
const log = (...a) => console.error(...a);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-bench-'));

// ---------------------------------------------------------------- shared helpers
// Median and 95th percentile after a warm-up (V8 compiles wasm in a baseline tier first).
async function measure(fn, { warmupMs = S.warmupMs, runs = S.runs } = {}) {
  const started = performance.now();
  do await fn(); while (performance.now() - started < warmupMs);
  const times = [];
  for (let i = 0; i < runs; ++i) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return summarize(times);
}
// The same for several engines at once, their calls interleaved (bench/timing.mjs).
const measureTogether = (fns, options = {}) => measureInterleaved(fns, { warmupMs: S.warmupMs, runs: S.runs, ...options });
function batchIds(make, n, size) {
  const rows = Array.from({ length: size }, (_, b) => make.ids(n, b));
  return rows.flat();
}

const fileSize = (f) => fs.statSync(f).size;
const gzipSize = (f) => zlib.gzipSync(fs.readFileSync(f), { level: 9 }).length;

// ---------------------------------------------------------------- 1. native
log('native: attnlens bench');
const native = {};
for (const [i, name] of MODELS.entries()) {
  const run = spawnSync(CLI, ['bench', '--model', path.join(ROOT, 'models', `${name}.safetensors`), '--tokens', S.lengths.join(','),
    '--warmup', String(Math.min(1, S.warmupMs / 1000)),  // no JIT to warm natively: a second is plenty '--runs', String(S.runs), '--batch', String(S.batch), '--train-tokens', String(S.trainTokens),
    '--train-batches', String(S.trainSteps), ...(i === 0 ? ['--peak'] : [])], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`attnlens bench ${name} failed: ${run.stderr}`);
  native[name] = JSON.parse(run.stdout);
}
const nativePeak = native[MODELS[0]].peak;

// ---------------------------------------------------------------- 2. node: attnlens wasm, ONNX Runtime, TF.js
log('node: attnlens wasm, ONNX Runtime Web, TF.js');
// (The kernels: see the header.)
const lens = await loadEngine({ kernels: 'simd128' });
const relaxedLens = await loadEngine();
const RELAXED = relaxedLens.kernels === 'relaxed-simd';
log(RELAXED ? '  relaxed SIMD: measured beside SIMD128' : '  relaxed SIMD: not in this node (run it with --experimental-wasm-relaxed-simd to measure it)');
const trainLens = await loadTrainEngine();
// The peak of each build: Eigen's GEMM and GEMV (the engine's built-in kernels) and the packed GEMM
// of the kernel module loaded (SIMD128, and relaxed SIMD when this node has it).
const wasmPeak = (await loadTrainEngine({ kernels: 'simd128' })).machinePeak(S.peakSeconds);
const relaxedPeak = RELAXED ? trainLens.machinePeak(S.peakSeconds) : null;
const nodeRows = [];
const nodeTraining = {};
const tfjsTraining = {};
for (const name of MODELS) {
  const file = path.join(ROOT, 'models', `${name}.safetensors`);
  const bytes = new Uint8Array(fs.readFileSync(file));
  const make = reviewMaker(file);
  const model = lens.Model.fromBytes(bytes);
  const relaxedModel = RELAXED ? relaxedLens.Model.fromBytes(bytes) : null;
  // classify() explains: by attention in attnlens.wasm, by gradient × input in the engine with
  // gradients (attnlens-train.wasm), as the page does.
  const explainer = model.info().hasAttention ? model : trainLens.Model.fromBytes(bytes);
  const onnxFile = path.join(work, `${name}.onnx`);
  const exported = spawnSync(CLI, ['export', '--format', 'onnx', '--model', file, '--out', onnxFile], { encoding: 'utf8' });
  if (exported.status !== 0) throw new Error(`export of ${name} failed: ${exported.stderr}`);
  const session = await ort.InferenceSession.create(fs.readFileSync(onnxFile));
  const ortRun = async (ids, B, T) => (await session.run({ token_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [B, T]) })).logit.data;
  const rows = S.lengths.map((n) => ({ model: name, tokens: n }));
  for (const [k, n] of S.lengths.entries()) {
    const row = rows[k];
    const text = make.text(n), ids = make.ids(n);
    const texts = Array.from({ length: S.batch }, (_, b) => make.text(n, b)), manyIds = batchIds(make, n, S.batch);
    const ours = model.predict(texts).map((p) => p.logit);
    const theirs = await ortRun(manyIds, S.batch, n);
    ours.forEach((v, b) => {
      if (Math.abs(v - theirs[b]) > TOLERANCE) throw new Error(`${name}, ${n} tokens: ONNX Runtime logit ${theirs[b]}, attnlens ${v}`);
    });
    if (relaxedModel) {
      const relaxed = relaxedModel.predict(texts).map((p) => p.logit);
      relaxed.forEach((v, b) => {
        if (Math.abs(v - ours[b]) > 1e-5 * Math.max(1, Math.abs(ours[b]))) throw new Error(`${name}, ${n} tokens: relaxed SIMD logit ${v}, SIMD128 ${ours[b]}`);
      });
    }
    Object.assign(row, await measureTogether({
      predict: () => model.predict(text), classify: () => explainer.classify(text), ort: () => ortRun(ids, 1, n),
      ...(relaxedModel ? { predict_relaxed: () => relaxedModel.predict(text) } : {}) }));
    row.batch = { size: S.batch, ...await measureTogether({
      attnlens: () => model.predict(texts), ort: () => ortRun(manyIds, S.batch, n) }, { runs: S.batchRuns }) };
    log(`  ${name} ${n}: predict ${row.predict.median_ms.toFixed(2)} ms, classify ${row.classify.median_ms.toFixed(2)} ms, `
      + `ORT ${row.ort.median_ms.toFixed(2)} ms`);
  }
  await session.release();
  if (explainer !== model) explainer.delete();
  model.delete();
  relaxedModel?.delete();
  // TF.js, both backends: the same logits first, then the same timings.
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    await tf.ready();
    const graph = buildTfjsClassifier(tf, file);
    for (const [k, n] of S.lengths.entries()) {
      const row = rows[k];
      const manyIds = Int32Array.from(batchIds(make, n, S.batch)), ids = Int32Array.from(make.ids(n));
      const expected = nodeCheckLogits(name, n);
      const got = graph.forward(manyIds.subarray(0, 2 * n), 2, n);
      got.forEach((v, b) => {
        if (Math.abs(v - expected[b]) > TOLERANCE) throw new Error(`${name}, ${n} tokens: TF.js ${backend} logit ${v}, attnlens ${expected[b]}`);
      });
      // TF.js's recurrent graphs at 1,000 tokens take up to seconds a call: fewer runs there, and
      // its batch throughput is measured up to 200 tokens (a batch of 1,000-token reviews takes minutes on cpu).
      const slow = graph.config.encoder.some((s) => s.type === 'lstm' || s.type === 'gru') && n >= 1000;
      row[`tfjs_${backend}`] = await measure(() => graph.forward(ids, 1, n), slow ? { runs: Math.min(S.runs, 5), warmupMs: 0 } : {});
      if (n <= 200) row.batch[`tfjs_${backend}`] = await measure(() => graph.forward(manyIds, S.batch, n), { runs: S.batchRuns, warmupMs: 0 });
      log(`  ${name} ${n}: TF.js ${backend} ${row[`tfjs_${backend}`].median_ms.toFixed(2)} ms`);
    }
    graph.dispose();
    // The pure-JS cpu backend takes from seconds to minutes a training batch at full size: it trains in the quick run only.
    if (backend === 'cpu' && !QUICK) continue;
    // Training with TF.js where it can: Adam steps on a batch, timed. The embedding table stays frozen:
    // TF.js's gradient of gather (UnsortedSegmentSum) loops over all vocabulary rows and took 84 s for one
    // batch of 16 × 50 tokens on the cpu backend; its wasm backend has no kernel for it at all.
    const trainGraph = buildTfjsClassifier(tf, file, { trainable: true, frozen: ['embedding.weight'] });
    const trainIds = Int32Array.from(batchIds(make, S.trainTokens, S.batch));
    const labels = Array.from({ length: S.batch }, (_, b) => b % 2);
    const trainStep = () => trainGraph.trainStep(trainIds, S.batch, S.trainTokens, labels);
    try {
      const t0 = performance.now();
      trainStep();
      const first = performance.now() - t0;
      // Slow graphs (over 20 s a batch) are timed by that one step; the others by more after it.
      const timing = first > 20000 || QUICK ? { ...summarize([first]), note: 'one step, the first' }
        : await measure(trainStep, { runs: Math.min(S.trainSteps, 3), warmupMs: 0 });
      tfjsTraining[`${name}/${backend}`] = { timing, reviews_per_second: (1000 * S.batch) / timing.median_ms, embedding: 'frozen' };
    } catch (error) {
      tfjsTraining[`${name}/${backend}`] = { error: String(error.message ?? error).split('\n')[0] };
    }
    log(`  ${name} TF.js ${backend} training: ${tfjsTraining[`${name}/${backend}`].reviews_per_second?.toFixed(1) ?? tfjsTraining[`${name}/${backend}`].error}`);
    trainGraph.dispose();
  }
  nodeRows.push(...rows);
  // Training in wasm (node): the training module fine-tuning this model, one batch per step().
  const trainTexts = Array.from({ length: S.batch }, (_, b) => make.text(S.trainTokens, b));
  const trainer = trainLens.Trainer.fromBytes(bytes, trainTexts, trainTexts.map((_, b) => b % 2),
    { batchSize: S.batch, maxLength: S.trainTokens, validationFraction: 0, seed: 1 });
  const step = await measure(() => trainer.step(), { runs: S.trainSteps, warmupMs: 0 });
  trainer.delete();
  nodeTraining[name] = { timing: step, reviews_per_second: (1000 * S.batch) / step.median_ms };
  log(`  ${name} training: ${nodeTraining[name].reviews_per_second.toFixed(0)} reviews/s`);
}

// attnlens's logits for the first two batch reviews (TF.js is checked against them).
function nodeCheckLogits(name, n) {
  const file = path.join(ROOT, 'models', `${name}.safetensors`);
  const make = reviewMaker(file);
  const model = lens.Model.fromBytes(new Uint8Array(fs.readFileSync(file)));
  const logits = model.predict([make.text(n, 0), make.text(n, 1)]).map((p) => p.logit);
  model.delete();
  return logits;
}

// Wasm heap of a fresh module classifying a 10,000-token review with the default model.
async function heapFor10k() {
  const fresh = await loadEngine();
  const file = path.join(ROOT, 'models', `${DEFAULT_MODEL}.safetensors`);
  const before = fresh.HEAP8.length;
  const model = fresh.Model.fromBytes(new Uint8Array(fs.readFileSync(file)));
  const loaded = fresh.HEAP8.length;
  model.classify(reviewMaker(file).text(10000));
  return { initial_bytes: before, after_load_bytes: loaded, after_10k_bytes: fresh.HEAP8.length };
}
const nodeHeap = await heapFor10k();
// Every model, a fresh module each: its wasm memory after predict() on a 10,000-token review
// (issue 19: within 100 MB; 1,000 tokens in a quick run).
const predictHeap = { tokens: S.memoryTokens };
for (const name of MODELS) {
  const fresh = await loadEngine();
  const file = path.join(ROOT, 'models', `${name}.safetensors`);
  const model = fresh.Model.fromBytes(new Uint8Array(fs.readFileSync(file)));
  model.predict(reviewMaker(file).text(S.memoryTokens));
  predictHeap[name] = fresh.HEAP8.length;
  model.delete();
}

// ---------------------------------------------------------------- 3. Chromium
log('Chromium: latency, training, first load, keystrokes');
// web/ served with gzip (zlib level 6, as web servers default to), counting the bytes sent. Each
// file is compressed once and the result kept, as a CDN or a precompressing server does, so the
// server's own compression time never lands in a page's timings.
let sentBytes = 0;
const gzipped = new Map();  // path → {mtimeMs, body}
function gzipOnce(file) {
  const mtimeMs = fs.statSync(file).mtimeMs;
  let entry = gzipped.get(file);
  if (!entry || entry.mtimeMs !== mtimeMs) gzipped.set(file, entry = { mtimeMs, body: zlib.gzipSync(fs.readFileSync(file)) });
  return entry.body;
}
let cacheControl = 'no-store';  // the warm-cache runs of the element let the browser keep what it fetched
const ELEMENT_TEXT = 'Slow at first, but ultimately deeply moving. By the last scene I was in tears.';
const generated = {
  // A blank page beside the demo, without its script policy, for the engine timings.
  '/__bench.html': '<!doctype html><meta charset="utf-8"><title>attnlens bench</title>',
  // One <attn-lens> with the default model, as a tutorial page embeds it.
  '/__element.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>one element</title>
    <script type="module" src="/dist/attn-lens.js"></script></head><body><attn-lens>${ELEMENT_TEXT}</attn-lens></body></html>`,
  // The same element far below the fold: nothing is fetched until it comes near.
  '/__lazy.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>lazy element</title>
    <script type="module" src="/dist/attn-lens.js"></script></head><body><div style="height: 600vh"></div>
    <attn-lens id="far">${ELEMENT_TEXT}</attn-lens></body></html>`,
};
const server = http.createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  if (Object.hasOwn(generated, url.pathname)) {
    response.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(generated[url.pathname]);
    return;
  }
  const file = path.join(ROOT, 'web', path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ''));
  const target = fs.existsSync(file) && fs.statSync(file).isDirectory() ? path.join(file, 'index.html') : file;
  if (!target.startsWith(path.join(ROOT, 'web')) || !fs.existsSync(target)) {
    response.writeHead(404).end();
    return;
  }
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json',
    '.svg': 'image/svg+xml', '.png': 'image/png' };
  let body = fs.readFileSync(target);
  const headers = { 'content-type': types[path.extname(target)] ?? 'application/octet-stream', 'cache-control': cacheControl };
  if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '') && path.extname(target) !== '.png') {
    body = gzipOnce(target);
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = body.length;
  response.writeHead(200, headers);
  response.end(body);
  sentBytes += body.length + Object.entries(headers).reduce((sum, [k, v]) => sum + k.length + String(v).length + 4, 17);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
const chromiumVersion = browser.version();
const context = await browser.newContext();
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(error.message));
sentBytes = 0;
await page.goto(baseUrl);
await page.waitForSelector('body[data-state="ready"]', { timeout: 60000 });
const firstLoad = { bytes: sentBytes, requests: null };

// Keystroke to highlight on the real page (Classify view, default model): a 200-word review,
// then one character at a time at a typist's pace; each keystroke timed from its input event
// to the <attn-lens> element's 'attn-lens-result' event for that exact text (the highlight is then in the DOM),
// and to the next animation frame after it.
const keystrokeReview = reviewMaker(path.join(ROOT, 'models', `${DEFAULT_MODEL}.safetensors`)).text(200);
const keystrokes = await page.evaluate(async ({ text, count }) => {
  const element = document.getElementById('classifier');
  const review = element.shadowRoot.querySelector('textarea');
  const classified = (expected) => new Promise((resolve) => {
    const listener = (event) => {
      if (event.detail.text !== expected) return;
      element.removeEventListener('attn-lens-result', listener);
      const domAt = performance.now();
      requestAnimationFrame(() => resolve({ domAt, frameAt: performance.now() }));
    };
    element.addEventListener('attn-lens-result', listener);
  });
  const type = async (value) => {
    const done = classified(value);
    const t0 = performance.now();
    review.value = value;
    review.dispatchEvent(new Event('input', { bubbles: true }));
    const { domAt, frameAt } = await done;
    return { dom: domAt - t0, frame: frameAt - t0 };
  };
  await type(text);
  const times = [];
  let value = text;
  for (let i = 0; i < count; ++i) {
    value += i % 6 === 5 ? ' ' : 'abcde'[i % 5];
    times.push(await type(value));
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return times;
}, { text: keystrokeReview, count: S.keystrokes });
const keystroke = { dom: summarize(keystrokes.map((k) => k.dom)), frame: summarize(keystrokes.map((k) => k.frame)), words: 200 };

// <attn-lens> as an author embeds it: bytes sent (gzip) for a page with one element and the
// default model, and for examples/twelve.html (twelve elements, four models); and the time from
// an element entering the viewport to its first highlight, with a cold cache (a new browser
// context each run) and a warm one (the same context again, files cacheable).
async function elementBytes(pathname) {
  const context = await browser.newContext();
  const tab = await context.newPage();
  tab.on('pageerror', (error) => pageErrors.push(error.message));
  sentBytes = 0;
  await tab.goto(`${baseUrl}${pathname.slice(1)}`);
  await tab.waitForFunction(() => [...document.querySelectorAll('attn-lens')].every((e) => e.result), null, { timeout: 120000 });
  const count = await tab.evaluate(() => document.querySelectorAll('attn-lens').length);
  await context.close();
  return { bytes: sentBytes, elements: count };
}
async function viewportToHighlight(tab) {
  await tab.goto(`${baseUrl}__lazy.html`);
  await tab.waitForFunction(() => customElements.get('attn-lens') && document.getElementById('far').state === 'idle');
  return tab.evaluate(() => new Promise((resolve) => {
    const element = document.getElementById('far');
    element.addEventListener('attn-lens-result', () => requestAnimationFrame(() => resolve(performance.now() - t0)), { once: true });
    const t0 = performance.now();
    element.scrollIntoView();
  }));
}
const elementPage = {
  one: await elementBytes('/__element.html'),
  twelve: await elementBytes('/examples/twelve.html'),
  cold: [], warm: [],
};
for (let run = 0; run < S.elementRuns; ++run) {
  const context = await browser.newContext();
  const tab = await context.newPage();
  cacheControl = 'public, max-age=3600';
  elementPage.cold.push(await viewportToHighlight(tab));
  elementPage.warm.push(await viewportToHighlight(tab));
  cacheControl = 'no-store';
  await context.close();
}
// What twelve.html needs beyond the one-element page: its other three models, the engine with
// gradients (the CNN and the Transformer explain by gradient × input) and its own HTML and CSS.
elementPage.extra_files_gzip = ['gru-attention.safetensors', 'cnn.safetensors', 'transformer.safetensors', 'attnlens-train.wasm',
  'attnlens-train.js', '../examples/twelve.html', '../examples/examples.css'].reduce((sum, f) => sum + gzipSize(path.join(DIST, f)), 0);
elementPage.cold = summarize(elementPage.cold);
elementPage.warm = summarize(elementPage.warm);
log(`  <attn-lens>: one element ${(elementPage.one.bytes / 1e6).toFixed(2)} MB, twelve ${(elementPage.twelve.bytes / 1e6).toFixed(2)} MB; `
  + `viewport to highlight ${elementPage.cold.median_ms.toFixed(0)} ms cold, ${elementPage.warm.median_ms.toFixed(0)} ms warm`);

// The engine itself in a page (main thread) of the same origin: the same calls as in node.
await page.goto(`${baseUrl}__bench.html`);
const chromiumRows = [];
const chromiumTraining = {};
let chromiumKernels;
for (const name of MODELS) {
  const file = path.join(ROOT, 'models', `${name}.safetensors`);
  const make = reviewMaker(file);
  const texts = S.lengths.map((n) => make.text(n));
  const trainTexts = Array.from({ length: S.batch }, (_, b) => make.text(S.trainTokens, b));
  const result = await page.evaluate(async ({ name, texts, trainTexts, s }) => {
    const summarize = (times) => {
      const sorted = [...times].sort((a, b) => a - b);
      const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      return { median_ms: at(0.5), p95_ms: at(0.95), runs: sorted.length };
    };
    const measure = (fn, runs = s.runs, warmupMs = s.warmupMs) => {
      const started = performance.now();
      do fn(); while (performance.now() - started < warmupMs);
      const times = [];
      for (let i = 0; i < runs; ++i) { const t0 = performance.now(); fn(); times.push(performance.now() - t0); }
      return summarize(times);
    };
    const bytes = new Uint8Array(await (await fetch(`dist/${name}.safetensors`)).arrayBuffer());
    window.benchEngine ??= await (await import('./dist/attnlens.js')).default();
    window.benchTrainEngine ??= await (await import('./dist/attnlens-train.js')).default();
    const model = window.benchEngine.Model.fromBytes(bytes);
    const explainer = model.info().hasAttention ? model : window.benchTrainEngine.Model.fromBytes(bytes);
    const rows = texts.map((text) => ({ predict: measure(() => model.predict(text)), classify: measure(() => explainer.classify(text)) }));
    if (explainer !== model) explainer.delete();
    model.delete();
    const trainer = window.benchTrainEngine.Trainer.fromBytes(bytes, trainTexts, trainTexts.map((_, b) => b % 2),
      { batchSize: s.batch, maxLength: s.trainTokens, validationFraction: 0, seed: 1 });
    const training = measure(() => trainer.step(), s.trainSteps, 0);
    trainer.delete();
    return { rows, training, kernels: window.benchEngine.kernels };
  }, { name, texts, trainTexts, s: S });
  chromiumKernels = result.kernels;
  result.rows.forEach((r, k) => chromiumRows.push({ model: name, tokens: S.lengths[k], ...r }));
  chromiumTraining[name] = { timing: result.training, reviews_per_second: (1000 * S.batch) / result.training.median_ms };
  log(`  ${name}: ${result.rows.map((r) => r.predict.median_ms.toFixed(2)).join(' / ')} ms, `
    + `training ${chromiumTraining[name].reviews_per_second.toFixed(0)} reviews/s`);
}
// Explanations (issue 17), default model, a 200-token review, in the engine the page's worker runs
// each in: occlusion with every faithfulness metric (leave-one-out and the random baseline
// included) and the three attention experiments in attnlens.wasm (forward-only), integrated
// gradients at 50 points in the engine with gradients.
const explanationTokens = 200;
const explanations = await page.evaluate(async ({ text, runs, name }) => {
  const bytes = new Uint8Array(await (await fetch(`dist/${name}.safetensors`)).arrayBuffer());
  const model = window.benchEngine.Model.fromBytes(bytes);
  const withGradients = window.benchTrainEngine.Model.fromBytes(bytes);
  const time = (fn) => {
    fn();  // one warm-up call: these take from milliseconds to seconds
    const times = [];
    for (let i = 0; i < runs; ++i) { const t0 = performance.now(); fn(); times.push(performance.now() - t0); }
    times.sort((a, b) => a - b);
    return { median_ms: times[Math.floor(times.length / 2)], p95_ms: times[Math.min(times.length - 1, Math.floor(0.95 * times.length))], runs };
  };
  const tokens = model.explain(text, { method: 'random' }).tokens.length;
  const result = {
    tokens,
    occlusion_faithfulness: time(() => model.faithfulness(text, { methods: ['occlusion'] })),
    integrated_gradients_50: time(() => withGradients.explain(text, { method: 'integrated-gradients', steps: 50 })),
    attention_experiments: time(() => model.attentionExperiments(text)),
  };
  model.delete();
  withGradients.delete();
  return result;
}, { text: reviewMaker(path.join(ROOT, 'models', `${DEFAULT_MODEL}.safetensors`)).text(explanationTokens), runs: QUICK ? 3 : 7,
  name: DEFAULT_MODEL });
log(`  explanations (${explanations.tokens} tokens): occlusion + faithfulness ${explanations.occlusion_faithfulness.median_ms.toFixed(0)} ms, `
  + `IG 50 steps ${explanations.integrated_gradients_50.median_ms.toFixed(0)} ms, attention experiments ${explanations.attention_experiments.median_ms.toFixed(0)} ms`);
const chromiumExtras = await page.evaluate(async ({ text, seconds, name }) => {
  const peak = { ...window.benchTrainEngine.machinePeak(seconds), kernels: window.benchTrainEngine.kernels };
  const fresh = await (await import('./dist/attnlens.js')).default();
  const before = fresh.HEAP8.length;
  const model = fresh.Model.fromBytes(new Uint8Array(await (await fetch(`dist/${name}.safetensors`)).arrayBuffer()));
  const loaded = fresh.HEAP8.length;
  model.classify(text);
  return { peak, heap: { initial_bytes: before, after_load_bytes: loaded, after_10k_bytes: fresh.HEAP8.length } };
}, { text: reviewMaker(path.join(ROOT, 'models', `${DEFAULT_MODEL}.safetensors`)).text(10000), seconds: S.peakSeconds, name: DEFAULT_MODEL });
await browser.close();
server.close();
if (pageErrors.length) throw new Error(`the page reported errors: ${pageErrors.join('; ')}`);
fs.rmSync(work, { recursive: true, force: true });

// ---------------------------------------------------------------- results
const version = (pkg) => JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
// The build ONNX Runtime Web loads for its wasm backend (the others add WebGPU or JSPI).
const ortWasm = path.join(ROOT, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm');
const tfjsWasm = path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
const tfjsJs = path.join(ROOT, 'node_modules/@tensorflow/tfjs/dist/tf.min.js');
const sizes = {
  attnlens_wasm: { bytes: fileSize(path.join(DIST, 'attnlens.wasm')), gzip: gzipSize(path.join(DIST, 'attnlens.wasm')) },
  attnlens_js: { bytes: fileSize(path.join(DIST, 'attnlens.js')), gzip: gzipSize(path.join(DIST, 'attnlens.js')) },
  default_model: { bytes: fileSize(path.join(ROOT, 'models', `${DEFAULT_MODEL}.safetensors`)) },
  ort_wasm: { file: path.basename(ortWasm), bytes: fileSize(ortWasm), gzip: gzipSize(ortWasm) },
  tfjs_js: { bytes: fileSize(tfjsJs), gzip: gzipSize(tfjsJs) },
  tfjs_wasm: { bytes: fileSize(tfjsWasm), gzip: gzipSize(tfjsWasm) },
  first_load_chromium: firstLoad,
};
const infoOf = (name) => JSON.parse(spawnSync(CLI, ['info', '--model', path.join(ROOT, 'models', `${name}.safetensors`)], { encoding: 'utf8' }).stdout);
const defaultInfo = infoOf(DEFAULT_MODEL);
// The page's default joins an n-gram path to a shipped network (attnlens join): the int8 rounding
// it carries is that network's, measured when the network was converted.
const networkInfo = defaultInfo.provenance?.ngram_path ? infoOf(defaultInfo.config.architecture) : defaultInfo;
const original = networkInfo.provenance?.conversion?.original?.test?.test_accuracy;
const results = {
  date: new Date().toISOString(), quick: QUICK, settings: S,
  machine: { cpu: `${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores`, node: process.version, chromium: chromiumVersion,
    onnxruntime_web: version('onnxruntime-web'), tfjs: version('@tensorflow/tfjs'), tfjs_backend_wasm: version('@tensorflow/tfjs-backend-wasm') },
  peak: { native: nativePeak, wasm_node: wasmPeak, wasm_node_relaxed: relaxedPeak, wasm_chromium: chromiumExtras.peak },
  kernels: { node: lens.kernels, node_relaxed: RELAXED ? relaxedLens.kernels : null, chromium: chromiumKernels },
  native, node: nodeRows, chromium: chromiumRows,
  training: { native: Object.fromEntries(MODELS.map((m) => [m, native[m].training])), wasm_node: nodeTraining, wasm_chromium: chromiumTraining,
    tfjs: tfjsTraining },
  memory: { wasm_node_predict_bytes: predictHeap, native_peak_rss_bytes: Object.fromEntries(MODELS.map((m) => [m, native[m].peak_rss_bytes])),
    native_training_peak_rss_bytes: Object.fromEntries(MODELS.map((m) => [m, native[m].training.peak_rss_bytes])), wasm_node: nodeHeap,
    wasm_chromium: chromiumExtras.heap },
  keystroke, sizes, element: elementPage, explanations,
  default_model: { name: DEFAULT_MODEL, accuracy: defaultInfo.provenance?.test_accuracy, network: networkInfo.config.architecture,
    network_accuracy: networkInfo.provenance?.test_accuracy, float32_accuracy: original, weights: networkInfo.provenance?.conversion?.weights },
};
fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
fs.writeFileSync(path.join(OUT, 'RESULTS.md'), (await import('./report.mjs')).report(results));
log(`wrote ${path.relative(ROOT, OUT)}/RESULTS.md and results.json`);
