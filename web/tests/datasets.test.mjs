// The Train view's file reader (web/datasets.js): CSV and TSV, headers, and a clear,
// line-numbered Error for every bad file.
import assert from 'node:assert/strict';
import test from 'node:test';
import { decodeUtf8, parseLabel, parseLabelled, readImdbFolder } from '../datasets.js';

const bytes = (text) => new TextEncoder().encode(text);

test('CSV with quotes, commas and line breaks inside texts, with or without a header', () => {
  const csv = 'text,label\n"Great, really great",pos\n"He said ""meh""\nand left",0\n\nfine film,POSITIVE\r\n';
  const data = parseLabelled(bytes(csv), 'reviews.csv');
  assert.deepEqual(data.texts, ['Great, really great', 'He said "meh"\nand left', 'fine film']);
  assert.deepEqual(data.labels, [1, 0, 1]);
  assert.match(data.source, /reviews\.csv \(3 labelled texts\)/);
  const headerless = parseLabelled(bytes('good,1\nbad,0\n'), 'plain.csv');
  assert.deepEqual(headerless.labels, [1, 0]);
  // Named columns in any order, extra columns ignored.
  const named = parseLabelled(bytes('id,sentiment,review\n1,negative,awful\n2,positive,lovely\n'), 'named.csv');
  assert.deepEqual(named.texts, ['awful', 'lovely']);
  assert.deepEqual(named.labels, [0, 1]);
});

test('TSV: a line is a row, quotes are text; the delimiter comes from the name or the first line', () => {
  const tsv = '"Quoted" start\ttrue\nplain text\tfalse\n';
  assert.deepEqual(parseLabelled(bytes(tsv), 'data.tsv').texts, ['"Quoted" start', 'plain text']);
  assert.deepEqual(parseLabelled(bytes(tsv), 'data.txt').labels, [1, 0]);
  assert.deepEqual(parseLabelled(bytes('\uFEFFtext\tlabel\nok\t1\nno\t0'), 'bom.tsv').texts, ['ok', 'no']);
});

test('bad files: a message with the file, the line and what to do', () => {
  const bad = [
    ['', 'empty.csv', /empty\.csv: the file is empty/],
    ['\n\n', 'blank.csv', /blank\.csv: the file is empty/],
    ['good,1\nbad\n', 'short.csv', /short\.csv line 2: expected 2 comma-separated columns \(text, label\), found 1/],
    ['good,1\nnice, funny,1\n', 'commas.csv', /line 2: .*found 3 — quote texts that contain commas/],
    ['good,1\nbad,maybe\n', 'labels.csv', /line 2: unknown label 'maybe' \(use 1\/0, pos\/neg/],
    ['1,good\n0,bad\n', 'swapped.csv', /line 1: the label comes first/],
    ['good,1\n  ,0\n', 'blanktext.csv', /line 2: empty text/],
    ['good,1\ngreat,1\n', 'oneclass.csv', /all 2 texts are labelled positive; both labels are needed/],
    ['words,numbers\na,b\n', 'header.csv', /line 1: a header needs a text column/],
    ['a\tb\tc\n', 'three.tsv', /line 1: expected 2 tab-separated columns/],
  ];
  for (const [text, name, message] of bad) assert.throws(() => parseLabelled(bytes(text), name), message, name);
  const latin1 = new Uint8Array([...bytes('good,1\nbad,0\ncaf'), 0xe9, ...bytes(',1\n')]);
  assert.throws(() => parseLabelled(latin1, 'latin1.csv'), /latin1\.csv line 3: not valid UTF-8 \(save the file as UTF-8\)/);
  assert.throws(() => decodeUtf8(new Uint8Array([0xff]), 'x'), /x line 1: not valid UTF-8/);
  assert.equal(parseLabel(' Neg '), 0);
  assert.equal(parseLabel('2'), undefined);
});

test('an aclImdb folder: train/pos and train/neg only, unreadable files skipped', async () => {
  const file = (relative, content) => ({ webkitRelativePath: relative, name: relative.split('/').at(-1),
    arrayBuffer: async () => (content instanceof Uint8Array ? content : bytes(content)).buffer });
  const files = [
    file('aclImdb/train/pos/0_9.txt', 'loved it'), file('aclImdb/train/neg/1_2.txt', 'hated it'),
    file('aclImdb/train/neg/2_1.txt', new Uint8Array([0xff, 0xfe])), file('aclImdb/test/pos/3_8.txt', 'test review'),
    file('aclImdb/train/unsup/4_0.txt', 'unlabelled'), file('aclImdb/README', 'readme'),
  ];
  const data = await readImdbFolder(files);
  assert.deepEqual(data.texts, ['loved it', 'hated it']);
  assert.deepEqual(data.labels, [1, 0]);
  assert.equal(data.skipped, 1);
  assert.match(data.source, /aclImdb\/train\/\{pos,neg\} \(2 reviews\)/);
  await assert.rejects(readImdbFolder([file('photos/cat.jpg', 'x')]), /photos: no pos\/\*\.txt or neg\/\*\.txt files/);
});
