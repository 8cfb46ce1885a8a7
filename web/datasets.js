// Labelled texts from the visitor's files, for the Train view (used in the training worker;
// nothing here touches the DOM). Every problem is an Error that names the file and the line.
//   parseLabelled(bytes, name)   CSV (RFC 4180, via d3-dsv) or TSV: a text column and a label column
//   readImdbFolder(files)        an aclImdb-style folder: …/pos/*.txt and …/neg/*.txt (train/ when there is one)
// Both return {texts, labels (0/1), skipped, source}.
import { csvParseRows } from './dist/vendor/d3-dsv.min.mjs';

// The label words the native reader accepts too (src/data/labelled.cpp: parse_label).
const LABELS = new Map([['1', 1], ['pos', 1], ['positive', 1], ['true', 1], ['0', 0], ['neg', 0], ['negative', 0], ['false', 0]]);
const LABEL_HELP = 'use 1/0, pos/neg, positive/negative or true/false';
const TEXT_HEADERS = new Set(['text', 'review', 'sentence', 'content', 'comment']);
const LABEL_HEADERS = new Set(['label', 'sentiment', 'polarity', 'class', 'target']);
export const MAX_FILE_BYTES = 200 * 1024 * 1024;

export function parseLabel(value) {
  return LABELS.get(String(value).trim().toLowerCase());
}

// The text of a UTF-8 file (a BOM is dropped); invalid UTF-8 is an Error with its line number.
export function decodeUtf8(bytes, name) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let line = 1, start = 0;
    for (let i = 0; i <= bytes.length; ++i) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue;
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        throw new Error(`${name} line ${line}: not valid UTF-8 (save the file as UTF-8)`);
      }
      ++line;
      start = i + 1;
    }
    throw new Error(`${name}: not valid UTF-8 (save the file as UTF-8)`);
  }
}

// Rows with the line each starts on (quoted CSV fields may hold line breaks).
function rowsOf(text, delimiter) {
  const rows = [];
  if (delimiter === '\t') {  // TSV has no quoting: a line is a row
    text.split('\n').forEach((line, i) => rows.push({ fields: line.replace(/\r$/, '').split('\t'), line: i + 1 }));
  } else {
    let line = 1;
    for (const fields of csvParseRows(text)) {
      rows.push({ fields, line });
      line += 1 + fields.reduce((n, f) => n + (f.match(/\n/g)?.length ?? 0), 0);
    }
  }
  return rows.filter((row) => !(row.fields.length === 1 && row.fields[0].trim() === ''));
}

function delimiterOf(text, name) {
  if (/\.(tsv|tab)$/i.test(name)) return '\t';
  if (/\.csv$/i.test(name)) return ',';
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  return firstLine.includes('\t') ? '\t' : ',';
}

export function parseLabelled(bytes, name) {
  if (bytes.length === 0) throw new Error(`${name}: the file is empty`);
  if (bytes.length > MAX_FILE_BYTES) throw new Error(`${name}: larger than ${MAX_FILE_BYTES >> 20} MB`);
  const text = decodeUtf8(bytes, name).replace(/^\uFEFF/, '');
  const delimiter = delimiterOf(text, name);
  const kind = delimiter === '\t' ? 'tab-separated' : 'comma-separated';
  const rows = rowsOf(text, delimiter);
  if (!rows.length) throw new Error(`${name}: the file is empty`);

  // A header names the columns; without one the columns are text, label.
  let textColumn = 0, labelColumn = 1, columns = 2, first = 0;
  const header = rows[0].fields.map((f) => f.trim().toLowerCase());
  const namedText = header.findIndex((h) => TEXT_HEADERS.has(h));
  const namedLabel = header.findIndex((h) => LABEL_HEADERS.has(h));
  if (namedText >= 0 && namedLabel >= 0) {
    [textColumn, labelColumn, columns, first] = [namedText, namedLabel, header.length, 1];
  } else if (header.length === 2 && parseLabel(header[1]) === undefined && parseLabel(header[0]) === undefined) {
    throw new Error(`${name} line ${rows[0].line}: a header needs a text column (text, review, sentence…) and a label `
      + `column (label, sentiment…), or leave the header out and give text${delimiter === '\t' ? '<TAB>' : ','}label`);
  }
  const texts = [], labels = [];
  for (const { fields, line } of rows.slice(first)) {
    const where = `${name} line ${line}`;
    if (fields.length !== columns) {
      throw new Error(`${where}: expected ${columns} ${kind} columns (${first ? header.join(', ') : 'text, label'}), found ${fields.length}`
        + (columns === 2 && fields.length > 2 && delimiter === ',' ? ' — quote texts that contain commas' : ''));
    }
    const label = parseLabel(fields[labelColumn]);
    if (label === undefined) {
      if (!first && parseLabel(fields[0]) !== undefined) throw new Error(`${where}: the label comes first; expected text, then label`);
      throw new Error(`${where}: unknown label '${fields[labelColumn].slice(0, 40)}' (${LABEL_HELP})`);
    }
    if (!fields[textColumn].trim()) throw new Error(`${where}: empty text`);
    texts.push(fields[textColumn]);
    labels.push(label);
  }
  return checked({ texts, labels, skipped: 0, source: `${name} (${texts.length.toLocaleString('en')} labelled texts)` }, name);
}

function checked(data, name) {
  if (!data.texts.length) throw new Error(`${name}: no labelled texts`);
  const positives = data.labels.reduce((n, l) => n + l, 0);
  if (positives === 0 || positives === data.labels.length) {
    throw new Error(`${name}: all ${data.labels.length} texts are labelled ${positives ? 'positive' : 'negative'}; both labels are needed`);
  }
  return data;
}

// files: File objects with webkitRelativePath (a folder picked with <input webkitdirectory>).
export async function readImdbFolder(files) {
  const reviews = [];
  for (const file of files) {
    const parts = (file.webkitRelativePath || file.name).split('/');
    const polarity = parts.at(-2);
    if ((polarity === 'pos' || polarity === 'neg') && /\.txt$/i.test(parts.at(-1))) reviews.push({ file, parts, label: polarity === 'pos' ? 1 : 0 });
  }
  // aclImdb has train/ and test/: train on train/ only.
  const inTrain = reviews.filter((r) => r.parts.at(-3) === 'train');
  const chosen = inTrain.length ? inTrain : reviews;
  const folder = files.length ? (files[0].webkitRelativePath || '').split('/')[0] || 'the folder' : 'the folder';
  if (!chosen.length) throw new Error(`${folder}: no pos/*.txt or neg/*.txt files (expected the aclImdb layout: train/pos, train/neg)`);
  const texts = [], labels = [];
  let skipped = 0;
  for (const review of chosen) {
    const bytes = new Uint8Array(await review.file.arrayBuffer());
    let text;
    try {
      text = decodeUtf8(bytes, review.parts.join('/'));
    } catch {
      ++skipped;  // one unreadable review does not stop the rest
      continue;
    }
    if (!text.trim()) { ++skipped; continue; }
    texts.push(text);
    labels.push(review.label);
  }
  const where = `${folder}/${inTrain.length ? 'train/' : ''}{pos,neg}`;
  return { ...checked({ texts, labels, skipped, source: `${where} (${texts.length.toLocaleString('en')} reviews)` }, folder) };
}
