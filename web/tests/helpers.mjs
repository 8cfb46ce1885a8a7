// Shared by the web tests: paths, the wasm module under node, the native CLI, test data.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'web/dist');
export const MODEL = path.join(ROOT, 'models/bilstm-attention.safetensors');
export const CLI = path.join(ROOT, 'build/release/attnlens');
export const DATA = process.env.ATTNLENS_DATA || path.resolve(ROOT, '../shared/data');

// options: more emscripten module options, e.g. {kernels: 'simd128'} (src/wasm/kernel_loader.js).
export async function loadEngine(options = {}) {
  const { default: createAttnlens } = await import(path.join(DIST, 'attnlens.js'));
  // Under node, emscripten cannot fetch file paths: hand it the wasm bytes.
  return createAttnlens({ wasmBinary: fs.readFileSync(path.join(DIST, 'attnlens.wasm')), ...options });
}

export const TRANSLATOR = path.join(ROOT, 'models/translate-eng-fra.safetensors');
export const TRANSLATOR_NOATTN = path.join(ROOT, 'models/translate-eng-fra-noattn.safetensors');

export async function loadTranslateEngine() {
  const { default: create } = await import(path.join(DIST, 'attnlens-translate.js'));
  return create({ wasmBinary: fs.readFileSync(path.join(DIST, 'attnlens-translate.wasm')) });
}

// Runs `attnlens translate --batch --json` (one sentence per line, no newlines inside).
export function nativeTranslations(model, texts, extra = []) {
  const run = runCli(['translate', '--model', model, '--batch', '--json', ...extra], texts.join('\n') + '\n');
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line));
}

export function modelBytes() {
  return new Uint8Array(fs.readFileSync(MODEL));
}

// Runs `attnlens classify --batch --json` on texts (one per line; they must not contain newlines).
export function nativePredictions(texts, model = MODEL, extra = []) {
  const run = runCli(['classify', '--model', model, '--batch', '--json', ...extra], texts.join('\n') + '\n');
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line));
}

// Reviews {text, label} of an IMDB split, evenly spaced (both classes), or null when the data is missing.
export async function imdbReviews(split, count, data = DATA) {
  const archive = [path.join(data, 'imdb/aclImdb-labeled.tar.gz'), path.join(data, 'aclImdb-labeled.tar.gz')]
    .find((p) => fs.existsSync(p));
  const folder = [path.join(data, 'aclImdb'), path.join(data, 'imdb/aclImdb')]
    .find((p) => fs.existsSync(path.join(p, split, 'pos')));
  const reviews = [];
  if (folder) {
    for (const polarity of ['pos', 'neg']) {
      const dir = path.join(folder, split, polarity);
      for (const name of fs.readdirSync(dir).sort()) reviews.push({ text: fs.readFileSync(path.join(dir, name), 'utf8'), label: polarity === 'pos' ? 1 : 0 });
    }
  } else if (archive) {
    const pattern = new RegExp(`aclImdb/${split}/(pos|neg)/\\d+_\\d+\\.txt$`);
    await tar.t({
      file: archive,
      filter: (p) => pattern.test(p),
      onReadEntry: (entry) => {
        const chunks = [];
        const label = entry.path.includes('/pos/') ? 1 : 0;
        entry.on('data', (c) => chunks.push(c));
        entry.on('end', () => reviews.push({ text: Buffer.concat(chunks).toString('utf8'), label }));
      },
    });
  } else {
    return null;
  }
  const step = reviews.length / count;
  return Array.from({ length: count }, (_, i) => reviews[Math.floor(i * step)]);
}

export async function imdbTestReviews(count) {
  return (await imdbReviews('test', count))?.map((r) => r.text) ?? null;
}

export const imdbTrainReviews = (count, data) => imdbReviews('train', count, data);

// Missing data: a skip with a message, except under CI=true, where it is a failure.
export function missingData(t, what) {
  const message = `${what} not found under ${DATA}: put the IMDB data in ../shared/data/imdb/ or set ATTNLENS_DATA`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
  t.skip(message);
}

export async function loadTrainEngine(options = {}) {
  const { default: create } = await import(path.join(DIST, 'attnlens-train.js'));
  return create({ wasmBinary: fs.readFileSync(path.join(DIST, 'attnlens-train.wasm')), ...options });
}

// The float32 tensors and the metadata of a safetensors file (enough for comparing weights).
export function readSafetensors(bytes) {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(buffer.readBigUInt64LE(0));
  const header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8'));
  const tensors = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (entry.dtype !== 'F32') throw new Error(`${name}: dtype ${entry.dtype}`);
    const [begin, end] = entry.data_offsets;
    const data = buffer.subarray(8 + headerLength + begin, 8 + headerLength + end);
    tensors[name] = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  }
  return { tensors, metadata: header.__metadata__ ?? {} };
}

// The vocabulary (words in id order) from a model file's safetensors header, whatever its weight storage.
// A model file's vocabulary: its words, then, stored compactly in the U8 tensor vocabulary.ngrams
// (src/text/ngram_list.hpp), its n-grams, each its words joined by one space.
export function vocabularyOf(file) {
  const bytes = fs.readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
  const words = JSON.parse(header.__metadata__.vocabulary);
  const list = header['vocabulary.ngrams'];
  if (!list) return words;
  const data = bytes.subarray(8 + length + list.data_offsets[0], 8 + length + list.data_offsets[1]);
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = data[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const counts = { 2: varint(), 3: varint() };
  const vocabulary = [...words];
  for (const n of [2, 3]) {
    const ids = [0, 0, 0];  // against the n-gram before, of the same length
    for (let i = 0; i < counts[n]; i++) {
      const head = varint();
      const k = head % n;
      ids[k] += Math.floor(head / n);
      for (let j = k + 1; j < n; j++) ids[j] = varint();
      vocabulary.push(ids.slice(0, n).map((id) => words[id]).join(' '));
    }
  }
  return vocabulary;
}

// Runs the native CLI; throws with its stderr when it fails.
export function runCli(args, input) {
  const run = spawnSync(CLI, args, { input, maxBuffer: 1 << 30, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`attnlens ${args[0]} failed: ${run.stderr}`);
  return run;
}
