// The JS training API (web/dist/attnlens-train.js) under node: the cue task, training that
// learns, exported models that the native CLI and Model.fromBytes load with the same
// outputs, the same weights as native training for the same seed, fine-tuning, and errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import { loadEngine, loadTrainEngine, modelBytes, nativePredictions, readSafetensors, runCli } from './helpers.mjs';

const lens = await loadTrainEngine();
const classifierLens = await loadEngine();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-train-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ATTENTION = { architecture: 'bilstm-attention', embedding_dim: 16, cell: 'lstm', bidirectional: true, hidden_size: 16, pooling: 'attention' };
// Attention pooling over 3-word windows: the Train view's attention model.
const WINDOW = { architecture: 'window-attention', embedding_dim: 16, encoder: [{ type: 'conv1d', size: 16, kernel_size: 3 }, { type: 'relu' }], pooling: 'attention' };
const OPTIONS = { batchSize: 16, learningRate: 0.01, seed: 7, validationFraction: 0.2 };

function trainEpochs(trainer, epochs) {
  const history = [];
  for (let e = 0; e < epochs; ++e) {
    let step;
    do { step = trainer.step(); } while (!step.epochDone);
    history.push(step);
  }
  return history;
}

test('cueTask: one cue word a text at the recorded place, balanced labels, the same texts for the same seed', () => {
  const task = lens.cueTask({ count: 200, length: 40, fillers: 30, negation: 0.5, seed: 3 });
  assert.equal(task.texts.length, 200);
  assert.equal(task.labels.filter((l) => l === 1).length, 100);
  const positive = new Set(['good', 'great', 'superb', 'wonderful', 'excellent']);
  const negative = new Set(['bad', 'awful', 'terrible', 'dull', 'poor']);
  const fillers = new Set();
  task.texts.forEach((text, i) => {
    const words = text.split(' ');
    assert.equal(words.length, 40);
    const cue = words[task.cues[i]];
    assert.ok(positive.has(cue) || negative.has(cue), `text ${i}: '${cue}' is no cue word`);
    assert.equal(words[task.cues[i] - 1] === 'not', task.negated[i]);
    assert.equal(task.labels[i], (positive.has(cue) !== task.negated[i]) ? 1 : 0, `text ${i}: the label follows the cue`);
    words.forEach((w, k) => { if (k !== task.cues[i] && !(task.negated[i] && k === task.cues[i] - 1)) fillers.add(w); });
  });
  assert.equal(fillers.size, 30);
  assert.ok(task.negated.filter(Boolean).length > 60 && task.negated.filter(Boolean).length < 140);
  assert.deepEqual(lens.cueTask({ count: 200, length: 40, fillers: 30, negation: 0.5, seed: 3 }).texts, task.texts);
  assert.notDeepEqual(lens.cueTask({ count: 200, length: 40, fillers: 30, negation: 0.5, seed: 4 }).texts, task.texts);
  // The CLI writes the same task.
  const tsv = runCli(['cue-task', '--count', '200', '--length', '40', '--fillers', '30', '--negation', '0.5', '--seed', '3']).stdout;
  assert.deepEqual(tsv.trim().split('\n'), task.texts.map((t, i) => `${t}\t${task.labels[i]}`));
  assert.throws(() => lens.cueTask({ length: 1 }), /length must be between 2/);
  assert.throws(() => lens.cueTask({ lenght: 100 }), /unknown option 'lenght'/);
});

test('training through the API learns the cue task and reports every batch', () => {
  const task = lens.cueTask({ count: 1000, length: 60, fillers: 20, seed: 1 });
  const trainer = lens.Trainer.create(WINDOW, task.texts, task.labels, OPTIONS);
  try {
    const info = trainer.info();
    assert.equal(info.trainExamples, 800);
    assert.equal(info.validationExamples, 200);
    assert.equal(info.vocabularySize, 2 + 20 + 10 + 1);  // pad, unk, fillers, cues, "not"
    const first = trainer.step();
    assert.equal(first.epoch, 1);
    assert.equal(first.batch, 1);
    assert.equal(first.batches, 50);
    assert.equal(first.done, 16);
    assert.ok(first.loss > 0 && first.examplesPerSecond > 0);
    assert.equal(first.validation, null);
    const history = [first, ...trainEpochs(trainer, 8)];
    const last = history.at(-1);
    assert.equal(last.epoch, 8);
    assert.equal(last.validation.count, 200);
    assert.ok(last.loss < history[1].loss * 0.5, `the loss fell from ${history[1].loss} to ${last.loss}`);
    assert.ok(last.validation.accuracy >= 0.9, `validation accuracy ${last.validation.accuracy}`);
    // The attention found the cue: in held-out texts the largest weight is on a 3-word window that
    // holds the cue or its "not" (windows centred from 2 words before the cue to 1 after).
    const probe = lens.cueTask({ count: 20, length: 60, fillers: 20, seed: 99 });
    let found = 0;
    probe.texts.forEach((text, i) => {
      const weights = trainer.classify(text).tokens.map((t) => t.weight);
      const offset = weights.indexOf(Math.max(...weights)) - probe.cues[i];
      found += offset >= -2 && offset <= 1;
    });
    assert.ok(found >= 18, `the largest weight is at the cue in ${found} of 20 texts`);
    const evaluation = trainer.evaluate(probe.texts, probe.labels);
    assert.equal(evaluation.count, 20);
    assert.ok(evaluation.accuracy >= 0.85);
  } finally {
    trainer.delete();
  }
});

test('exported models load natively and in Model.fromBytes with the same outputs', () => {
  const task = lens.cueTask({ count: 300, length: 25, fillers: 20, seed: 2 });
  const trainer = lens.Trainer.create(ATTENTION, task.texts, task.labels, { ...OPTIONS, data: 'the cue task' });
  trainEpochs(trainer, 2);
  const bytes = trainer.toBytes();
  const file = path.join(tmp, 'exported.safetensors');
  fs.writeFileSync(file, bytes);
  const texts = [task.texts[0], task.texts[1], 'good but not great', 'an unseen word 🎬 and kobu'];
  const native = nativePredictions(texts, file);
  const model = classifierLens.Model.fromBytes(bytes);
  try {
    texts.forEach((text, i) => {
      const ours = trainer.classify(text), loaded = model.classify(text);
      assert.ok(Math.abs(ours.probability - native[i].probability) < 1e-5, `text ${i}: ${ours.probability} vs native ${native[i].probability}`);
      assert.ok(Math.abs(loaded.probability - ours.probability) < 1e-6);
      assert.equal(ours.tokens.length, native[i].tokens.length);
      ours.tokens.forEach((t, k) => assert.ok(Math.abs(t.weight - native[i].tokens[k].weight) < 1e-5));
    });
    const provenance = model.info().provenance;
    assert.equal(provenance.data, 'the cue task');
    assert.equal(provenance.epochs_run, 2);
    assert.equal(provenance.train_examples, 240);
    assert.ok(provenance.validation_accuracy >= 0 && provenance.machine.includes('WebAssembly'));
  } finally {
    model.delete();
    trainer.delete();
  }
  const info = JSON.parse(runCli(['info', '--model', file]).stdout);
  assert.equal(info.config.architecture, 'bilstm-attention');
});

test('the same seed gives the same weights in wasm and natively after one epoch', () => {
  const task = lens.cueTask({ count: 400, length: 60, fillers: 40, seed: 5 });
  const data = path.join(tmp, 'cue.tsv');
  fs.writeFileSync(data, task.texts.map((t, i) => `${t}\t${task.labels[i]}`).join('\n') + '\n');
  for (const config of [ATTENTION, { architecture: 'cnn', embedding_dim: 16, encoder: [{ type: 'conv1d', size: 8, kernel_size: 3 }, { type: 'relu' }], pooling: 'max', dropout: 0.3 }]) {
    const trainer = lens.Trainer.create(config, task.texts, task.labels, { ...OPTIONS, maxLength: 50 });
    trainEpochs(trainer, 1);
    const ours = readSafetensors(trainer.toBytes());
    trainer.delete();
    const configFile = path.join(tmp, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ model: config }));
    const out = path.join(tmp, 'native.safetensors');
    runCli(['train', '--train-file', data, '--config', configFile, '--out', out, '--epochs', '1', '--threads', '1',
      '--batch-size', '16', '--lr', '0.01', '--seed', '7', '--validation-fraction', '0.2', '--max-length', '50',
      '--pretrain-epochs', '0']);
    const native = readSafetensors(fs.readFileSync(out));
    assert.deepEqual(Object.keys(ours.tensors).sort(), Object.keys(native.tensors).sort());
    let largest = 0;
    for (const [name, values] of Object.entries(ours.tensors)) {
      assert.equal(values.length, native.tensors[name].length, name);
      values.forEach((v, k) => { largest = Math.max(largest, Math.abs(v - native.tensors[name][k])); });
    }
    assert.ok(largest < 1e-5, `${config.architecture}: largest weight difference ${largest}`);
    assert.equal(ours.metadata.vocabulary, native.metadata.vocabulary);
  }
});

test('fine-tuning the shipped model on a handful of sentences changes their predictions', () => {
  // Sentences the shipped model gets "wrong" by these labels (all their words are in its vocabulary).
  const texts = ['This movie was sick.', 'A slow burn.', 'The film is quiet.', 'A documentary about cats.'];
  const labels = [1, 1, 0, 0];
  const before = classifierLens.Model.fromBytes(modelBytes());
  // The Teach view's settings (web/train.js), for its default 30 epochs.
  const trainer = lens.Trainer.fromBytes(modelBytes(), texts, labels, { batchSize: 4, learningRate: 0.01, validationFraction: 0, seed: 1 });
  try {
    assert.equal(trainer.info().fineTuning, true);
    assert.equal(trainer.info().trainExamples, 4);
    assert.equal(trainer.info().validationExamples, 0);
    const start = texts.map((t) => before.classify(t));
    start.forEach((p, i) => assert.notEqual(p.label === 'positive' ? 1 : 0, labels[i], `'${texts[i]}' starts wrong`));
    trainEpochs(trainer, 30);
    texts.forEach((text, i) => {
      const after = trainer.classify(text);
      assert.equal(after.label === 'positive' ? 1 : 0, labels[i], `'${text}': ${start[i].probability} → ${after.probability}`);
    });
    const tuned = classifierLens.Model.fromBytes(trainer.toBytes());
    assert.ok(tuned.info().provenance.fine_tuned_from.test_accuracy > 0.85, 'the provenance keeps the original model\'s');
    assert.equal(tuned.info().vocabularySize, before.info().vocabularySize);
    assert.equal(tuned.classify(texts[0]).label, 'positive');
    tuned.delete();
  } finally {
    before.delete();
    trainer.delete();
  }
});

test('bad input to the trainer is a clear Error', () => {
  const texts = ['good', 'bad'];
  assert.throws(() => lens.Trainer.create(ATTENTION, texts, [1], {}), /2 texts but 1 labels/);
  assert.throws(() => lens.Trainer.create(ATTENTION, texts, [1, 2], {}), /label 1 is not 0 or 1/);
  assert.throws(() => lens.Trainer.create(ATTENTION, texts, [1, 0], { batchsize: 3 }), /unknown option 'batchsize'/);
  assert.throws(() => lens.Trainer.create(ATTENTION, texts, [1, 0], { learningRate: -1 }), /learningRate must be a number/);
  assert.throws(() => lens.Trainer.create({ ...ATTENTION, pooling: 'sideways' }, texts, [1, 0], {}), /pooling/);
  assert.throws(() => lens.Trainer.create(ATTENTION, [], [], {}), /no training examples/);
  assert.throws(() => lens.Trainer.create(ATTENTION, 'good', [1], {}), /array of texts/);
  assert.throws(() => lens.Trainer.fromBytes(new Uint8Array([1, 2, 3]), texts, [1, 0], {}), /attnlens: .*model/);
});

test('a checkpoint taken mid-epoch or between epochs resumes to exactly the same weights', () => {
  const task = lens.cueTask({ count: 300, length: 30, fillers: 20, seed: 9 });
  const options = { ...OPTIONS, learningRateDecay: 0.9 };
  const create = () => lens.Trainer.create(WINDOW, task.texts, task.labels, options);
  const reference = create();
  const saved = [];
  trainEpochs(reference, 1);
  saved.push(reference.checkpoint([{ epoch: 1, note: 'kept by the caller' }]));  // between epochs
  for (let k = 0; k < 5; ++k) reference.step();
  saved.push(reference.checkpoint(null));                                      // 5 batches into epoch 2
  trainEpochs(reference, 2);
  const expected = readSafetensors(reference.toBytes()).tensors;
  const checkpoint = readSafetensors(saved[1]);
  assert.equal(checkpoint.metadata.format, 'attnlens.checkpoint');
  assert.equal(JSON.parse(checkpoint.metadata.loop).next_batch, 5);
  assert.ok(Object.keys(checkpoint.tensors).some((name) => name.startsWith('adam.m/')));
  reference.delete();
  saved.forEach((bytes, i) => {
    const resumed = create();
    const history = resumed.resume(bytes);
    assert.equal(resumed.info().completedEpochs, 1);
    if (i === 0) assert.deepEqual(history, [{ epoch: 1, note: 'kept by the caller' }]);
    trainEpochs(resumed, 2);
    const tensors = readSafetensors(resumed.toBytes()).tensors;
    for (const [name, values] of Object.entries(expected)) assert.deepEqual(tensors[name], values, `checkpoint ${i}: ${name}`);
    resumed.delete();
  });
  // Another run's checkpoint (other data, other options) is refused, and the trainer is unchanged.
  const other = lens.Trainer.create(WINDOW, task.texts.slice(0, 200), task.labels.slice(0, 200), options);
  assert.throws(() => other.resume(saved[0]), /checkpoint: a checkpoint of another run: its data is/);
  assert.equal(other.info().completedEpochs, 0);
  other.delete();
  const faster = lens.Trainer.create(WINDOW, task.texts, task.labels, { ...options, learningRate: 0.02 });
  assert.throws(() => faster.resume(saved[0]), /its training.learning_rate is 0.01, this run's is 0.02/);
  assert.throws(() => faster.resume(saved[0].subarray(0, 100)), /checkpoint/);
  assert.throws(() => faster.resume(new Uint8Array(modelBytes())), /not a training checkpoint/);
  faster.delete();
});
