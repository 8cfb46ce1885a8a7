#!/usr/bin/env node
// Training in the browser, measured: writes bench/browser-training.{json,md}.
//   node bench/browser-training.mjs [--data DIR] [--epochs N] [--reviews N]
// 1. The Train view's cue-word task in headless Chromium, through the page's own training API
//    (web/training.js, a worker) with the page's configs: LSTM, attention over 3-word windows and
//    BiLSTM + attention at 200 and 400 words — seconds to 95 % validation accuracy, accuracy per epoch.
// 2. Training throughput of the shipped BiLSTM + attention architecture (models/bilstm-attention.json)
//    on IMDB training reviews cut to 200 tokens, one epoch, batch 32: in Chromium (worker), in node
//    (the same wasm, no worker) and natively (attnlens train, one thread), and the browser/native ratio.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSite } from '../web/tests/browser.mjs';
import { CLI, DATA, ROOT, imdbTrainReviews, loadTrainEngine } from '../web/tests/helpers.mjs';

const { values: args } = parseArgs({ options: {
  data: { type: 'string', default: DATA }, epochs: { type: 'string', default: '10' }, reviews: { type: 'string', default: '2000' },
} });
const EPOCHS = Number(args.epochs), REVIEWS = Number(args.reviews);
const OUT = path.join(ROOT, 'bench');
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores; ${spawnSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).stdout.trim()}`;

const site = await startSite();
const page = await (await site.browser.newContext()).newPage();
await page.goto(site.baseUrl);
await page.waitForSelector('body[data-state="ready"]', { timeout: 60000 });

// ---------------------------------------------------------------- 1. the cue task
const cueRuns = [];
for (const length of [200, 400]) {
  for (const model of ['lstm', 'window-attention', 'bilstm-attention']) {
    const result = await page.evaluate(async ({ model, length, epochs }) => {
      const { Training } = await import('./training.js');
      const { ARCHITECTURES, CUE_OPTIONS, CUE_SIZE, cueTask } = await import('./train.js');
      const run = await Training.create({ config: ARCHITECTURES[model].config(CUE_SIZE), data: { cueTask: cueTask(length) }, options: CUE_OPTIONS });
      const history = [];
      const started = performance.now();
      let reached = null;
      run.addEventListener('epoch', ({ detail: { step } }) => {
        const seconds = (performance.now() - started) / 1000;
        history.push({ epoch: step.epoch, seconds, validation_accuracy: step.validation.accuracy, examples_per_second: step.examplesPerSecond });
        if (reached === null && step.validation.accuracy >= 0.95) { reached = seconds; run.stop(); }
      });
      await run.train(epochs);
      run.terminate();
      return { history, seconds_to_95: reached };
    }, { model, length, epochs: EPOCHS });
    const best = Math.max(...result.history.map((h) => h.validation_accuracy));
    cueRuns.push({ model, length, ...result, best_validation_accuracy: best });
    console.error(`cue task, ${model} at ${length} words: best validation accuracy ${(100 * best).toFixed(1)} %, `
      + `95 % ${result.seconds_to_95 === null ? `not reached in ${EPOCHS} epochs` : `after ${result.seconds_to_95.toFixed(1)} s`}`);
  }
}

// ---------------------------------------------------------------- 2. throughput, BiLSTM + attention at 200 tokens
const reviews = await imdbTrainReviews(REVIEWS, args.data);
let throughput = null;
if (!reviews) {
  console.error(`IMDB not found under ${args.data}: skipping the throughput comparison (put the data in ../shared/data/imdb/)`);
} else {
  const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/bilstm-attention.json'), 'utf8'));
  const t = shipped.training;
  const options = { batchSize: t.batch_size, learningRate: t.learning_rate, maxLength: 200, seed: 1, validationFraction: 0,
    vocabSize: shipped.vocabulary.max_size };
  const texts = reviews.map((r) => r.text.replace(/[\t\n\r]+/g, ' ')), labels = reviews.map((r) => r.label);
  const browser = await page.evaluate(async ({ config, texts, labels, options }) => {
    const { Training } = await import('./training.js');
    const run = await Training.create({ config, data: { texts, labels }, options });
    let last;
    run.addEventListener('epoch', ({ detail }) => { last = detail.step; });
    await run.train(1);
    run.terminate();
    return last.examplesPerSecond;
  }, { config: shipped.model, texts, labels, options });

  const lens = await loadTrainEngine();
  const trainer = lens.Trainer.create(shipped.model, texts, labels, options);
  let step;
  do { step = trainer.step(); } while (!step.epochDone);
  const node = step.examplesPerSecond;
  trainer.delete();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-bench-'));
  fs.writeFileSync(path.join(tmp, 'reviews.tsv'), texts.map((text, i) => `${text}\t${labels[i]}`).join('\n') + '\n');
  fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify({ model: shipped.model }));
  const run = spawnSync(CLI, ['train', '--train-file', path.join(tmp, 'reviews.tsv'), '--config', path.join(tmp, 'config.json'),
    '--out', path.join(tmp, 'model.safetensors'), '--epochs', '1', '--threads', '1', '--batch-size', String(t.batch_size),
    '--lr', String(t.learning_rate), '--max-length', '200', '--seed', '1', '--validation-fraction', '0',
    '--vocab-size', String(options.vocabSize), '--pretrain-epochs', '0'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`native training failed: ${run.stderr}`);
  const native = JSON.parse(fs.readFileSync(path.join(tmp, 'model.history.json'), 'utf8'))[0].examples_per_second;
  fs.rmSync(tmp, { recursive: true, force: true });
  throughput = { reviews: REVIEWS, max_length: 200, batch_size: t.batch_size, config: shipped.model,
    chromium: browser, node_wasm: node, native_one_thread: native, chromium_over_native: browser / native };
  console.error(`BiLSTM + attention, 200 tokens: Chromium ${browser.toFixed(0)} reviews/s, node (wasm) ${node.toFixed(0)}, `
    + `native (1 thread) ${native.toFixed(0)}: browser/native ${(browser / native).toFixed(2)}`);
}
await site.close();

// ---------------------------------------------------------------- the report
const results = { date: new Date().toISOString(), machine, command: 'node bench/browser-training.mjs', epochs: EPOCHS, cue_task: cueRuns, throughput };
fs.writeFileSync(path.join(OUT, 'browser-training.json'), JSON.stringify(results, null, 2) + '\n');
const NAMES = { lstm: 'LSTM (last state)', 'window-attention': 'attention over 3-word windows', 'bilstm-attention': 'BiLSTM + attention' };
const pct = (v) => `${(100 * v).toFixed(1)} %`;
const lines = [
  '# Training in the browser',
  '',
  `Made by \`${results.command}\` on ${results.date.slice(0, 10)} (${machine}). Do not edit: rerun the command.`,
  '',
  '## The cue-word task in Chromium',
  '',
  `The Train view's task and models (embedding and hidden size 32, batch 32, learning rate 0.005, 1,800 training and 200 validation texts, `
    + `one model at a time, each in its own worker) for up to ${EPOCHS} epochs; a run stops once validation accuracy reaches 95 %.`,
  '',
  '| words | model | seconds to 95 % | best validation accuracy | validation accuracy by epoch | examples/s |',
  '|---|---|---|---|---|---|',
  ...cueRuns.map((r) => `| ${r.length} | ${NAMES[r.model]} | ${r.seconds_to_95 === null ? `not in ${r.history.length} epochs` : r.seconds_to_95.toFixed(1)} | `
    + `${pct(r.best_validation_accuracy)} | ${r.history.map((h) => (100 * h.validation_accuracy).toFixed(0)).join(' · ')} | `
    + `${Math.round(r.history.at(-1).examples_per_second)} |`),
  '',
  '## Training throughput: browser vs native',
  '',
];
if (throughput) {
  lines.push(`The shipped BiLSTM + attention architecture (\`models/bilstm-attention.json\`: embedding 64, BiLSTM 64, dropout), `
    + `${REVIEWS.toLocaleString('en')} IMDB training reviews cut to 200 tokens, one epoch, batch ${throughput.batch_size}, one thread everywhere.`, '',
  '| where | reviews/s |', '|---|---|',
  `| Chromium (WebAssembly in a worker) | ${throughput.chromium.toFixed(0)} |`,
  `| node (the same WebAssembly) | ${throughput.node_wasm.toFixed(0)} |`,
  `| native (\`attnlens train --threads 1\`) | ${throughput.native_one_thread.toFixed(0)} |`, '',
  `Browser / native: **${throughput.chromium_over_native.toFixed(2)}**.`);
} else {
  lines.push(`Not measured: IMDB was not found under ${args.data}.`);
}
fs.writeFileSync(path.join(OUT, 'browser-training.md'), lines.join('\n') + '\n');
console.error('wrote bench/browser-training.json and bench/browser-training.md');
