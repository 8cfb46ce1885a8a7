// The kernel modules alone: each kernel of the SIMD128 and relaxed-SIMD modules inlined in
// web/dist/attnlens.js, on the shapes the shipped models give it, with nothing of the engine
// around it (one memory, the kernels called straight from JS). For trying a change to
// src/core/simd_kernels.hpp without the whole benchmark: build, run this, compare.
//
//   node --experimental-wasm-relaxed-simd bench/kernels.mjs [--calls N] [--repeats R] [MODULE.wasm …]
//
// MODULE.wasm: kernel modules to time instead (a variant built by hand with clang-19, as CMakeLists.txt
// builds build/wasm/kernels/attnlens-kernels-*.wasm); each must export what the engine's do.
// Each kernel runs for half a second first (V8 compiles wasm in a baseline tier, then optimises),
// then R times N calls; the median of the R is reported. Without the flag the relaxed module is
// skipped. The numbers in the kernels' comments (simd_kernels.hpp, kernel_module.cpp) and in the
// README's speed section that say "the kernel alone" come from this or its ad-hoc forerunners.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { headerTable, kernelModuleBytes } from '../web/tests/kernel-results.mjs';

const { values: args, positionals: files } = parseArgs({ allowPositionals: true,
  options: { calls: { type: 'string', default: '20000' }, repeats: { type: 'string', default: '9' } } });
const CALLS = Number(args.calls), REPEATS = Number(args.repeats);
if (!(CALLS >= 1 && REPEATS >= 1)) throw new Error('--calls and --repeats take positive numbers');

const H = 64;                          // the shipped recurrent models' hidden size (both directions)
const GEMM = { rows: 256, cols: 64, n: 200 };  // a projection of 64 inputs to 256 rows, 200 tokens
const GEMV = { rows: 256, cols: 64 };  // the LSTM's W_hh
const EXP_VALUES = 1000;               // one query's scores over a 1,000-token text

function time(fn) {
  const started = performance.now();
  while (performance.now() - started < 500) fn();
  const runs = [];
  for (let r = 0; r < REPEATS; ++r) {
    const t0 = performance.now();
    for (let i = 0; i < CALLS; ++i) fn();
    runs.push((performance.now() - t0) / CALLS);
  }
  runs.sort((a, b) => a - b);
  return runs[runs.length >> 1];  // ms per call
}

function measure(bytes) {
  if (!WebAssembly.validate(bytes)) return null;
  const memory = new WebAssembly.Memory({ initial: 256 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const f32 = new Float32Array(memory.buffer), i32 = new Int32Array(memory.buffer);
  let top = 0;
  const alloc = (floats, fill = () => Math.random() - 0.5) => {  // 64-byte aligned, in floats
    const at = top;
    top += Math.ceil(floats / 16) * 16;
    for (let i = 0; i < floats; ++i) f32[at + i] = fill(i);
    return at;
  };
  const gates = headerTable('kGateCoefficients'), exps = headerTable('kExpCoefficients');
  const gateTable = alloc(gates.length, (i) => gates[i]), expTable = alloc(exps.length, (i) => exps[i]);

  const P = k.panel_rows();
  const panels = alloc(Math.ceil(GEMM.rows / P) * P * GEMM.cols), bias = alloc(GEMM.rows);
  const x = alloc(GEMM.cols * GEMM.n), y = alloc(GEMM.rows * GEMM.n, () => 0);
  const gemm = time(() => k.gemm(panels * 4, GEMM.rows, GEMM.cols, bias * 4, x * 4, GEMM.cols, GEMM.n, y * 4, GEMM.rows, 0));

  const w = alloc(GEMV.rows * GEMV.cols), v = alloc(GEMV.cols), out = alloc(GEMV.rows, () => 0);
  const gemv = time(() => k.gemv(GEMV.rows, GEMV.cols, w * 4, v * 4, out * 4));

  // Two directions of a bidirectional layer's step: RecurrentStep is 7 pointers (simd_kernels.hpp).
  const steps = (gateCount) => {
    const at = alloc(14, () => 0);
    for (let d = 0; d < 2; ++d) {
      const hidden = alloc(H, () => 0.1 * (Math.random() - 0.5));
      const pointers = [alloc(gateCount * H * H, () => 0.1 * (Math.random() - 0.5)), alloc(gateCount * H),
        alloc(gateCount * H), hidden, alloc(H, () => 0), gateCount === 4 ? alloc(H) : 0, gateTable];
      pointers.forEach((p, i) => { i32[at + 7 * d + i] = p * 4; });
    }
    return at * 4;
  };
  const gruSteps = steps(3), lstmSteps = steps(4);
  const gru = time(() => k.gru_steps(H, gruSteps, 2)), lstm = time(() => k.lstm_steps(H, lstmSteps, 2));

  // exp_shifted works in place: after the first call the values are e^(…) in (0, 1], the same work.
  const scores = alloc(EXP_VALUES, () => 8 * (Math.random() - 0.5));
  const exp = time(() => k.exp_shifted(scores * 4, EXP_VALUES, 0.25, expTable * 4));
  if (top * 4 > memory.buffer.byteLength) throw new Error('bench/kernels.mjs: the buffers outgrew the memory');

  return {
    gemm: `${(gemm * 1e3).toFixed(1)} µs, ${(2 * GEMM.rows * GEMM.cols * GEMM.n / (gemm * 1e6)).toFixed(1)} GFLOP/s`,
    gemv: `${(gemv * 1e6).toFixed(0)} ns`,
    gru_steps: `${(gru * 1e6).toFixed(0)} ns`,
    lstm_steps: `${(lstm * 1e6).toFixed(0)} ns`,
    exp_shifted: `${(exp * 1e6 / EXP_VALUES).toFixed(3)} ns a value`,
  };
}

const shapes = {
  gemm: `${GEMM.rows} × ${GEMM.cols} by ${GEMM.n} columns`,
  gemv: `${GEMV.rows} × ${GEMV.cols}`,
  gru_steps: `H = ${H}, two directions`,
  lstm_steps: `H = ${H}, two directions`,
  exp_shifted: `${EXP_VALUES} values`,
};
const modules = files.length
  ? files.map((file) => [path.basename(file), measure(fs.readFileSync(file))])
  : ['simd128', 'relaxed'].map((which) => [which, measure(kernelModuleBytes(which))]);
console.log(`| kernel | shape | ${modules.map(([which]) => which).join(' | ')} |`);
console.log(`|---|---|${modules.map(() => '---:').join('|')}|`);
for (const name of Object.keys(shapes))
  console.log(`| ${name} | ${shapes[name]} | ${modules.map(([, r]) => r?.[name] ?? 'not valid in this node (relaxed SIMD needs --experimental-wasm-relaxed-simd)').join(' | ')} |`);
console.log(`\nmedian of ${REPEATS} × ${CALLS.toLocaleString('en')} calls after 0.5 s of warm-up each, node ${process.version}`);
