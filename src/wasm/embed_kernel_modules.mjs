// Build step (CMakeLists.txt): checks the two kernel modules (src/wasm/kernel_module.cpp) and
// writes the loader with their bytes inlined, the --pre-js of every engine.
//   node --experimental-wasm-relaxed-simd embed_kernel_modules.mjs RELAXED.wasm RELAXED.s \
//        SIMD128.wasm SIMD128.s kernel_loader.js OUT.js
// The checks: V8 compiles both; their code (clang-19's assembly, *.s) never uses the stack pointer
// (they have no stack: they run on the engine's memory); the relaxed one uses f32x4.relaxed_madd
// (in its GEMM: its GEMV and recurrent steps have none) and the SIMD128 one no relaxed
// instruction; each imports only a memory and exports gemm, gemv, gru_steps, lstm_steps, exp_shifted and
// panel_rows.
import fs from 'node:fs';

const [relaxedWasm, relaxedAssembly, simdWasm, simdAssembly, loaderPath, outPath] = process.argv.slice(2);
const fail = (message) => { console.error(`embed_kernel_modules: ${message}`); process.exit(1); };
if (!outPath) fail('usage: RELAXED.wasm RELAXED.s SIMD128.wasm SIMD128.s kernel_loader.js OUT.js');

function checked(wasmPath, assemblyPath, relaxed) {
  const assembly = fs.readFileSync(assemblyPath, 'utf8');
  if (/__stack_pointer/.test(assembly)) fail(`${assemblyPath} uses the stack pointer: the kernels must keep everything in registers`);
  if (relaxed && !/f32x4\.relaxed_madd/.test(assembly)) fail(`${assemblyPath} has no f32x4.relaxed_madd`);
  // The GEMV stays unfused in both (measured faster so on x86; see kernel_module.cpp).
  // So do the fused recurrent steps.
  for (const name of ['module_gemv', 'module_gru_steps', 'module_lstm_steps']) {
    const code = assembly.match(new RegExp(`^${name}:[\\s\\S]*?end_function`, 'm'))?.[0];
    if (!code) fail(`${assemblyPath} has no ${name}`);
    if (/relaxed/.test(code)) fail(`${assemblyPath}: ${name} has a relaxed-SIMD instruction`);
  }
  if (!relaxed && /relaxed/.test(assembly)) fail(`${assemblyPath} has a relaxed-SIMD instruction`);
  const bytes = fs.readFileSync(wasmPath);
  let module;
  try {  // node runs with --experimental-wasm-relaxed-simd: V8 must accept the opcodes clang-19 emitted
    module = new WebAssembly.Module(bytes);
  } catch (error) {
    fail(`V8 rejects ${wasmPath}: ${error.message}`);
  }
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`);
  const exports = WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`).sort();
  if (imports.join() !== 'env.memory:memory') fail(`${wasmPath}: unexpected imports ${imports.join(', ')}`);
  if (exports.join() !== 'exp_shifted:function,gemm:function,gemv:function,gru_steps:function,lstm_steps:function,panel_rows:function') fail(`${wasmPath}: unexpected exports ${exports.join(', ')}`);
  return bytes.toString('base64');
}

const relaxed = checked(relaxedWasm, relaxedAssembly, true), simd128 = checked(simdWasm, simdAssembly, false);
fs.writeFileSync(outPath, `var ATTNLENS_KERNELS_RELAXED = '${relaxed}';\nvar ATTNLENS_KERNELS_SIMD128 = '${simd128}';\n` +
  fs.readFileSync(loaderPath, 'utf8'));
