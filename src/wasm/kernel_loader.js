// Prepended to each engine's JS (--pre-js; CMakeLists.txt inlines the kernel modules' bytes, see
// src/wasm/kernel_module.cpp): the GEMM, the GEMV, the fused recurrent steps and softmax's exponentials the engine runs,
// chosen at load time.
//
//   'relaxed-simd'  attnlens-kernels-relaxed: its GEMM fuses multiply-adds (f32x4.relaxed_madd).
//                   WebAssembly.validate on it is the feature test (the module holds exactly the
//                   instructions the kernels use): true in Chrome and Edge ≥ 114, Firefox ≥ 145
//                   (the versions issue 19 cites) and node 20 with --experimental-wasm-relaxed-simd;
//                   false in Safari and node 20 without the flag.
//   'simd128'       attnlens-kernels-simd128 everywhere else.
//   'built-in'      the engine's own kernels (clang 14's build of the same source), if neither
//                   module can be instantiated, or when asked for.
// The module is instantiated on this engine's memory before the runtime starts; its functions go
// into the engine's function table, and their indices to the engine when its runtime starts.
// The JS API and the results (within float rounding: 1e-5 is tested) are the same whichever
// runs; Module.kernels says which does. The option
// { kernels: 'simd128' } or { kernels: 'built-in' } caps the choice (for comparisons).
(function checkKernelsOption() {
  var choice = Module['kernels'];
  if (choice !== undefined && ['relaxed-simd', 'simd128', 'built-in'].indexOf(choice) < 0)
    throw new Error("attnlens: the option kernels must be 'relaxed-simd', 'simd128' or 'built-in', not " + choice);
})();
Module['preRun'] = [].concat(Module['preRun'] || [], function attnlensKernelModule() {
  var order = ['relaxed-simd', 'simd128'], sources = [ATTNLENS_KERNELS_RELAXED, ATTNLENS_KERNELS_SIMD128];
  var first = Module['kernels'] === 'built-in' ? order.length : Module['kernels'] === 'simd128' ? 1 : 0;
  Module['kernels'] = 'built-in';
  // Each candidate the runtime validates, best first; one that fails to instantiate gives way to the next.
  var candidates = [];
  for (var k = first; k < order.length; ++k) {
    var text = atob(sources[k]), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; ++i) bytes[i] = text.charCodeAt(i);
    if (WebAssembly.validate(bytes)) candidates.push({ name: order[k], bytes: bytes });
  }
  if (!candidates.length) return;
  addRunDependency('attnlens-kernels');
  var attempt = function (k) {
    if (k === candidates.length) return Promise.resolve();
    return WebAssembly.instantiate(candidates[k].bytes, { env: { memory: wasmMemory } }).then(function (result) {
      var kernels = result.instance.exports, names = ['gemm', 'gemv', 'gru_steps', 'lstm_steps', 'exp_shifted'];
      var index = wasmTable.grow(names.length);
      names.forEach(function (name, i) { wasmTable.set(index + i, kernels[name]); });
      // Handed to the engine once its runtime (and its constructors) has started, before anything runs.
      addOnInit(function () {
        if (_attnlens_use_kernel_module(index, index + 1, index + 2, index + 3, index + 4, kernels['panel_rows']()))
          Module['kernels'] = candidates[k].name;
      });
    }, function (error) {
      err('attnlens: the ' + candidates[k].name + ' kernels could not be loaded: ' + error);
      return attempt(k + 1);
    });
  };
  attempt(0).finally(function () {
    removeRunDependency('attnlens-kernels');
  });
});
