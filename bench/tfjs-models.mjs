// The shipped classifiers rebuilt in TensorFlow.js ops from the same .safetensors weights, for
// the benchmark's TF.js columns (and a whole-model parity check: bench/run.mjs compares every
// logit with attnlens's before it times anything). The graphs follow the engine's definitions
// (src/models/classifier.cpp and the layers): PyTorch's LSTM and GRU equations, Conv1d with
// "same" padding, max-pooling windows that start at step 0, the tutorials' tanh attention
// pooling, and the pre-norm Transformer encoder with sinusoidal positions.
// Inputs are unpadded batches [B, T] of token ids (every review in a batch has T tokens).
import fs from 'node:fs';

// Every tensor of a safetensors file as float32 (I8 tensors times their per-row scales).
export function readWeights(file) {
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  const data = bytes.subarray(8 + headerLength);
  const raw = (entry) => data.subarray(entry.data_offsets[0], entry.data_offsets[1]);
  const f32 = (entry) => { const b = raw(entry); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); };
  const weights = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__' || name.endsWith('.scale')) continue;
    let values;
    if (entry.dtype === 'F32') {
      values = f32(entry);
    } else if (entry.dtype === 'I8') {
      const scales = f32(header[`${name}.scale`]);
      const q = new Int8Array(raw(entry).buffer, raw(entry).byteOffset, raw(entry).length);
      const columns = q.length / entry.shape[0];
      values = Float32Array.from(q, (v, i) => v * scales[Math.floor(i / columns)]);
    } else {
      throw new Error(`${file}: tensor ${name} is ${entry.dtype}; this reader takes F32 and I8`);
    }
    weights.set(name, { shape: entry.shape, values });
  }
  return { config: JSON.parse(header.__metadata__.config), weights };
}

// forward(ids: Int32Array of B·T ids, B, T) → Float32Array of B logits; logits(…) → the tensor
// (for training: with {trainable: true} the weights are tf.variables, except those named in
// `frozen`; trainStep(ids, B, T, labels) takes one Adam step on the mean binary cross-entropy).
export function buildTfjsClassifier(tf, file, { trainable = false, frozen = [] } = {}) {
  const { config, weights } = readWeights(file);
  const w = (name) => {
    const entry = weights.get(name);
    if (!entry) throw new Error(`${file}: no tensor ${name}`);
    return tf.tensor(entry.values, entry.shape);
  };
  const keep = [];
  const param = (name) => {
    const t = trainable && !frozen.includes(name) ? tf.tidy(() => tf.variable(w(name))) : w(name);
    keep.push(t);
    return t;
  };
  const E = config.embedding_dim;
  const embedding = param('embedding.weight');
  const linear = (x2d, weight, bias) => tf.add(tf.matMul(x2d, weight, false, true), bias);  // x Wᵀ + b

  // One recurrent direction over x [B, T, C] → [B, T, H].
  function recurrent(type, x, suffix, reverse) {
    const [B, T, C] = x.shape;
    const wih = param(`rnn.weight_ih${suffix}`), whh = param(`rnn.weight_hh${suffix}`);
    const bih = param(`rnn.bias_ih${suffix}`), bhh = param(`rnn.bias_hh${suffix}`);
    const H = whh.shape[1];
    const projected = tf.reshape(linear(tf.reshape(x, [B * T, C]), wih, bih), [B, T, -1]);  // all input projections at once
    const steps = tf.unstack(projected, 1);
    let h = tf.zeros([B, H]), c = tf.zeros([B, H]);
    const outputs = new Array(T);
    for (let s = 0; s < T; ++s) {
      const t = reverse ? T - 1 - s : s;
      const hidden = linear(h, whh, bhh);
      if (type === 'lstm') {
        const [i, f, g, o] = tf.split(tf.add(steps[t], hidden), 4, 1);
        c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        h = tf.mul(tf.sigmoid(o), tf.tanh(c));
      } else {
        const [xr, xz, xn] = tf.split(steps[t], 3, 1), [hr, hz, hn] = tf.split(hidden, 3, 1);
        const r = tf.sigmoid(tf.add(xr, hr)), z = tf.sigmoid(tf.add(xz, hz));
        const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
        h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
      }
      outputs[t] = h;
    }
    return tf.stack(outputs, 1);
  }

  function layerNorm(x, prefix) {  // over the last axis, ε = 1e-5
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), param(`${prefix}.weight`)), param(`${prefix}.bias`));
  }

  // Weights are made once; the layer functions below only read them.
  const encoders = [];
  let rnnIndex = 0, convIndex = 0;
  for (const spec of config.encoder) {
    if (spec.type === 'lstm' || spec.type === 'gru') {
      const suffix = `_l${rnnIndex++}`;
      const directions = spec.bidirectional ? [[suffix, false], [`${suffix}_reverse`, true]] : [[suffix, false]];
      encoders.push((x) => tf.concat(directions.map(([sfx, reverse]) => recurrent(spec.type, x, sfx, reverse)), 2));
    } else if (spec.type === 'conv1d') {
      const name = `conv${convIndex++}`;
      const transposed = tf.tidy(() => tf.transpose(w(`${name}.weight`), [2, 1, 0]));  // [F, C, k] → [k, C, F]
      const filter = trainable ? tf.variable(transposed) : transposed;
      if (trainable) transposed.dispose();
      keep.push(filter);
      const bias = param(`${name}.bias`);
      if (spec.padding !== 'same') throw new Error('only "same" convolutions are rebuilt');
      encoders.push((x) => tf.add(tf.conv1d(x, filter, 1, 'same'), bias));
    } else if (spec.type === 'relu') {
      encoders.push((x) => tf.relu(x));
    } else if (spec.type === 'maxpool1d') {
      const size = spec.pool_size;
      encoders.push((x) => {  // windows start at step 0; a partial last window takes the max of what it has
        const [B, T, C] = x.shape;
        const padded = T % size ? tf.pad(x, [[0, 0], [0, size - (T % size)], [0, 0]], -Infinity) : x;
        return tf.reshape(tf.maxPool(tf.reshape(padded, [B, -1, 1, C]), [size, 1], [size, 1], 'valid'), [B, -1, C]);
      });
    } else if (spec.type === 'transformer') {
      const d = E / spec.heads;
      for (let l = 0; l < spec.layers; ++l) {
        const p = `encoder.layers.${l}`;
        const win = param(`${p}.self_attn.in_proj_weight`), bin = param(`${p}.self_attn.in_proj_bias`);
        const wout = param(`${p}.self_attn.out_proj.weight`), bout = param(`${p}.self_attn.out_proj.bias`);
        const w1 = param(`${p}.linear1.weight`), b1 = param(`${p}.linear1.bias`);
        const w2 = param(`${p}.linear2.weight`), b2 = param(`${p}.linear2.bias`);
        encoders.push((x) => {
          const [B, T] = x.shape;
          const heads = (m) => tf.transpose(tf.reshape(m, [B, T, spec.heads, d]), [0, 2, 1, 3]);  // [B, heads, T, d]
          const qkv = linear(tf.reshape(layerNorm(x, `${p}.norm1`), [B * T, E]), win, bin);
          const [q, k, v] = tf.split(tf.reshape(qkv, [B, T, 3 * E]), 3, 2).map(heads);
          const attention = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(d)));
          const context = tf.reshape(tf.transpose(tf.matMul(attention, v), [0, 2, 1, 3]), [B * T, E]);
          const h = tf.add(x, tf.reshape(linear(context, wout, bout), [B, T, E]));
          const hidden = tf.relu(linear(tf.reshape(layerNorm(h, `${p}.norm2`), [B * T, E]), w1, b1));
          return tf.add(h, tf.reshape(linear(hidden, w2, b2), [B, T, E]));
        });
      }
      encoders.push((x) => layerNorm(x, 'encoder.norm'));
    } else {
      throw new Error(`encoder layer ${spec.type} is not rebuilt`);
    }
  }
  const hasTransformer = config.encoder.some((s) => s.type === 'transformer');
  const positions = (T) => {  // PE[t, 2i] = sin(t / 10000^(2i/E)), PE[t, 2i+1] = cos(…)
    const pe = new Float32Array(T * E);
    for (let t = 0; t < T; ++t)
      for (let i = 0; i < E; ++i) {
        const angle = t / 10000 ** ((i - (i % 2)) / E);
        pe[t * E + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
      }
    return tf.tensor(pe, [1, T, E]);
  };
  const attentionWeight = config.pooling === 'attention' ? param('attention.weight') : null;
  const attentionBias = config.pooling === 'attention' ? param('attention.bias') : null;
  const dense = config.dense.map((_, i) => [param(`dense${i}.weight`), param(`dense${i}.bias`)]);
  const fc = [param('fc.weight'), param('fc.bias')];

  function logits(ids, B, T) {
    {
      let x = tf.reshape(tf.gather(embedding, tf.tensor1d(ids, 'int32')), [B, T, E]);
      if (hasTransformer) x = tf.add(tf.mul(x, Math.sqrt(E)), positions(T));
      for (const layer of encoders) x = layer(x);
      const C = x.shape[2];
      let pooled;
      if (config.pooling === 'attention') {
        const scores = tf.tanh(tf.reshape(linear(tf.reshape(x, [-1, C]), attentionWeight, attentionBias), [B, -1]));
        pooled = tf.sum(tf.mul(tf.expandDims(tf.softmax(scores), 2), x), 1);
      } else if (config.pooling === 'max') {
        pooled = tf.max(x, 1);
      } else if (config.pooling === 'mean') {
        pooled = tf.mean(x, 1);
      } else {
        pooled = tf.squeeze(tf.slice(x, [0, x.shape[1] - 1, 0], [B, 1, C]), [1]);
      }
      for (const [weight, bias] of dense) pooled = tf.relu(linear(pooled, weight, bias));
      return tf.reshape(linear(pooled, fc[0], fc[1]), [B]);
    }
  }
  function forward(ids, B, T) {
    const result = tf.tidy(() => logits(ids, B, T));
    const out = result.dataSync();
    result.dispose();
    return out;
  }
  const optimizer = trainable ? tf.train.adam(1e-3) : null;
  function trainStep(ids, B, T, labels) {
    const targets = tf.tensor1d(labels, 'float32');
    const loss = optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(targets, logits(ids, B, T)), true);
    const value = loss.dataSync()[0];
    loss.dispose();
    targets.dispose();
    return value;
  }
  return { config, forward, logits, trainStep, dispose: () => { keep.forEach((t) => t.dispose()); optimizer?.dispose(); } };
}
