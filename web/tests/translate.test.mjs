// The translator's wasm module under node: the documented API, UTF-16 offsets, hostile
// input, and the same translations and attention as the native CLI.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { TRANSLATOR, TRANSLATOR_NOATTN, loadTranslateEngine, nativeTranslations } from './helpers.mjs';

const lens = await loadTranslateEngine();
const translator = lens.Translator.fromBytes(new Uint8Array(fs.readFileSync(TRANSLATOR)));
const baseline = lens.Translator.fromBytes(new Uint8Array(fs.readFileSync(TRANSLATOR_NOATTN)));

test('info() describes the shipped translators and credits Tatoeba', () => {
  const info = translator.info();
  assert.equal(info.attention, 'dot');  // the best attention decoder by validation BLEU (models/study/translation)
  assert.equal(info.hasAttention, true);
  assert.equal(info.sourceLanguage, 'en');
  assert.equal(info.targetLanguage, 'fr');
  assert.match(info.credit, /Tatoeba \(tatoeba\.org\), CC-BY 2\.0 FR/);
  assert.ok(info.testBleu >= 35, `test BLEU ${info.testBleu}`);
  assert.ok(info.parameters > 1e6);
  const plain = baseline.info();
  assert.equal(plain.attention, 'none');
  assert.equal(plain.hasAttention, false);
});

test('translate() returns the documented object; attention rows are distributions over the source', () => {
  const text = 'I am cold.';
  const t = translator.translate(text);
  assert.equal(typeof t.translation, 'string');
  assert.ok(t.translation.length > 0);
  assert.deepEqual(t.sourceTokens.map((s) => s.text), ['i', 'am', 'cold', '.']);
  assert.deepEqual(t.sourceTokens.map((s) => text.slice(s.start, s.end)), ['I', 'am', 'cold', '.']);
  assert.equal(t.attention.length, t.targetTokens.length);
  for (const row of t.attention) {
    assert.equal(row.length, t.sourceTokens.length);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.ok(row.every((w) => w >= 0 && w <= 1));
  }
  assert.equal(typeof t.logProbability, 'number');
  assert.equal(t.truncated, false);
  // The baseline has no attention to show.
  const b = baseline.translate(text);
  assert.ok(b.translation.length > 0);
  assert.deepEqual(b.attention, []);
  // Greedy is the default; beam search is an option.
  assert.deepEqual(translator.translate(text, { beam: 1 }).targetTokens, t.targetTokens);
  const beam = translator.translate(text, { beam: 5 });
  assert.ok(beam.targetTokens.length > 0);
  assert.equal(beam.attention.length, beam.targetTokens.length);
});

test('offsets are UTF-16 code units; unknown words are marked; empty text gives an empty translation', () => {
  const text = 'Émile 😀 lives in Zqxwv.';
  const t = translator.translate(text);
  assert.deepEqual(t.sourceTokens.map((s) => text.slice(s.start, s.end)), ['Émile', '😀', 'lives', 'in', 'Zqxwv', '.']);
  assert.equal(t.sourceTokens.find((s) => s.text === 'zqxwv').oov, true);
  assert.equal(t.sourceTokens.find((s) => s.text === 'lives').oov, false);
  const empty = translator.translate('   ');
  assert.equal(empty.translation, '');
  assert.deepEqual(empty.sourceTokens, []);
  assert.deepEqual(empty.attention, []);
  const long = translator.translate('word '.repeat(500));
  assert.equal(long.truncated, true);
  assert.equal(long.sourceTokens.length, 200);
});

test('bad bytes, a classifier file and bad options throw JS Errors with the engine message', () => {
  assert.throws(() => lens.Translator.fromBytes(new Uint8Array([1, 2, 3])), /attnlens: translator: .*too short/);
  assert.throws(() => lens.Translator.fromBytes('nope'), /expects a Uint8Array/);
  const classifier = new Uint8Array(fs.readFileSync(new URL('../../models/bilstm-attention.safetensors', import.meta.url)));
  assert.throws(() => lens.Translator.fromBytes(classifier), /format is 'attnlens.classifier', expected 'attnlens.translator'/);
  assert.throws(() => translator.translate(42), /expects a string/);
  assert.throws(() => translator.translate('hi', { beam: 0 }), /beam must be an integer/);
  assert.throws(() => translator.translate('hi', { beam: 'x' }), /beam must be an integer/);
  assert.throws(() => translator.translate('hi', 'fast'), /options must be an object/);
  assert.ok(translator.translate('hi').translation.length > 0);  // still usable
});

test('same translations and attention as the native CLI (greedy and beam 5)', (t) => {
  const words = ['I', 'you', 'we', 'am', 'are', 'not', 'happy', 'the', 'cat', 'house', 'Tom', 'sees', 'a', 'big',
    'dog', 'tomorrow', 'zzyzx', 'Émile', '?', '.', ',', "don't", 'l’été'];
  let seed = 11;
  const next = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; };
  const texts = ['I am cold.', 'She is reading a book in the garden.', 'Can you tell me where the station is?',
    ...Array.from({ length: 60 }, () => Array.from({ length: 1 + (next() % 12) }, () => words[next() % words.length]).join(' '))];
  let worst = 0;
  for (const beam of [1, 5]) {
    const native = nativeTranslations(TRANSLATOR, texts, ['--beam', String(beam)]);
    texts.forEach((text, i) => {
      const ours = translator.translate(text, { beam });
      assert.equal(ours.translation, native[i].translation, `text ${i} (beam ${beam}): ${text}`);
      assert.deepEqual(ours.targetTokens, native[i].target_tokens);
      assert.deepEqual(ours.sourceTokens.map((s) => [s.text, s.oov]), native[i].source_tokens.map((s) => [s.text, s.oov]));
      ours.attention.forEach((row, r) => row.forEach((w, c) => {
        worst = Math.max(worst, Math.abs(w - native[i].attention[r][c]));
      }));
    });
  }
  assert.ok(worst < 1e-5, `largest attention difference ${worst}`);  // the CLI rounds to 1e-6
  t.diagnostic(`largest |wasm − native| attention weight: ${worst.toExponential(2)}`);
});
