// The wasm module under node: the JS API as documented, errors as JS Errors, UTF-16
// offsets, and the same numbers as the native CLI (within 1e-5) on generated text and on
// a few hundred real IMDB reviews.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { DIST, ROOT, imdbTestReviews, loadEngine, loadTrainEngine, missingData, modelBytes, nativePredictions } from './helpers.mjs';

const lens = await loadEngine();
const model = lens.Model.fromBytes(modelBytes());

test('info() describes the shipped model', () => {
  const info = model.info();
  assert.equal(info.architecture, 'bilstm-attention');
  assert.ok(info.vocabularySize > 1000);
  assert.ok(info.testAccuracy >= 0.87, `test accuracy ${info.testAccuracy}`);
  assert.equal(info.testCount, 25000);
  assert.equal(typeof info.provenance.command, 'string');
});

test('classify() returns the documented plain object', () => {
  const text = 'A wonderful, moving film.';
  const result = model.classify(text);
  assert.deepEqual(Object.keys(result).sort(), ['explanation', 'label', 'logit', 'probability', 'tokens']);
  assert.equal(result.explanation, 'attention');
  assert.equal(result.label, 'positive');
  assert.ok(result.probability > 0.5 && result.probability <= 1);
  assert.deepEqual(result.tokens.map((t) => t.text), ['a', 'wonderful', ',', 'moving', 'film', '.']);
  const total = result.tokens.reduce((sum, t) => sum + t.weight, 0);
  assert.ok(Math.abs(total - 1) < 1e-5);
  for (const t of result.tokens) assert.equal(typeof t.oov, 'boolean');
  assert.equal(model.classify('Dreadful. A boring waste of time.').label, 'negative');
  assert.deepEqual(model.classify('').tokens, []);
});

test('predict() is the forward pass alone: one text or a batch of them, the same logits as classify()', () => {
  const texts = ['A wonderful, moving film.', 'Dreadful. A boring waste of time.', '', 'ok'];
  const one = model.predict(texts[0]);
  assert.deepEqual(Object.keys(one).sort(), ['label', 'logit', 'probability']);
  const batch = model.predict(texts);
  assert.equal(batch.length, texts.length);
  texts.forEach((text, i) => {
    const full = model.classify(text);
    assert.equal(batch[i].label, full.label);
    assert.ok(Math.abs(batch[i].logit - full.logit) < 1e-5, `${text}: ${batch[i].logit} vs ${full.logit}`);
    assert.ok(Math.abs(batch[i].probability - full.probability) < 1e-6);
  });
  assert.deepEqual(model.predict([]), []);
  assert.throws(() => model.predict(42), /predict expects a string/);
  assert.throws(() => model.predict(['fine', null]), /predict expects a string/);
});

test('offsets are UTF-16 code units into the string given', () => {
  const text = 'Amélie 😀 was <br />GREAT — l’été 🎬🎬!';
  const { tokens } = model.classify(text);
  assert.deepEqual(tokens.map((t) => text.slice(t.start, t.end)),
    ['Amélie', '😀', 'was', 'GREAT', '—', 'l’été', '🎬', '🎬', '!']);
  assert.equal(tokens[3].text, 'great');
  // A lone surrogate cannot be UTF-8 encoded; it reads as U+FFFD and keeps every offset.
  const odd = 'bad \ud800 film';
  assert.deepEqual(model.classify(odd).tokens.map((t) => odd.slice(t.start, t.end)), ['bad', '\ud800', 'film']);
});

test('bad model bytes throw a JS Error with the loader message, not an abort', () => {
  assert.throws(() => lens.Model.fromBytes(new Uint8Array([1, 2, 3])), /too short to hold the 8-byte header length/);
  const bytes = modelBytes();
  bytes[0] ^= 0x55;  // header length now points elsewhere
  assert.throws(() => lens.Model.fromBytes(bytes), /attnlens: model: /);
  const truncated = modelBytes().subarray(0, 100000);
  assert.throws(() => lens.Model.fromBytes(truncated), /header length|past the/);
  assert.throws(() => lens.Model.fromBytes('not bytes'), /expects a Uint8Array/);
  assert.throws(() => model.classify(42), /expects a string/);
  // The module is still usable afterwards.
  assert.equal(model.classify('great').tokens.length, 1);
});

test('a config asking for gigabytes of weights is refused before they are allocated (memory bombs)', () => {
  // The shipped model's file with its config swapped: 4,096-wide embeddings and 24 Transformer
  // layers of 16,384 feed-forward units, 5 G values (20 GB) that the file's tensors do not hold.
  const bytes = modelBytes();
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  const config = JSON.parse(header.__metadata__.config);
  Object.assign(config, { architecture: 'transformer', embedding_dim: 4096, pooling: 'mean',
    encoder: [{ type: 'transformer', layers: 24, heads: 64, feedforward: 16384 }] });
  header.__metadata__.config = JSON.stringify(config);
  const text = new TextEncoder().encode(JSON.stringify(header));
  const bomb = new Uint8Array(8 + text.length + bytes.length - 8 - length);
  new DataView(bomb.buffer).setBigUint64(0, BigInt(text.length), true);
  bomb.set(text, 8);
  bomb.set(bytes.subarray(8 + length), 8 + text.length);
  assert.throws(() => lens.Model.fromBytes(bomb),
    /the config's sizes need more weights than the file holds: embedding\.weight \(10000 × 4096\) alone needs 40960000 values/);
  assert.equal(model.classify('great').tokens.length, 1, 'the module is still usable');
});

// The shipped model's file with its header changed by `change(header)`.
function craftedModel(change) {
  const bytes = modelBytes();
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  change(header);
  const text = new TextEncoder().encode(JSON.stringify(header));
  const crafted = new Uint8Array(8 + text.length + bytes.length - 8 - length);
  new DataView(crafted.buffer).setBigUint64(0, BigInt(text.length), true);
  crafted.set(text, 8);
  crafted.set(bytes.subarray(8 + length), 8 + text.length);
  return crafted;
}

test('no model file grows the module\'s memory by more than twice its size (every size field)', async (t) => {
  // Each file goes to a fresh module; its memory (which only grows) may end at most
  // 2 × the file (its copy in the module, the weights built from it) + 96 MiB above where it began,
  // as natively (tests/test_safetensors.cpp).
  const many = 1 << 20;
  const words = ['<pad>', '<unk>'];
  for (let i = 2; i < many; ++i) words.push(`w${i}`);
  const vocabulary = JSON.stringify(words);
  const withConfig = (changes) => (h) => { h.__metadata__.config = JSON.stringify({ ...JSON.parse(h.__metadata__.config), ...changes }); };
  const cases = [
    ['config.vocab_size 2^20 with 2^20 words', (h) => { withConfig({ vocab_size: many })(h); h.__metadata__.vocabulary = vocabulary; },
      /need more weights than the file holds: embedding\.weight/],
    ['config.embedding_dim 4096', withConfig({ embedding_dim: 4096 }), /need more weights than the file holds: embedding\.weight/],
    ['an encoder layer of 4096', withConfig({ encoder: [{ type: 'lstm', size: 4096, bidirectional: true }] }), /need more weights than the file holds: rnn\./],
    ['24 Transformer layers of 16,384', withConfig({ encoder: [{ type: 'transformer', layers: 24, heads: 64, feedforward: 16384 }], pooling: 'mean' }),
      /need more weights than the file holds: encoder\.layers\.0/],
    ['a 4096 × 64 convolution', withConfig({ encoder: [{ type: 'conv1d', size: 4096, kernel_size: 64 }], pooling: 'max' }), /need more weights than the file holds: conv0/],
    ['dense layers of 4096', withConfig({ dense: [4096, 4096, 4096, 4096] }), /need more weights than the file holds: dense/],
    ['2^20 words where config.vocab_size is 10000', (h) => { h.__metadata__.vocabulary = vocabulary; },
      /__metadata__\.vocabulary has more than 10000 words, config\.vocab_size is 10000/],
    ['200,000 tensors', (h) => { for (let i = 0; i < 200000; ++i) h[`t${i}`] = { dtype: 'F32', shape: [0], data_offsets: [0, 0] }; },
      /header holds more than 65536 JSON values/],
    ['a provenance of 8,000,000 numbers', (h) => { h.__metadata__.provenance = `[${'0,'.repeat(7999999)}0]`; },
      /__metadata__\.provenance holds more than 65536 JSON values/],
    ['a 16,000,000-character description', (h) => { h.__metadata__.description = 'x'.repeat(16000000); }, null],
  ];
  for (const [what, change, expected] of cases) {
    const bytes = craftedModel(change);
    const engine = await loadEngine();
    const before = engine.HEAPU8.buffer.byteLength;
    if (expected) assert.throws(() => engine.Model.fromBytes(bytes), expected, what);
    else engine.Model.fromBytes(bytes).delete();
    const growth = engine.HEAPU8.buffer.byteLength - before;
    t.diagnostic(`${what}: ${bytes.length.toLocaleString('en')} bytes, memory grew by ${growth.toLocaleString('en')}`);
    assert.ok(growth <= 2 * bytes.length + 96 * 2 ** 20, `${what}: ${bytes.length} bytes grew the memory by ${growth}`);
    const good = engine.Model.fromBytes(modelBytes());
    assert.equal(good.classify('great').tokens.length, 1, `${what}: the module still works`);
    good.delete();
  }
});

function expectSameAsNative(texts) {
  const native = nativePredictions(texts);
  assert.equal(native.length, texts.length);
  let worst = 0;
  texts.forEach((text, i) => {
    const ours = model.classify(text);
    const theirs = native[i];
    assert.equal(ours.label, theirs.label, `label differs on text ${i}`);
    worst = Math.max(worst, Math.abs(ours.probability - theirs.probability));
    assert.equal(ours.tokens.length, theirs.tokens.length, `token count differs on text ${i}`);
    const bytes = Buffer.from(text, 'utf8');
    ours.tokens.forEach((t, k) => {
      const n = theirs.tokens[k];
      assert.equal(t.text, n.text);
      assert.equal(t.oov, n.oov);
      worst = Math.max(worst, Math.abs(t.weight - n.weight));
      // The UTF-16 span and the native byte span cover the same characters.
      assert.equal(text.slice(t.start, t.end), bytes.subarray(n.start, n.end).toString('utf8'));
    });
  });
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
  return worst;
}

test('same probability and weights as the native CLI on generated text', () => {
  const words = ['great', 'awful', 'not', 'movie', 'the', 'plot', 'zzyzx', 'Émile', '😀', ',', '!', "don't", '<br />', 'l’été'];
  let seed = 7;
  const next = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; };
  const texts = Array.from({ length: 200 }, () =>
    Array.from({ length: 1 + (next() % 120) }, () => words[next() % words.length]).join(next() % 3 ? ' ' : ''));
  expectSameAsNative(texts);
});

test('same probability and weights as the native CLI on 300 IMDB test reviews', async (t) => {
  const reviews = await imdbTestReviews(300);
  if (!reviews) return missingData(t, 'IMDB test reviews');
  const worst = expectSameAsNative(reviews.map((r) => r.replace(/[\r\n]+/g, ' ')));
  t.diagnostic(`largest |wasm − native| over probabilities and weights: ${worst.toExponential(2)}`);
});

test('a model with an n-gram path (models/ngram-path/) runs in the page\'s engine as natively: its logit, its contributions', () => {
  const file = path.join(ROOT, 'models', 'ngram-path', 'gru-attention.safetensors');
  const joined = lens.Model.fromBytes(new Uint8Array(fs.readFileSync(file)));
  const texts = ['Slow at first, but ultimately deeply moving.', 'not good at all , not good', '', 'zzyzx qwerty'];
  const native = nativePredictions(texts, file);
  texts.forEach((text, i) => {
    const ours = joined.classify(text);
    assert.ok(Math.abs(ours.logit - native[i].logit) < 1e-5, `text ${i}: ${ours.logit} against ${native[i].logit}`);
    assert.equal(ours.explanation, 'contribution');  // auto: the attention's part and the path's, per token
    assert.equal(native[i].explanation, 'contribution');
    ours.tokens.forEach((t, k) => assert.ok(Math.abs(t.weight - native[i].tokens[k].weight) < 1e-5));
  });
  // The path moves the logit: the network alone (the shipped gru-attention) reads the first text otherwise.
  const network = lens.Model.fromBytes(new Uint8Array(fs.readFileSync(path.join(ROOT, 'models', 'gru-attention.safetensors'))));
  assert.ok(Math.abs(network.predict(texts[0]).logit - joined.predict(texts[0]).logit) > 1e-3);
  network.delete();
  joined.delete();
});

test('every shipped model loads; attention models explain here, the others by gradient × input in the engine with gradients', async () => {
  const { models } = JSON.parse(fs.readFileSync(path.join(DIST, 'models.json'), 'utf8'));
  assert.ok(models.includes('bilstm-attention'));
  const full = await loadTrainEngine();
  assert.equal(lens.hasGradients, false);
  assert.equal(full.hasGradients, true);
  const text = 'Slow at first, but ultimately deeply moving.';
  for (const name of models) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(ROOT, 'models', `${name}.safetensors`)));
    const other = lens.Model.fromBytes(bytes);
    const info = other.info();
    // One model per architecture, under its name; the page's default joins an n-gram path to one.
    assert.equal(info.architecture, info.ngramPath ? name.replace(/-ngrams$/, '') : name);
    assert.ok(info.testAccuracy >= 0.87, `${name}: ${info.testAccuracy}`);
    // The same model in the engine with gradients: the same forward pass, the same attention.
    const withGradients = full.Model.fromBytes(bytes);
    const result = withGradients.classify(text);
    const contributions = info.hasAttention && info.ngramPath > 0;  // auto: signed parts of the logit, not shares
    assert.equal(result.explanation, contributions ? 'contribution' : info.hasAttention ? 'attention' : 'gradient×input');
    const total = result.tokens.reduce((sum, t) => sum + t.weight, 0);
    if (!contributions) assert.ok(Math.abs(total - 1) < 1e-4, `${name}: weights sum to ${total}`);
    assert.ok(Math.abs(other.predict(text).logit - result.logit) < 1e-5, `${name}: the two engines' logits differ`);
    if (info.hasAttention) {
      const here = other.classify(text);
      here.tokens.forEach((t, k) => assert.ok(Math.abs(t.weight - result.tokens[k].weight) < 1e-6, `${name}: token ${k}`));
    } else {
      assert.throws(() => other.classify(text), new RegExp(`the ${name} model explains by gradient × input, and this build of attnlens has no gradients`));
      assert.equal(other.predict(text).label, result.label);  // and the engine is still usable
    }
    withGradients.delete();
    if (info.transformerLayers > 0) {
      for (let layer = 0; layer < info.transformerLayers; ++layer) {
        for (const head of [-1, 0]) {
          const received = other.selfAttention('A truly wonderful film.', layer, head);
          assert.equal(received.length, 5);
          assert.ok(Math.abs(received.reduce((a, b) => a + b, 0) - 1) < 1e-4);  // rows of attention sum to 1
        }
      }
      // A text without tokens receives nothing (not the last text's attention).
      assert.deepEqual([...other.selfAttention('   ', 0, -1)], []);
      assert.throws(() => other.selfAttention('', info.transformerLayers, -1), /layer \d+ does not exist/);
      assert.throws(() => other.selfAttention('x', info.transformerLayers, -1), /layer \d+ does not exist/);
      assert.throws(() => other.selfAttention('x', 0, info.transformerHeads), /head \d+ does not exist/);
    } else {
      assert.throws(() => other.selfAttention('x', 0, -1), /has no Transformer encoder/);
    }
    other.delete();
  }
});

test('classify(text, {explanation, layer, head}) chooses the weights, in both engines, with clear errors', async () => {
  const full = await loadTrainEngine();
  const text = 'A truly wonderful film, if a little long.';
  const load = (lens, name) => lens.Model.fromBytes(new Uint8Array(fs.readFileSync(path.join(ROOT, `models/${name}.safetensors`))));
  // An attention model: its attention by default and on request; gradient × input in the engine with gradients.
  const small = load(lens, 'bilstm-attention');
  const big = load(full, 'bilstm-attention');
  assert.deepEqual(small.classify(text, { explanation: 'attention' }).tokens, small.classify(text).tokens);
  const saliency = big.classify(text, { explanation: 'gradient-x-input' });
  assert.equal(saliency.explanation, 'gradient×input');
  assert.ok(Math.abs(saliency.tokens.reduce((a, t) => a + t.weight, 0) - 1) < 1e-6);
  assert.ok(Math.abs(saliency.logit - small.classify(text).logit) < 1e-5);
  assert.throws(() => small.classify(text, { explanation: 'gradient-x-input' }), /has no gradients/);
  assert.throws(() => small.classify(text, { explanation: 'shapley' }), /unknown explanation "shapley": use auto, attention, gradient-x-input or contribution/);
  assert.throws(() => small.classify(text, 'attention'), /options must be an object/);
  assert.throws(() => small.classify(text, { layer: 0.5 }), /layer must be a whole number/);
  // A Transformer: the self-attention each token receives, in the small engine, equal to selfAttention().
  const transformer = load(lens, 'transformer');
  const layers = transformer.info().transformerLayers;
  for (const [layer, head] of [[-1, -1], [0, 1]]) {
    const result = transformer.classify(text, { explanation: 'attention', layer, head });
    assert.equal(result.explanation, 'self-attention');
    assert.equal(result.attentionLayer, layer < 0 ? layers - 1 : layer);
    assert.equal(result.attentionHead, head);
    const received = transformer.selfAttention(text, result.attentionLayer, head);
    result.tokens.forEach((t, k) => assert.ok(Math.abs(t.weight - received[k]) < 1e-7));
  }
  // A model with no attention of any kind says so.
  const lstm = load(full, 'lstm');
  assert.throws(() => lstm.classify(text, { explanation: 'attention' }), /the lstm model has no attention to show/);
  for (const model of [small, big, transformer, lstm]) model.delete();
});

// A Transformer's self-attention is L × L per head and layer: kept only when a backward pass may
// follow. Predicting, and explaining by the attention each word receives, take memory linear in
// the length; the engine with gradients keeps the matrices, and a text too long for them is a
// clear error that leaves the module usable.
test('a 10,000-token review in every model within 100 MiB of wasm memory; the Transformer explains it by its self-attention; out of memory is a clear error', async (t) => {
  const text = 'a truly great film, '.repeat(2000);
  for (const name of ['transformer', 'bilstm-attention', 'gru-attention', 'lstm', 'cnn']) {
    const engine = await loadEngine();  // a module of its own: its memory is this model's alone
    const model = engine.Model.fromBytes(new Uint8Array(fs.readFileSync(path.join(DIST, `${name}.safetensors`))));
    const score = model.predict(text);
    if (name === 'transformer') {
      const explained = model.classify(text, { explanation: 'attention' });
      assert.equal(explained.tokens.length, 10000);
      assert.equal(explained.explanation, 'self-attention');
      assert.ok(Math.abs(explained.tokens.reduce((sum, t) => sum + t.weight, 0) - 1) < 1e-4);
      assert.ok(Math.abs(explained.logit - score.logit) < 1e-5);
    }
    // Wasm memory never shrinks: its size is the run's peak, rounded up by emscripten's growth
    // steps. Whole L × L matrices would take 4 heads × 10,000² floats (1.6 GB) per layer.
    const memory = engine.HEAPU8.buffer.byteLength;
    t.diagnostic(`${name}: the module's memory after 10,000 tokens: ${(memory / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(memory <= 100 * 2 ** 20, `${name}: the module's memory is ${memory} bytes`);
    model.delete();
  }

  const train = await loadTrainEngine();
  const withGradients = train.Model.fromBytes(new Uint8Array(fs.readFileSync(path.join(DIST, 'transformer.safetensors'))));
  // Gradient × input keeps every head's L × L matrix: past 512 MiB a layer (5,792 tokens for 4
  // heads, which runs in about 1.5 GB) it is refused by name before anything is allocated.
  assert.throws(() => withGradients.classify('a truly great film, '.repeat(6000), { explanation: 'gradient-x-input' }),
    /attnlens: encoder\.layers\.0\.self_attn: keeping the attention of a text of 30000 tokens .* needs 13732\.9 MiB .* at most 5792 tokens here/);
  // Unless asked for gradient × input by name: by default such a text explains by the
  // self-attention each token receives.
  const long = withGradients.classify('a truly great film, '.repeat(1200));
  assert.equal(long.explanation, 'self-attention');
  assert.equal(long.tokens.length, 6000);
  assert.equal(withGradients.classify('a truly great film.').explanation, 'gradient×input');
  assert.equal(withGradients.classify('a truly great film.').tokens.length, 5);
  withGradients.delete();

  // A text too long for any memory wasm has (four million tokens through the GRU, over 1 KB each:
  // the embeddings, both directions' outputs and the two stacked) runs out of it: a clear JS
  // error, and the module goes on working.
  const engine = await loadEngine();
  const gru = engine.Model.fromBytes(new Uint8Array(fs.readFileSync(path.join(DIST, 'gru-attention.safetensors'))));
  assert.throws(() => gru.predict('a '.repeat(4000000)), /^Error: attnlens: out of memory: this call needs more memory than the browser gives this module/);
  assert.equal(gru.classify('a truly great film.').tokens.length, 5);
  gru.delete();
});

test('odd text classifies, or explains why not, on every shipped model: empty, spaces, lone surrogates, combining marks, right-to-left, zero-width, 1 MB', async () => {
  const train = await loadTrainEngine();  // the engine with gradients: every model's default explanation
  const odd = {
    empty: '',
    whitespace: ' \n\t\r\u00a0\u3000 ',
    surrogates: '\ud800 good \udfff bad \udc00\ud800 \ud83d',
    combining: `e${'\u0301'.repeat(500)} good o\u0308\u0332 film`,
    'right-to-left': '\u202eסרט טוב\u202c فيلم رائع good \u200f!',
    'zero-width': '\u200bgood\u200d\ufeffbad\u2060 \u200c',
    controls: 'good\u0000film\u0007\u001b[31m bad\u007f',
  };
  const check = (what, text, result) => {
    assert.ok(result.label === 'positive' || result.label === 'negative', `${what}: label ${result.label}`);
    assert.ok(result.probability >= 0 && result.probability <= 1, `${what}: probability ${result.probability}`);
    let end = 0;
    for (const token of result.tokens) {
      assert.ok(token.start >= end && token.start < token.end && token.end <= text.length, `${what}: token ${JSON.stringify(token)}`);
      assert.ok(Number.isFinite(token.weight), `${what}: weight ${token.weight}`);
      end = token.end;
    }
  };
  for (const name of ['bilstm-attention', 'gru-attention', 'lstm', 'cnn', 'transformer']) {
    const m = train.Model.fromBytes(new Uint8Array(fs.readFileSync(path.join(DIST, `${name}.safetensors`))));
    for (const [what, text] of Object.entries(odd)) check(`${name}, ${what}`, text, m.classify(text));
    assert.deepEqual(m.classify('').tokens, []);
    m.delete();
  }
  // 1 MB in the page's engine: 262,145 tokens, classified whole (a few seconds), the module usable after.
  const big = 'a truly great film, '.repeat(52429);
  assert.ok(big.length > 1_000_000);
  const result = model.classify(big);
  check('1 MB', big, result);
  assert.equal(result.tokens.length, 262145);
  assert.equal(model.classify('great').tokens.length, 1);
});
