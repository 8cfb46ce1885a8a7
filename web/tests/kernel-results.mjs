// What web/tests/kernels.test.mjs compares across the kernel modules (src/wasm/kernel_loader.js):
// a module of its own, with no tests in it, so a child node process can import it.
import fs from 'node:fs';
import path from 'node:path';
import { DIST, ROOT } from './helpers.mjs';

export const MODELS = ['bilstm-attention', 'gru-attention', 'lstm', 'cnn', 'transformer'];
export const TEXT = 'A wonderful, moving film: the acting is superb, though the plot drags and the ending is weak. ' +
  'I would still watch it again, for the music and the photography alone.';

export async function engine(name, kernels) {
  const { default: create } = await import(path.join(DIST, `${name}.js`));
  return create({ wasmBinary: fs.readFileSync(path.join(DIST, `${name}.wasm`)), ...(kernels ? { kernels } : {}) });
}

// Every shipped model's logit and per-token weights (attention, or gradient × input in the
// engine with gradients), and the first loss of a few training steps: plain numbers to compare.
export async function results(kernels) {
  const lens = await engine('attnlens', kernels), train = await engine('attnlens-train', kernels);
  const out = { kernels: [lens.kernels, train.kernels], models: {} };
  for (const name of MODELS) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(ROOT, 'models', `${name}.safetensors`)));
    const model = lens.Model.fromBytes(bytes), withGradients = train.Model.fromBytes(bytes);
    const classified = withGradients.classify(TEXT);
    out.models[name] = {
      logits: model.predict([TEXT, TEXT.slice(0, 40), 'bad']).map((p) => p.logit),
      // The small engine explains the attention models; the others by gradients (below).
      weights: model.info().hasAttention ? model.classify(TEXT).tokens.map((t) => t.weight) : [],
      gradients: classified.tokens.map((t) => t.weight),
      logit: classified.logit,
    };
    model.delete();
    withGradients.delete();
  }
  const texts = Array.from({ length: 16 }, (_, i) => `${i % 2 ? 'a great and moving' : 'a dull and boring'} film, number ${i}`);
  const bytes = new Uint8Array(fs.readFileSync(path.join(ROOT, 'models', 'cnn.safetensors')));
  const trainer = train.Trainer.fromBytes(bytes, texts, texts.map((_, i) => i % 2), { batchSize: 8, validationFraction: 0, seed: 1 });
  out.losses = [trainer.step().loss, trainer.step().loss];
  trainer.delete();
  return out;
}


// The kernel modules alone, on every shape class (edge panels and tiles, odd sizes, one row, one
// column, one input), against a float64 reference: the largest error relative to the result's
// scale, for GEMM (with and without bias, with ReLU) and GEMV. which: 'relaxed' or 'simd128', the
// module inlined in web/dist/attnlens.js (the relaxed one needs relaxed SIMD in this node).
export function kernelShapeErrors(which) {
  const js = fs.readFileSync(path.join(DIST, 'attnlens.js'), 'utf8');
  const base64 = js.match(new RegExp(`ATTNLENS_KERNELS_${which.toUpperCase()}="([^"]+)"`))?.[1];
  if (!base64) throw new Error(`no ${which} kernel module in attnlens.js`);
  const memory = new WebAssembly.Memory({ initial: 64 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, 'base64')), { env: { memory } }).exports;
  const P = k.panel_rows(), f32 = new Float32Array(memory.buffer);
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const fill = (offset, count) => { for (let i = 0; i < count; ++i) f32[offset + i] = random(); };
  let worst = 0;
  const compare = (got, want, scale) => { worst = Math.max(worst, Math.abs(got - want) / Math.max(1, scale)); };
  for (const rows of [1, 3, 4, 15, 16, 17, 33, 48, 49, 200])
    for (const cols of [1, 2, 5, 64])
      for (const n of [1, 2, 3, 65, 130])
        for (const [withBias, relu] of [[true, 0], [false, 0], [true, 1]]) {
          // W [rows, cols] at 0 (row-major, read by the reference), packed panels after it, then bias, x, y.
          const W = 0, panels = W + rows * cols, panelCount = Math.ceil(rows / P);
          const bias = panels + panelCount * P * cols, x = bias + rows, y = x + cols * n;
          fill(W, rows * cols); fill(bias, rows); fill(x, cols * n); f32.fill(NaN, y, y + rows * n);
          for (let p = 0; p < panelCount; ++p)
            for (let c = 0; c < cols; ++c)
              for (let i = 0; i < P; ++i) {
                const r = p * P + i;
                f32[panels + (p * cols + c) * P + i] = r < rows ? f32[W + r * cols + c] : 0;
              }
          k.gemm(panels * 4, rows, cols, withBias ? bias * 4 : 0, x * 4, cols, n, y * 4, rows, relu);
          for (let j = 0; j < n; ++j)
            for (let r = 0; r < rows; ++r) {
              let sum = withBias ? f32[bias + r] : 0, scale = Math.abs(sum);
              for (let c = 0; c < cols; ++c) { const t = f32[W + r * cols + c] * f32[x + j * cols + c]; sum += t; scale += Math.abs(t); }
              compare(f32[y + j * rows + r], relu ? Math.max(0, sum) : sum, scale);
            }
        }
  for (const rows of [1, 3, 4, 5, 16, 17, 47, 48, 49, 64, 192, 200, 256])
    for (const cols of [1, 2, 7, 64]) {
      const W = 0, x = rows * cols, y = x + cols;  // W column-major
      fill(W, rows * cols); fill(x, cols); fill(y, rows);
      const want = Array.from({ length: rows }, (_, r) => {
        let sum = f32[y + r], scale = Math.abs(sum);
        for (let c = 0; c < cols; ++c) { const t = f32[W + c * rows + r] * f32[x + c]; sum += t; scale += Math.abs(t); }
        return [sum, scale];
      });
      k.gemv(rows, cols, W * 4, x * 4, y * 4);
      want.forEach(([sum, scale], r) => compare(f32[y + r], sum, scale));
    }
  return worst;
}
