// Prepended to each engine's JS (--pre-js; CMakeLists.txt inlines the kernel modules' bytes, see
// src/wasm/kernel_module.cpp): the GEMM and GEMV the engine runs, chosen at load time.
//
//   'relaxed-simd'  attnlens-kernels-relaxed: its GEMM fuses multiply-adds (f32x4.relaxed_madd).
//                   WebAssembly.validate on it is the feature test (the module holds exactly the
//                   instructions the kernels use): true in Chrome and Edge ≥ 114, Firefox ≥ 145
//                   and node with --experimental-wasm-relaxed-simd; false in Safari and plain node.
//   'simd128'       attnlens-kernels-simd128 everywhere else.
//   'built-in'      the engine's own kernels (clang 14's build of the same source), if neither
//                   module can be used, or when asked for.
// The module is instantiated on this engine's memory before the runtime starts; its functions go
// into the engine's function table. The JS API and the results (within float rounding: 1e-5 is
// tested) are the same whichever runs; Module.kernels says which does. The option
// { kernels: 'simd128' } or { kernels: 'built-in' } caps the choice (for comparisons).
Module['preRun'] = [].concat(Module['preRun'] || [], function attnlensKernelModule() {
  var order = ['relaxed-simd', 'simd128', 'built-in'], cap = order.indexOf(Module['kernels'] || 'relaxed-simd');
  if (cap < 0) throw new Error("attnlens: the option kernels must be 'relaxed-simd', 'simd128' or 'built-in', not " + Module['kernels']);
  Module['kernels'] = 'built-in';
  var modules = { 'relaxed-simd': ATTNLENS_KERNELS_RELAXED, 'simd128': ATTNLENS_KERNELS_SIMD128 }, bytes = null, name;
  for (var k = cap; k < 2 && !bytes; ++k) {
    var text = atob(modules[order[k]]), candidate = new Uint8Array(text.length);
    for (var i = 0; i < text.length; ++i) candidate[i] = text.charCodeAt(i);
    if (WebAssembly.validate(candidate)) bytes = candidate, name = order[k];
  }
  if (!bytes) return;
  addRunDependency('attnlens-kernels');
  WebAssembly.instantiate(bytes, { env: { memory: wasmMemory } }).then(function (result) {
    var kernels = result.instance.exports, index = wasmTable.grow(2);
    wasmTable.set(index, kernels['gemm']);
    wasmTable.set(index + 1, kernels['gemv']);
    if (_attnlens_use_kernel_module(index, index + 1, kernels['panel_rows']())) Module['kernels'] = name;
  }).catch(function (error) {
    err('attnlens: the ' + name + ' kernels could not be loaded, the built-in ones run: ' + error);
  }).finally(function () {
    removeRunDependency('attnlens-kernels');
  });
});
