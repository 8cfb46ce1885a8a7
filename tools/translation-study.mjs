// The translation study: the same encoder–decoder trained with the same budget and four
// decoders — (a) no attention, one fixed context vector (Cho et al. 2014); (b) additive
// attention (Bahdanau et al. 2014); (c) multiplicative attention (Luong et al. 2015), its
// "general" and "dot" scores — then test BLEU overall and by source-sentence length, as
// JSON, Markdown and SVG.
//
//   node tools/translation-study.mjs [--only none,additive,general,dot] [--data DIR] [--force] [--report-only]
//
// Shipped: the no-attention baseline (models/translate-eng-fra-noattn) and the attention
// decoder with the best validation BLEU (models/translate-eng-fra: dot); the others go to
// build/study/. The runs train concurrently, one thread each. A model whose file already records the exact command is reused, not
// retrained (--force retrains), so an interrupted study resumes where it stopped.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as vega from 'vega';
import { compile } from 'vega-lite';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'build/release/attnlens');
const OUT = path.join(ROOT, 'models/study/translation');
export const DECODERS = {
  none: { label: '(a) no attention (Cho et al. 2014)', config: 'models/translate-eng-fra-noattn.json', out: 'models/translate-eng-fra-noattn.safetensors' },
  additive: { label: '(b) additive attention (Bahdanau et al. 2014)', config: 'models/study/translate-bahdanau.json', out: 'build/study/translate-bahdanau.safetensors' },
  general: { label: '(c) general attention (Luong et al. 2015)', config: 'models/study/translate-luong.json', out: 'build/study/translate-luong.safetensors' },
  dot: { label: '(c) dot attention (Luong et al. 2015)', config: 'models/translate-eng-fra.json', out: 'models/translate-eng-fra.safetensors' },
};
const ORDER = Object.keys(DECODERS);

function run(args) {
  const result = spawnSync(CLI, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`attnlens ${args.join(' ')} failed (exit ${result.status})`);
  return result.stdout;
}

function trainArgs(decoder, options) {
  const { config, out } = DECODERS[decoder];
  const args = ['train-translator', '--config', config, '--out', out, '--threads', '1', '--eval-test'];
  if (options.data) args.push('--data', options.data);
  return args;
}

function needsTraining(decoder, options) {
  const { out } = DECODERS[decoder];
  if (options.force || !fs.existsSync(path.join(ROOT, out))) return true;
  const recorded = JSON.parse(run(['info', '--model', out])).provenance;
  return recorded.command !== `attnlens ${trainArgs(decoder, options).join(' ')}` || recorded.test_beam === undefined;
}

function train(decoder, options) {
  fs.mkdirSync(path.dirname(path.join(ROOT, DECODERS[decoder].out)), { recursive: true });
  const log = path.join(ROOT, 'build/study', `translate-${decoder}.log`);
  fs.mkdirSync(path.dirname(log), { recursive: true });
  console.error(`training ${decoder}: attnlens ${trainArgs(decoder, options).join(' ')} (log: ${path.relative(ROOT, log)})`);
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, trainArgs(decoder, options), { cwd: ROOT, stdio: ['ignore', 'ignore', fs.openSync(log, 'w')] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`training ${decoder} failed (exit ${code}); see ${log}`))));
  });
}

function measure(decoder, options) {
  const { out, label } = DECODERS[decoder];
  const evaluate = (beam) => {
    const args = ['eval', '--model', out, '--split', 'test', '--json', '--beam', String(beam)];
    if (options.data) args.push('--data', options.data);
    return JSON.parse(run(args));
  };
  const info = JSON.parse(run(['info', '--model', out]));
  const history = JSON.parse(fs.readFileSync(path.join(ROOT, out.replace(/\.safetensors$/, '.history.json')), 'utf8'));
  return {
    decoder, label, attention: info.config.attention, file: out, command: info.provenance.command,
    parameters: info.parameters, best_epoch: info.provenance.best_epoch, training_seconds: info.provenance.training_seconds,
    test_greedy: evaluate(1), test_beam: evaluate(5),
    epochs: history.map((e) => ({ epoch: e.epoch, train_loss: e.train_loss, validation_loss: e.validation_loss, validation_bleu: e.validation_bleu,
      sentences_per_second: e.sentences_per_second })),
  };
}

async function toSvg(spec) {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

function bleuByLengthSpec(rows) {
  const values = rows.flatMap((r) => r.test_greedy.by_source_length.map((b) => ({ decoder: r.label, tokens: b.tokens, bleu: b.bleu, sentences: b.sentences })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Test BLEU by English sentence length (greedy decoding)', width: 420, height: 260, background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'tokens', type: 'ordinal', sort: rows[0]?.test_greedy.by_source_length.map((b) => b.tokens), title: 'English sentence length (tokens)', axis: { labelAngle: 0 } },
      y: { field: 'bleu', type: 'quantitative', title: 'BLEU' },
      color: { field: 'decoder', type: 'nominal', sort: rows.map((r) => r.label), title: 'decoder', legend: { orient: 'bottom', columns: 1, labelLimit: 0 } },
    },
  };
}

function validationSpec(rows) {
  const values = rows.flatMap((r) => r.epochs.map((e) => ({ decoder: r.label, epoch: e.epoch, bleu: e.validation_bleu })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Validation BLEU per epoch (greedy)', width: 420, height: 260, background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 }, title: 'epoch' },
      y: { field: 'bleu', type: 'quantitative', title: 'BLEU' },
      color: { field: 'decoder', type: 'nominal', sort: rows.map((r) => r.label), title: 'decoder', legend: { orient: 'bottom', columns: 1, labelLimit: 0 } },
    },
  };
}

function markdown(rows) {
  const f = (v) => v.toFixed(2);
  const buckets = rows[0]?.test_greedy.by_source_length ?? [];
  const lines = [
    '# The translation study: the fixed-length bottleneck, measured',
    '',
    'Generated by `node tools/translation-study.mjs` (see `tools/translation-study`); every number below comes from',
    '`results.json` beside this file. English → French on sentence pairs from Tatoeba (tatoeba.org), CC-BY 2.0 FR,',
    'split by English sentence (no test sentence appears in training). The translators share everything — data,',
    'vocabularies, embedding 128, BiGRU encoder 128 per direction, GRU decoder 256, output layer 256, dropout 0.2,',
    'Adam, epochs, seed — except how the decoder sees the source.',
    '',
    'BLEU: corpus BLEU-4 on lower-cased tokens, each distinct English test sentence scored against all of its French',
    'translations in the test split (single-reference BLEU, one pair at a time, in its own column). Sentence length is',
    'counted in source tokens, punctuation included, as in the tokenised corpora of Cho et al. and Bahdanau et al. (2014).',
    '',
    `| decoder | test BLEU (greedy) | beam 5 | single reference | ${buckets.map((b) => `${b.tokens} tokens`).join(' | ')} | parameters | training time |`,
    `|---|---|---|---|${buckets.map(() => '---').join('|')}|---|---|`,
  ];
  for (const r of rows) {
    lines.push(`| ${r.label} | **${f(r.test_greedy.bleu)}** | ${f(r.test_beam.bleu)} | ${f(r.test_greedy.bleu_single_reference)} | `
      + `${r.test_greedy.by_source_length.map((b) => f(b.bleu)).join(' | ')} | ${r.parameters.toLocaleString('en')} | `
      + `${Math.round(r.training_seconds)} s |`);
  }
  if (rows.length) {
    lines.push('', `Test sentences per length bucket: ${buckets.map((b) => `${b.tokens} tokens: ${b.sentences}`).join(', ')} `
      + `(${rows[0].test_greedy.sentences} distinct English sentences, ${rows[0].test_greedy.pairs} pairs).`);
    const none = rows.find((r) => r.decoder === 'none');
    if (none) {
      for (const r of rows.filter((x) => x.decoder !== 'none')) {
        const gaps = r.test_greedy.by_source_length.map((b, i) => b.bleu - none.test_greedy.by_source_length[i].bleu);
        lines.push(`${r.label} minus (a), by length: ${gaps.map((g, i) => `${buckets[i].tokens}: ${g >= 0 ? '+' : ''}${f(g)}`).join(', ')}.`);
      }
    }
  }
  if (rows.length) {
    const epochs = Math.max(...rows.map((r) => r.epochs.length));
    const at = (r, epoch) => r.epochs.find((e) => e.epoch === epoch)?.validation_bleu;
    lines.push('', `Validation BLEU (greedy) by epoch — ${rows.map((r) => `${r.decoder}: ${Array.from({ length: epochs }, (_, i) => at(r, i + 1))
      .map((v) => (v == null ? '—' : v.toFixed(1))).join(', ')}`).join('; ')}.`);
  }
  lines.push('', 'Figures: [BLEU by sentence length](bleu-by-length.svg), [validation BLEU per epoch](validation-bleu.svg).',
    '', 'Commands that made each row (training times are wall clock, the runs sharing the machine\'s 2 cores):', '');
  for (const r of rows) lines.push(`- ${r.decoder}: \`${r.command}\``);
  return `${lines.join('\n')}\n`;
}

export async function writeReport(rows, dir = OUT) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(rows, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'README.md'), markdown(rows));
  if (!rows.length) return;
  fs.writeFileSync(path.join(dir, 'bleu-by-length.svg'), await toSvg(bleuByLengthSpec(rows)));
  fs.writeFileSync(path.join(dir, 'validation-bleu.svg'), await toSvg(validationSpec(rows)));
}

async function main() {
  const { values } = parseArgs({ options: {
    only: { type: 'string' }, data: { type: 'string' }, force: { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
  } });
  const decoders = values.only ? values.only.split(',') : ORDER;
  for (const d of decoders) if (!DECODERS[d]) throw new Error(`unknown decoder '${d}' (${ORDER.join(', ')})`);
  const resultsPath = path.join(OUT, 'results.json');
  let rows = fs.existsSync(resultsPath) ? JSON.parse(fs.readFileSync(resultsPath, 'utf8')) : [];
  if (!values['report-only']) {
    await Promise.all(decoders.filter((d) => needsTraining(d, values)).map((d) => train(d, values)));
    for (const decoder of decoders) {
      console.error(`measuring ${decoder} on the test split (greedy and beam 5)`);
      const row = measure(decoder, values);
      rows = rows.filter((r) => r.decoder !== decoder).concat([row]);
    }
  }
  rows.sort((a, b) => ORDER.indexOf(a.decoder) - ORDER.indexOf(b.decoder));
  await writeReport(rows);
  console.error(`wrote ${path.relative(ROOT, OUT)}/{results.json,README.md,*.svg}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => { console.error(`translation study: ${error.message}`); process.exit(1); });
}
