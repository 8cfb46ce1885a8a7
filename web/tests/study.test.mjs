// The study's outputs are what tools/study.mjs makes from results.json (nothing typed by
// hand), and every shipped model's card numbers match the study's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers.mjs';
import { BASELINES, JOINS, MODELS, PAGE_DEFAULT, TEACHERS, asTrained, modelFile, protocolsOf, teacherFile, writeReport } from '../../tools/study.mjs';
import { DECODERS, writeReport as writeTranslationReport } from '../../tools/translation-study.mjs';
import { MODELS as FAITHFULNESS_MODELS, METHODS, fileDigest, studyArgs, writeReport as writeFaithfulnessReport } from '../../tools/faithfulness-study.mjs';

const STUDY = path.join(ROOT, 'models/study');

test('models/study/README.md and the figures are regenerated exactly from results.json', async () => {
  const rows = JSON.parse(fs.readFileSync(path.join(STUDY, 'results.json'), 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-study-'));
  await writeReport(rows, dir);
  for (const file of fs.readdirSync(dir))
    assert.equal(fs.readFileSync(path.join(dir, file), 'utf8'), fs.readFileSync(path.join(STUDY, file), 'utf8'), file);
  fs.rmSync(dir, { recursive: true });
});

// The provenance a model file records in its safetensors header.
function provenance(file) {
  const bytes = fs.readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
  return JSON.parse(header.__metadata__.provenance);
}

// The study measured the models as trained (float32); a shipped file converted to other weight
// storage (attnlens convert) keeps those figures in provenance.conversion.original.test.
test('every best-settings, semi-supervised and joined row is a model file in the repository recording the same test accuracy', () => {
  const rows = JSON.parse(fs.readFileSync(path.join(STUDY, 'results.json'), 'utf8'));
  const kept = rows.filter((r) => r.protocol !== 'seed');
  // The teachers (the n-gram baselines and every architecture's best settings) are all there.
  assert.deepEqual(kept.filter((r) => r.protocol === 'best').map((r) => r.file).sort(), [...BASELINES, ...MODELS].map(teacherFile).sort());
  for (const row of kept) {
    assert.ok(protocolsOf(row.model).includes(row.protocol), `${row.model} (${row.protocol})`);
    assert.equal(row.file, modelFile(row.model, row.protocol));
    const file = path.join(ROOT, row.file);
    assert.ok(fs.existsSync(file), `${row.file} is missing`);
    assert.equal(row.test_count, 25000);
    const recorded = provenance(file);
    // A joined file records its network's command as its own and the join's beside it.
    const made = row.protocol === 'ngram-path' ? recorded.ngram_path.command : recorded.command;
    assert.equal(made, row.command, `${row.file} was not made by the study's command`);
    assert.ok(Math.abs(asTrained(recorded).test_accuracy - row.test_accuracy) < 1e-12, `${row.model}: card and study differ`);
    // The time is the file's own (a model retrained by the same command is measured again).
    if (row.protocol !== 'ngram-path') assert.equal(row.training_seconds, recorded.training_seconds, `${row.model} (${row.protocol}): training time`);
    if (row.protocol === 'semi-supervised') {
      // The provenance names each teacher's file (the command holds its path).
      assert.deepEqual(recorded.distillation.teachers.map((t) => t.file), TEACHERS.map((t) => path.basename(t)), `${row.file}: its teachers`);
      assert.equal(recorded.conversion?.weights, 'int8', `${row.file} is shipped as int8`);
    }
    if (row.protocol === 'ngram-path') {
      // The shipped network and the study's n-gram baseline, joined: the network's training
      // is the semi-supervised row's, and the row's time adds the n-gram model's.
      const network = rows.find((r) => r.model === JOINS[row.model].network && r.protocol === 'semi-supervised');
      const ngrams = rows.find((r) => r.model === JOINS[row.model].ngrams && r.protocol === 'best');
      assert.equal(row.command, `attnlens join --network ${network.file} --ngrams ${ngrams.file} --out ${row.file} --eval-test`);
      assert.equal(recorded.ngram_path.ngrams.file, path.basename(ngrams.file));
      assert.ok(Math.abs(row.training_seconds - network.training_seconds - ngrams.training_seconds) < 1e-6, `${row.model}: training time`);
      assert.deepEqual(row.epochs, []);
    }
  }
  // Every architecture has its joined row, and so has the page's default.
  assert.deepEqual(kept.filter((r) => r.protocol === 'ngram-path').map((r) => r.model).sort(), [...MODELS, PAGE_DEFAULT].sort());
  // Every shipped classifier is its architecture's semi-supervised model, or (until it has one)
  // the same bytes as its teacher.
  for (const name of MODELS) {
    const shipped = path.join(ROOT, `models/${name}.safetensors`);
    if (kept.some((r) => r.model === name && r.protocol === 'semi-supervised')) continue;
    assert.ok(fs.readFileSync(shipped).equals(fs.readFileSync(path.join(ROOT, modelFile(name, 'best')))), `${name}: shipped file is neither`);
  }
});

const TRANSLATION = path.join(STUDY, 'translation');

test('the translation study\'s README and figures are regenerated exactly from its results.json', async () => {
  const rows = JSON.parse(fs.readFileSync(path.join(TRANSLATION, 'results.json'), 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-translation-study-'));
  await writeTranslationReport(rows, dir);
  for (const file of fs.readdirSync(dir))
    assert.equal(fs.readFileSync(path.join(dir, file), 'utf8'), fs.readFileSync(path.join(TRANSLATION, file), 'utf8'), file);
  fs.rmSync(dir, { recursive: true });
});

test('the translation study covers every decoder; shipped rows match their model files', () => {
  const rows = JSON.parse(fs.readFileSync(path.join(TRANSLATION, 'results.json'), 'utf8'));
  assert.deepEqual(rows.map((r) => r.decoder), Object.keys(DECODERS));
  for (const row of rows) {
    assert.equal(row.test_greedy.by_source_length.length, 4);
    assert.equal(row.test_greedy.beam, 1);
    assert.equal(row.test_beam.beam, 5);
    if (!row.file.startsWith('models/')) continue;  // the Luong model is not shipped
    const recorded = provenance(path.join(ROOT, row.file));
    assert.equal(recorded.command, row.command, `${row.file} was not made by the study's command`);
    assert.ok(Math.abs(asTrained(recorded).test_greedy.bleu - row.test_greedy.bleu) < 1e-9, `${row.decoder}: card and study differ`);
    assert.ok(Math.abs(asTrained(recorded).test_beam.bleu - row.test_beam.bleu) < 1e-9, `${row.decoder}: beam BLEU differs`);
  }
});

const FAITHFULNESS = path.join(STUDY, 'faithfulness');

test('the faithfulness study\'s README, summary and figures are regenerated exactly from its results.json', async () => {
  const results = JSON.parse(fs.readFileSync(path.join(FAITHFULNESS, 'results.json'), 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-faithfulness-study-'));
  await writeFaithfulnessReport(results, dir);
  const made = fs.readdirSync(dir).sort();
  assert.deepEqual(made, fs.readdirSync(FAITHFULNESS).sort());
  for (const file of made)
    assert.equal(fs.readFileSync(path.join(dir, file), 'utf8'), fs.readFileSync(path.join(FAITHFULNESS, file), 'utf8'), file);
  fs.rmSync(dir, { recursive: true });
});

test('the faithfulness study covers every shipped classifier and method on at least 1,000 reviews, by its recorded command', () => {
  const results = JSON.parse(fs.readFileSync(path.join(FAITHFULNESS, 'results.json'), 'utf8'));
  assert.ok(results.reviews >= 1000);
  // The whole run's command, with the models it ran; a model added since has a command of its own (below).
  const runModels = (command) => command.match(/--models (.*?) --reviews/)[1].split(' ').map((file) => path.basename(file, '.safetensors'));
  const wholeRun = runModels(results.command);
  assert.equal(results.command, `attnlens ${studyArgs({}, wholeRun).join(' ')}`);
  assert.deepEqual(Object.keys(results.models).sort(), [...FAITHFULNESS_MODELS].sort());
  for (const [name, model] of Object.entries(results.models)) {
    assert.equal(model.file, `models/${name}.safetensors`);
    // Measured on the file shipped today, by content: a retrained model needs its own figures
    // (node tools/faithfulness-study.mjs --only NAME).
    assert.equal(model.sha256, fileDigest(model.file), `${name}'s figures were measured on another file`);
    // A model re-run since (--only) records that run's command, which names it.
    assert.ok(wholeRun.includes(name) || model.command, `${name}: no command made its figures`);
    if (model.command) {
      const models = runModels(model.command);
      assert.ok(models.includes(name), name);
      assert.equal(model.command, `attnlens ${studyArgs({}, models).join(' ')}`, name);
    }
    const expected = METHODS.filter((m) => (m === 'attention' ? name !== 'lstm' && name !== 'cnn' : m === 'attention-rollout' ? name === 'transformer'
      : m === 'contribution' ? name.includes('attention') : true));
    assert.deepEqual(Object.keys(model.methods).sort(), expected.sort(), name);
    for (const [method, m] of Object.entries(model.methods)) {
      assert.equal(m.reviews, results.reviews, `${name} ${method}`);
      assert.equal(m.per_review.kendall_tau_loo.length, results.reviews);
      assert.equal(m.deletion_curve_mean.length, 21);
    }
    // Occlusion by deletion ranks the tokens as leave-one-out does, up to float32 near-ties (its copies
    // run in other batches than leave-one-out's): τ ≥ 0.99 on every review.
    assert.ok(model.methods.occlusion.per_review.kendall_tau_loo.every((tau) => tau == null || tau >= 0.99), name);
    assert.equal(Boolean(model.attention_experiments), name.includes('attention'), name);
  }
});
