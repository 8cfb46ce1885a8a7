// Cross-implementation parity: TensorFlow.js (pure JS, cpu backend), which no one here
// wrote, computes the same layers on the same weights and inputs; our native layers
// (through tests/layer_probe) must agree within 1e-5.
//  - LSTM, Conv1D, Dense: TF.js's own layers (tf.layers.lstm, conv1d, dense).
//  - GRU: TF.js 4.x's GRUCell rejects resetAfter: true (PyTorch's form), so the reference
//    is PyTorch's equations written with TF.js ops; likewise multi-head self-attention
//    (TF.js has no MultiHeadAttention layer), with a padding mask.
//  - LayerNorm: tf.layers.layerNormalization.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ROOT } from './helpers.mjs';

await tf.setBackend('cpu');
const PROBE = path.join(ROOT, 'build/release/tests/layer_probe');
const TOLERANCE = 1e-5;

let seed = 12345;
function random() {  // uniform in [-0.5, 0.5), seeded
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 - 0.5;
}
const randomArray = (n) => Array.from({ length: n }, random);
const randomInput = (B, T, C) => Array.from({ length: B }, () => Array.from({ length: T }, () => randomArray(C)));

function probe(spec) {
  const run = spawnSync(PROBE, [], { input: JSON.stringify(spec), encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout).output;
}

// Row-major [rows, cols] flat array → its transpose as nested arrays [cols][rows].
function transpose(flat, rows, cols) {
  return Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => flat[r * cols + c]));
}

function maxDifference(a, b) {
  const x = a.flat(Infinity);
  const y = b.flat(Infinity);
  assert.equal(x.length, y.length, 'shapes differ');
  return x.reduce((worst, v, i) => Math.max(worst, Math.abs(v - y[i])), 0);
}

test('LSTM (forward and reverse) matches tf.layers.lstm', () => {
  const B = 2, T = 7, C = 5, H = 4;
  for (const reverse of [false, true]) {
    const [wih, whh, bih, bhh] = [randomArray(4 * H * C), randomArray(4 * H * H), randomArray(4 * H), randomArray(4 * H)];
    const input = randomInput(B, T, C);
    const ours = probe({ layer: 'lstm', input_size: C, size: H, reverse, parameters: [wih, whh, bih, bhh], input });
    // Keras/TF.js: kernel [C, 4H] = W_ihᵀ, recurrent kernel [H, 4H] = W_hhᵀ, one bias = b_ih + b_hh; gates i, f, c, o.
    const layer = tf.layers.lstm({ units: H, returnSequences: true, recurrentActivation: 'sigmoid', goBackwards: reverse });
    layer.apply(tf.zeros([B, T, C]));  // builds the cell (an explicit build() would build it twice)
    layer.setWeights([tf.tensor2d(transpose(wih, 4 * H, C)), tf.tensor2d(transpose(whh, 4 * H, H)),
      tf.tensor1d(bih.map((v, i) => v + bhh[i]))]);
    let theirs = layer.apply(tf.tensor3d(input)).arraySync();
    if (reverse) theirs = theirs.map((steps) => steps.reverse());  // goBackwards emits the reversed order
    const difference = maxDifference(ours, theirs);
    assert.ok(difference < TOLERANCE, `LSTM ${reverse ? 'reverse' : 'forward'}: max difference ${difference}`);
  }
});

test('GRU (PyTorch form, r z n) matches the same equations in TF.js ops', () => {
  const B = 2, T = 6, C = 3, H = 5;
  const [wih, whh, bih, bhh] = [randomArray(3 * H * C), randomArray(3 * H * H), randomArray(3 * H), randomArray(3 * H)];
  const input = randomInput(B, T, C);
  const ours = probe({ layer: 'gru', input_size: C, size: H, parameters: [wih, whh, bih, bhh], input });
  const Wih = tf.tensor2d(wih, [3 * H, C]), Whh = tf.tensor2d(whh, [3 * H, H]);
  const Bih = tf.tensor1d(bih), Bhh = tf.tensor1d(bhh);
  let h = tf.zeros([B, H]);
  const outputs = [];
  for (let t = 0; t < T; ++t) {
    const x = tf.tensor2d(input.map((steps) => steps[t]));
    const gi = tf.add(tf.matMul(x, Wih, false, true), Bih);  // [B, 3H]
    const gh = tf.add(tf.matMul(h, Whh, false, true), Bhh);
    const [ir, iz, inn] = tf.split(gi, 3, 1);
    const [hr, hz, hn] = tf.split(gh, 3, 1);
    const r = tf.sigmoid(tf.add(ir, hr));
    const z = tf.sigmoid(tf.add(iz, hz));
    const n = tf.tanh(tf.add(inn, tf.mul(r, hn)));
    h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
    outputs.push(h.arraySync());
  }
  const theirs = Array.from({ length: B }, (_, b) => outputs.map((step) => step[b]));
  const difference = maxDifference(ours, theirs);
  assert.ok(difference < TOLERANCE, `GRU: max difference ${difference}`);
});

test('Conv1D (same and valid, odd and even kernels) matches tf.layers.conv1d', () => {
  const B = 2, T = 9, C = 3, F = 4;
  for (const padding of ['same', 'valid']) {
    for (const k of [5, 4, 1]) {
      const weight = randomArray(F * C * k), bias = randomArray(F);
      const input = randomInput(B, T, C);
      const ours = probe({ layer: 'conv1d', input_size: C, size: F, kernel_size: k, padding, parameters: [weight, bias], input });
      // PyTorch weight [F, C, k] → Keras kernel [k, C, F].
      const kernel = Array.from({ length: k }, (_, j) => Array.from({ length: C }, (_, c) =>
        Array.from({ length: F }, (_, f) => weight[(f * C + c) * k + j])));
      const layer = tf.layers.conv1d({ filters: F, kernelSize: k, padding });
      layer.build([B, T, C]);
      layer.setWeights([tf.tensor3d(kernel), tf.tensor1d(bias)]);
      const theirs = layer.apply(tf.tensor3d(input)).arraySync();
      const difference = maxDifference(ours, theirs);
      assert.ok(difference < TOLERANCE, `Conv1D ${padding} k=${k}: max difference ${difference}`);
    }
  }
});

test('Dense matches tf.layers.dense', () => {
  const B = 3, C = 6, H = 4;
  const weight = randomArray(H * C), bias = randomArray(H);
  const input = randomInput(B, 1, C);
  const ours = probe({ layer: 'dense', input_size: C, size: H, parameters: [weight, bias], input });
  const layer = tf.layers.dense({ units: H });
  layer.build([B, C]);
  layer.setWeights([tf.tensor2d(transpose(weight, H, C)), tf.tensor1d(bias)]);
  const theirs = layer.apply(tf.tensor2d(input.map((s) => s[0]))).arraySync();
  const difference = maxDifference(ours, theirs);
  assert.ok(difference < TOLERANCE, `Dense: max difference ${difference}`);
});

test('multi-head self-attention with a padding mask matches the same computation in TF.js ops', () => {
  const B = 2, T = 6, E = 8, heads = 2, d = E / heads;
  const lengths = [6, 4];
  const [win, bin, wout, bout] = [randomArray(3 * E * E), randomArray(3 * E), randomArray(E * E), randomArray(E)];
  const input = randomInput(B, T, E);
  const ours = probe({ layer: 'self_attention', input_size: E, size: E, heads, parameters: [win, bin, wout, bout], input, lengths });
  const Win = tf.tensor2d(win, [3 * E, E]), Wout = tf.tensor2d(wout, [E, E]);
  const theirs = input.map((steps, b) => {
    const L = lengths[b];
    const x = tf.tensor2d(steps.slice(0, L));                          // [L, E]
    const qkv = tf.add(tf.matMul(x, Win, false, true), tf.tensor1d(bin));  // [L, 3E]
    const [q, k, v] = tf.split(qkv, 3, 1);
    const headsOut = [];
    for (let h = 0; h < heads; ++h) {
      const slice = (m) => tf.slice(m, [0, h * d], [L, d]);
      const scores = tf.div(tf.matMul(slice(q), slice(k), false, true), Math.sqrt(d));
      headsOut.push(tf.matMul(tf.softmax(scores), slice(v)));           // [L, d]
    }
    const out = tf.add(tf.matMul(tf.concat(headsOut, 1), Wout, false, true), tf.tensor1d(bout)).arraySync();
    return [...out, ...Array.from({ length: T - L }, () => new Array(E).fill(0))];  // padding steps: zero
  });
  const difference = maxDifference(ours, theirs);
  assert.ok(difference < TOLERANCE, `self-attention: max difference ${difference}`);
});

test('LayerNorm matches tf.layers.layerNormalization', () => {
  const B = 2, T = 3, E = 7;
  const gamma = randomArray(E).map((v) => 1 + v), beta = randomArray(E);
  const input = randomInput(B, T, E);
  const ours = probe({ layer: 'layer_norm', input_size: E, size: E, parameters: [gamma, beta], input });
  const layer = tf.layers.layerNormalization({ epsilon: 1e-5 });
  layer.apply(tf.zeros([B, T, E]));
  layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta)]);
  const theirs = layer.apply(tf.tensor3d(input)).arraySync();
  const difference = maxDifference(ours, theirs);
  assert.ok(difference < TOLERANCE, `LayerNorm: max difference ${difference}`);
});
