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

// A float table of src/core/simd_kernels.hpp, the kernels' source (`inline constexpr float
// name[] = {…}`): its values, each term of a sum ("12582912.0f + 127.0f") added.
export function headerTable(name) {
  const header = fs.readFileSync(path.join(ROOT, 'src/core/simd_kernels.hpp'), 'utf8');
  const body = header.match(new RegExp(`${name}\\[\\] = \\{([\\s\\S]*?)\\};`))?.[1];
  if (!body) throw new Error(`simd_kernels.hpp has no table ${name}`);
  const values = body.replace(/\/\/[^\n]*/g, '').split(',').map((v) => v.trim()).filter(Boolean)
    .map((v) => v.split('+').reduce((sum, term) => sum + Number(term.trim().replace(/f$/, '')), 0));
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`${name} not read: ${values}`);
  return values;
}

// The kernel module inlined in web/dist/attnlens.js: which, 'relaxed' or 'simd128'.
export function kernelModuleBytes(which) {
  const js = fs.readFileSync(path.join(DIST, 'attnlens.js'), 'utf8');
  const base64 = js.match(new RegExp(`ATTNLENS_KERNELS_${which.toUpperCase()}="([^"]+)"`))?.[1];
  if (!base64) throw new Error(`no ${which} kernel module in attnlens.js`);
  return Buffer.from(base64, 'base64');
}

// The kernel modules alone, on every shape class (edge panels and tiles, odd sizes, one row, one
// column, one input, strided x and y), against a float64 reference: the largest error relative to the result's
// scale, for GEMM (with and without bias, with ReLU), GEMV, the fused recurrent steps and softmax's exponentials. which: 'relaxed' or 'simd128', the
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
  // The fused recurrent steps (gru_steps, lstm_steps): one step of one direction and of two, for
  // hidden sizes of 1 to 16 vectors (every block shape), against the cells' equations in float64.
  // The gate functions' coefficients and the block heights are read from the header the kernels
  // are built from (the kernel modules hold no data: the engine passes its table's address).
  const header = fs.readFileSync(path.join(ROOT, 'src/core/simd_kernels.hpp'), 'utf8');
  const table = headerTable('kGateCoefficients');
  const height = (cell) => Number(header.match(new RegExp(`#define ATTNLENS_${cell}_STEP_VECTORS (\\d+)`))[1]);
  const sigmoid = (v) => 1 / (1 + Math.exp(-v));
  const coefficients = 0, STEPS = 1024;  // the table at 0, the two steps' arguments at STEPS (7 pointers each)
  const i32 = new Int32Array(memory.buffer);
  for (const [G, name, block] of [[3, 'gru_steps', height('GRU')], [4, 'lstm_steps', height('LSTM')]])
    for (const H of [4, 8, 12, 20, 64])
      for (const count of [1, 2]) {
        f32.fill(NaN, 0, 1 << 18);
        table.forEach((v, i) => { f32[coefficients + i] = v; });
        let next = 2048;
        const take = (n) => { const at = next; next += n + GUARD; return at; };
        const directions = Array.from({ length: count }, () => {
          const d = { W: take(G * H * H), packed: take(G * H * H), bias: take(G * H), projection: take(G * H), hidden: take(H),
            out: take(H), cell: take(H) };
          fill(d.W, G * H * H); fill(d.bias, G * H); fill(d.projection, G * H); fill(d.hidden, H); fill(d.cell, H);
          for (let i = 0; i < G * H; ++i) f32[d.projection + i] *= 4;  // into the gates' saturation now and then
          // PackedRecurrent's layout (4 lanes): blocks of `block` vectors of hidden units, input by input, gate by gate.
          let o = d.packed;
          for (let v0 = 0; v0 < H / 4; v0 += block) {
            const width = Math.min(block, H / 4 - v0) * 4;
            for (let j = 0; j < H; ++j)
              for (let g = 0; g < G; ++g)
                for (let u = 0; u < width; ++u) f32[o++] = f32[d.W + (g * H + v0 * 4 + u) * H + j];  // W row-major
          }
          d.cellIn = Array.from(f32.subarray(d.cell, d.cell + H));
          return d;
        });
        directions.forEach((d, i) => [d.packed, d.bias, d.projection, d.hidden, d.out, d.cell, coefficients]
          .forEach((at, field) => { i32[STEPS + 7 * i + field] = at * 4; }));
        k[name](H, STEPS * 4, count);
        for (const d of directions) {
          const product = (row) => {  // W_hh h for one row, and its scale
            let sum = 0, scale = 0;
            for (let j = 0; j < H; ++j) { const t = f32[d.W + row * H + j] * f32[d.hidden + j]; sum += t; scale += Math.abs(t); }
            return [sum, scale];
          };
          for (let u = 0; u < H; ++u) {
            const pre = (g) => product(g * H + u);
            if (G === 3) {
              const [hr, sr] = pre(0), [hz, sz] = pre(1), [hn, sn] = pre(2);
              const r = sigmoid(f32[d.projection + u] + f32[d.bias + u] + hr);
              const z = sigmoid(f32[d.projection + H + u] + f32[d.bias + H + u] + hz);
              const n = Math.tanh(f32[d.projection + 2 * H + u] + r * (f32[d.bias + 2 * H + u] + hn));
              compare(f32[d.out + u], (1 - z) * n + z * f32[d.hidden + u], 1 + sr + sz + sn);
            } else {
              const [a0, s0] = pre(0), [a1, s1] = pre(1), [a2, s2] = pre(2), [a3, s3] = pre(3);
              const i = sigmoid(f32[d.projection + u] + a0), f = sigmoid(f32[d.projection + H + u] + a1);
              const g = Math.tanh(f32[d.projection + 2 * H + u] + a2), o = sigmoid(f32[d.projection + 3 * H + u] + a3);
              const c = f * d.cellIn[u] + i * g;
              compare(f32[d.cell + u], c, 1 + s0 + s1 + s2 + s3);
              compare(f32[d.out + u], o * Math.tanh(c), 1 + s0 + s1 + s2 + s3);
            }
          }
          untouched(d.out + H, GUARD);
          untouched(d.cell + H, GUARD);
        }
      }
  // Softmax's exponentials (exp_shifted): x ← e^{scale·(x − max)} in place and their sum, for
  // lengths around the vector width and long ones, scores of every spread (past the clamp at
  // −87.3 too), against float64 from the same float inputs. Its constants come from the header.
  const expTable = headerTable('kExpCoefficients');
  if (expTable.length !== 10) throw new Error(`kExpCoefficients not read: ${expTable}`);
  const expFloor = Math.exp(Math.fround(expTable[0]));  // the clamp: e^−87.3, a normal float
  let expWorst = 0;
  for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 64, 1000])
    for (const spread of [1, 30, 1000])
      for (const scale of [1, 0.25]) {
        const coefficientsAt = 0, x = 64;
        f32.fill(NaN, 0, x + n + GUARD);
        expTable.forEach((v, i) => { f32[coefficientsAt + i] = v; });
        for (let i = 0; i < n; ++i) f32[x + i] = random() * spread;
        const inputs = Array.from(f32.subarray(x, x + n)), largest = Math.max(...inputs);
        const want = inputs.map((v) => Math.exp(Math.fround(Math.fround(v - largest) * Math.fround(scale))));
        const sum = k.exp_shifted(x * 4, n, scale, coefficientsAt * 4);
        // Each value relative to itself (at least e^−87.3, where the clamp holds it), the sum relative to n.
        want.forEach((w, i) => { expWorst = Math.max(expWorst, Math.abs(f32[x + i] / Math.max(w, expFloor) - 1)); });
        compare(sum, want.reduce((a, w) => a + Math.max(w, expFloor), 0), n);
        untouched(x + n, GUARD);
      }
  // The exponentials are held to 2.5e-7 relative (the header's 1.9e-7, and the rounding of
  // x − max and its product by scale): counted four times over against the 1e-6 the tests allow.
  return Math.max(worst, 4 * expWorst);
}
