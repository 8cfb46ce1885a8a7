/* Empty stand-in for <mmintrin.h>, used only by the wasm build.
 * With -msse4.2, emscripten maps Eigen's SSE kernels onto wasm SIMD, and Eigen then
 * includes <mmintrin.h>, which Debian's emscripten 3.1.6 lacks. Eigen uses nothing
 * from MMX, so an empty header is enough. */
