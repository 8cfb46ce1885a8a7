// ONNX export (`attnlens export --format onnx`): every shipped classifier runs in
// ONNX Runtime Web (npm, in node: an implementation no one here wrote) and gives the native
// CLI's probability and attention weights within 1e-4, on the same token ids.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import * as ort from 'onnxruntime-web';
import { ROOT, imdbTestReviews, missingData, nativePredictions, runCli, vocabularyOf } from './helpers.mjs';

ort.env.wasm.numThreads = 1;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlens-onnx-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SENTENCES = [
  'A wonderful film, though the ending was not good.',
  'Dull, slow and far too long.',
  'I laughed, I cried — best of the year! 🎬',
  'zxqv unknown wordz everywhere',
];

for (const name of ['bilstm-attention', 'gru-attention', 'lstm', 'cnn', 'transformer']) {
  test(`${name}: ONNX Runtime Web gives the native outputs`, async (t) => {
    const model = path.join(ROOT, `models/${name}.safetensors`);
    const onnxFile = path.join(tmp, `${name}.onnx`);
    runCli(['export', '--format', 'onnx', '--model', model, '--out', onnxFile]);
    const session = await ort.InferenceSession.create(fs.readFileSync(onnxFile));
    const reviews = await imdbTestReviews(20);
    if (!reviews) t.diagnostic('IMDB not found: checking the fixed sentences only');
    if (!reviews && process.env.CI === 'true') missingData(t, 'IMDB');
    const texts = [...SENTENCES, ...(reviews ?? []).map((r) => r.replace(/[\r\n]+/g, ' '))];
    const native = nativePredictions(texts, model);
    const vocabulary = new Map(vocabularyOf(model).map((word, id) => [word, id]));
    let largest = 0, largestAttention = 0;
    for (const prediction of native) {
      const ids = prediction.tokens.map((token) => BigInt(vocabulary.get(token.text) ?? 1));
      const out = await session.run({ token_ids: new ort.Tensor('int64', BigInt64Array.from(ids), [1, ids.length]) });
      largest = Math.max(largest, Math.abs(out.probability.data[0] - prediction.probability));
      assert.ok(Math.abs(out.logit.data[0] - prediction.logit) < 1e-3, `logit ${out.logit.data[0]} vs ${prediction.logit}`);
      if (prediction.explanation === 'attention') {
        assert.equal(out.attention.data.length, ids.length);
        prediction.tokens.forEach((token, i) => { largestAttention = Math.max(largestAttention, Math.abs(out.attention.data[i] - token.weight)); });
      }
    }
    t.diagnostic(`${texts.length} texts: largest probability difference ${largest.toExponential(2)}`
      + (largestAttention ? `, attention ${largestAttention.toExponential(2)}` : ''));
    assert.ok(largest < 1e-4, `probability differs by ${largest}`);
    assert.ok(largestAttention < 1e-4, `attention differs by ${largestAttention}`);
  });
}

// The page's default joins an n-gram path to its network: the graph takes the features each review
// has (its words' and n-grams' vocabulary ids, found outside as the ONNX metadata's ngram_rows says).
test('gru-attention-ngrams: the n-gram path in ONNX (features as a second input) gives the native outputs', async (t) => {
  const model = path.join(ROOT, 'models/gru-attention-ngrams.safetensors');
  const onnxFile = path.join(tmp, 'gru-attention-ngrams.onnx');
  runCli(['export', '--format', 'onnx', '--model', model, '--out', onnxFile]);
  const session = await ort.InferenceSession.create(fs.readFileSync(onnxFile));
  assert.deepEqual([...session.inputNames].sort(), ['ngram_rows', 'token_ids']);
  const reviews = await imdbTestReviews(20);
  if (!reviews && process.env.CI === 'true') missingData(t, 'IMDB');
  const texts = [...SENTENCES, 'not good at all , not good', ...(reviews ?? []).map((r) => r.replace(/[\r\n]+/g, ' '))];
  const native = nativePredictions(texts, model);
  const nativeAttention = nativePredictions(texts, model, ['--explanation', 'attention']);  // auto gives the contributions
  const words = vocabularyOf(model);
  const vocabulary = new Map(words.map((word, id) => [word, id]));
  const order = 3;
  let largest = 0, largestAttention = 0, withNgrams = 0;
  for (const [index, prediction] of native.entries()) {
    const ids = prediction.tokens.map((token) => vocabulary.get(token.text) ?? 1);
    const features = new Set();
    ids.forEach((id, i) => {
      if (id !== 0) features.add(id);  // every word, <unk> too
      for (let n = 2; n <= order && i + n <= ids.length; n++) {
        const row = vocabulary.get(ids.slice(i, i + n).map((w) => words[w]).join(' '));
        if (row !== undefined && row >= 2) features.add(row);
      }
    });
    if ([...features].some((row) => words[row].includes(' '))) withNgrams += 1;
    const rows = features.size ? [...features] : [0];  // 0 (<pad>) pads: its weight there is 0
    const out = await session.run({
      token_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      ngram_rows: new ort.Tensor('int64', BigInt64Array.from(rows.map(BigInt)), [1, rows.length]),
    });
    largest = Math.max(largest, Math.abs(out.probability.data[0] - prediction.probability));
    assert.ok(Math.abs(out.logit.data[0] - prediction.logit) < 1e-3, `logit ${out.logit.data[0]} vs ${prediction.logit}`);
    assert.equal(out.attention.data.length, ids.length);
    nativeAttention[index].tokens.forEach((token, i) => {
      largestAttention = Math.max(largestAttention, Math.abs(out.attention.data[i] - token.weight));
    });
  }
  t.diagnostic(`${texts.length} texts (${withNgrams} with n-grams): largest probability difference ${largest.toExponential(2)}, `
    + `attention ${largestAttention.toExponential(2)}`);
  assert.ok(withNgrams > texts.length / 2, 'most texts have n-grams of the vocabulary');
  assert.ok(largest < 1e-4, `probability differs by ${largest}`);
  assert.ok(largestAttention < 1e-4, `attention differs by ${largestAttention}`);
});

test('export: translators and bad arguments are refused with a clear message', () => {
  const fails = (args) => {
    try {
      runCli(args);
    } catch (error) {
      return error.message;
    }
    return 'no error';
  };
  assert.match(fails(['export', '--format', 'tflite', '--model', path.join(ROOT, 'models/cnn.safetensors'), '--out', path.join(tmp, 't.onnx')]),
    /tflite not in \{onnx\}/);
  assert.match(fails(['export', '--model', path.join(ROOT, 'models/translate-eng-fra.safetensors'), '--out', path.join(tmp, 'x.onnx')]),
    /only classifiers can be exported/);
  assert.ok(!fs.existsSync(path.join(tmp, 't.onnx')));
});
