// The kernel-module comparisons (kernel-compare.mjs) under node, and the kernel modules alone: a
// module with no tests in it, so a child node process (with relaxed SIMD) can import it.
import fs from 'node:fs';
import path from 'node:path';
import { DIST, ROOT } from './helpers.mjs';
import { results as compare } from './kernel-compare.mjs';

export { MODELS, TEXT } from './kernel-compare.mjs';

// An engine under node; kernels: the loader's option (undefined: its own choice).
export async function engine(name, kernels) {
  const { default: create } = await import(path.join(DIST, `${name}.js`));
  return create({ wasmBinary: fs.readFileSync(path.join(DIST, `${name}.wasm`)), ...(kernels ? { kernels } : {}) });
}

export function results(kernels) {
  return compare((name) => engine(name, kernels),
    async (name) => new Uint8Array(fs.readFileSync(path.join(ROOT, 'models', `${name}.safetensors`))));
}

// Whether this node has relaxed SIMD (validates the relaxed kernel module inlined in attnlens.js).
export function nodeHasRelaxedSimd() {
  return WebAssembly.validate(kernelModuleBytes('relaxed'));
}

function kernelModuleBytes(which) {
  const js = fs.readFileSync(path.join(DIST, 'attnlens.js'), 'utf8');
  const base64 = js.match(new RegExp(`ATTNLENS_KERNELS_${which.toUpperCase()}="([^"]+)"`))?.[1];
  if (!base64) throw new Error(`no ${which} kernel module in attnlens.js`);
  return Buffer.from(base64, 'base64');
}

// The kernel modules alone, on every shape class (edge panels and tiles, odd sizes, one row, one
// column, one input, strided x and y), against a float64 reference: the largest error relative to the result's
// scale, for GEMM (with and without bias, with ReLU) and GEMV. which: 'relaxed' or 'simd128', the
// module inlined in web/dist/attnlens.js (the relaxed one needs relaxed SIMD in this node).
export function kernelShapeErrors(which) {
  const memory = new WebAssembly.Memory({ initial: 64 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(kernelModuleBytes(which)), { env: { memory } }).exports;
  const P = k.panel_rows(), f32 = new Float32Array(memory.buffer);
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const fill = (offset, count) => { for (let i = 0; i < count; ++i) f32[offset + i] = random(); };
  let worst = 0;
  const compare = (got, want, scale) => { worst = Math.max(worst, Math.abs(got - want) / Math.max(1, scale)); };
  // Every buffer is followed by a NaN guard, and the gaps of strided x and y are NaN too: a kernel
  // that reads a gap, or writes one or past its end, turns the worst error into NaN.
  const GUARD = 64;
  const untouched = (offset, count) => { for (let i = 0; i < count; ++i) if (!Number.isNaN(f32[offset + i])) worst = NaN; };
  for (const rows of [1, 3, 4, 15, 16, 17, 33, 48, 49, 200])
    for (const cols of [1, 2, 5, 64])
      for (const n of [1, 2, 3, 65, 130])
        for (const [withBias, relu, ldx, ldy] of [[true, 0, cols, rows], [false, 0, cols + 3, rows + 5], [true, 1, cols + 1, rows]]) {
          // W [rows, cols] at 0 (row-major, read by the reference), packed panels after it, then bias, x, y.
          const W = 0, panels = W + rows * cols, panelCount = Math.ceil(rows / P);
          const bias = panels + panelCount * P * cols, x = bias + rows + GUARD, y = x + ldx * n + GUARD;
          f32.fill(NaN, 0, y + ldy * n + GUARD);
          fill(W, rows * cols); fill(bias, rows);
          for (let j = 0; j < n; ++j) fill(x + j * ldx, cols);
          for (let p = 0; p < panelCount; ++p)
            for (let c = 0; c < cols; ++c)
              for (let i = 0; i < P; ++i) {
                const r = p * P + i;
                f32[panels + (p * cols + c) * P + i] = r < rows ? f32[W + r * cols + c] : 0;
              }
          k.gemm(panels * 4, rows, cols, withBias ? bias * 4 : 0, x * 4, ldx, n, y * 4, ldy, relu);
          for (let j = 0; j < n; ++j) {
            for (let r = 0; r < rows; ++r) {
              let sum = withBias ? f32[bias + r] : 0, scale = Math.abs(sum);
              for (let c = 0; c < cols; ++c) { const t = f32[W + r * cols + c] * f32[x + j * ldx + c]; sum += t; scale += Math.abs(t); }
              compare(f32[y + j * ldy + r], relu ? Math.max(0, sum) : sum, scale);
            }
            untouched(y + j * ldy + rows, ldy - rows);
          }
          untouched(y + ldy * n, GUARD);
        }
  for (const rows of [1, 3, 4, 5, 16, 17, 47, 48, 49, 64, 192, 200, 256])
    for (const cols of [1, 2, 7, 64]) {
      const W = 0, x = rows * cols + GUARD, y = x + cols + GUARD;  // W column-major
      f32.fill(NaN, 0, y + rows + GUARD);
      fill(W, rows * cols); fill(x, cols); fill(y, rows);
      const want = Array.from({ length: rows }, (_, r) => {
        let sum = f32[y + r], scale = Math.abs(sum);
        for (let c = 0; c < cols; ++c) { const t = f32[W + c * rows + r] * f32[x + c]; sum += t; scale += Math.abs(t); }
        return [sum, scale];
      });
      k.gemv(rows, cols, W * 4, x * 4, y * 4);
      want.forEach(([sum, scale], r) => compare(f32[y + r], sum, scale));
      untouched(y + rows, GUARD);
    }
  return worst;
}
