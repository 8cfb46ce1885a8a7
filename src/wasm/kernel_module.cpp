// The kernel modules (inlined into each engine's JS; kernel_loader.js picks one at load time): the
// GEMV, the packed GEMM and the fused recurrent steps of core/simd_kernels.hpp, compiled by
// Debian's clang-19 into a small wasm module of their own, twice (and softmax's exponentials, for self-attention):
//   attnlens-kernels-simd128.wasm  SIMD128, a multiply and an add (runs wherever the engine runs);
//   attnlens-kernels-relaxed.wasm  the GEMM's multiply-add is f32x4.relaxed_madd, fused where the
//                                  CPU has an FMA (ATTNLENS_RELAXED_SIMD=1, -mrelaxed-simd).
//
// Why modules of their own:
// - Relaxed SIMD: Debian's emscripten (3.1.6) compiles with clang 14, which emits the pre-standard
//   relaxed-SIMD opcodes V8 rejects, and its link step parses the module with binaryen 108, which
//   predates the standard ones. clang-19 and wasm-ld-19 emit the standard opcodes.
// - Speed: clang-19's code for the GEMV is faster than clang 14's for the same source. In the
//   engine, predict() at batch 1 in node (bench/ab.mjs, 60 interleaved runs), the engine's own
//   kernels (A) against this module's (B, called across the module boundary), A / B:
//     200 tokens:   bilstm-attention 1.06, gru-attention 1.09, lstm 0.97, cnn 1.04, transformer 1.04
//     1,000 tokens: bilstm-attention 1.10, gru-attention 1.10, lstm 1.11, cnn 1.04, transformer 1.02
//   With 12 accumulators the GEMV kernel alone takes 794–807 ns against 1,009 with 8 (256 × 64,
//   the LSTM's W_hh); clang 14's build of the 12-accumulator GEMV made the engine's recurrent
//   models 20–23 % slower, so the engine's own stays at 8.
//
// Measured on this machine's AMD EPYC (node 20, V8 11.3, kernels called alone on one memory,
// TurboFan code, median of 9 × 20,000 calls): GEMM 256 × 64 × 200 columns, relaxed 128.0 µs,
// SIMD128 127.2 µs (51 GFLOP/s both); GEMV 256 × 64 with 8 accumulators, relaxed 1,119 ns,
// SIMD128 1,009 ns (1,517 and 794 with 12). Zen has two FMA pipes beside two add pipes, so a
// multiply and an add already reach an FMA's throughput there; where adds share the FMA ports
// (Intel since Haswell) or there are more FMA pipes (Apple's), FMA doubles the arithmetic peak.
// So the relaxed module fuses the GEMM's multiply-adds, and its GEMV (a chain of dependent
// fused adds per accumulator, each waiting for the FMA's longer latency) stays SIMD128.
//
// Built with -ffp-contract=off, so only the relaxed GEMM's explicit madd is fused. Both modules
// have no libc, no data and no stack: they import the engine's memory and read and
// write only what their arguments point to. They are linked with a stack of size 0, so a stray
// stack access would trap instead of writing over the engine's memory, and the build checks
// their code never touches a stack pointer (embed_kernel_modules.mjs).
#include "core/simd_kernels.hpp"

namespace {

typedef float f32x4 __attribute__((vector_size(16), aligned(16)));
typedef float f32x4_unaligned __attribute__((vector_size(16), aligned(4)));

// SIMD128, multiply then add.
struct Simd128 {
  using Packet = f32x4;
  static constexpr int kLanes = 4;
  static constexpr int kGemvVectors = 12;
  static Packet load(const float* p) { return *reinterpret_cast<const f32x4_unaligned*>(p); }
  static Packet load_aligned(const float* p) { return *reinterpret_cast<const f32x4*>(p); }
  static void store(float* p, Packet v) { *reinterpret_cast<f32x4_unaligned*>(p) = v; }
  static Packet splat(float s) { return Packet{s, s, s, s}; }
  static Packet madd(Packet a, Packet b, Packet c) { return c + a * b; }
  // The pseudo-minimum and maximum (b < a ? b : a; a < b ? b : a): one x86 instruction each in
  // V8, where f32x4.min and max take several to order NaN and −0 as IEEE's min and max do.
  static Packet max(Packet a, Packet b) { return __builtin_wasm_pmax_f32x4(a, b); }
  static Packet min(Packet a, Packet b) { return __builtin_wasm_pmin_f32x4(a, b); }
  static Packet sigmoid(Packet x, const float* c) { return attnlens::simd::rational_sigmoid<Simd128>(x, c); }
  static Packet tanh(Packet x, const float* c) { return attnlens::simd::rational_tanh<Simd128>(x, c); }
  static Packet shift_into_exponent(Packet v) {
    typedef int i32x4 __attribute__((vector_size(16), aligned(16)));
    return reinterpret_cast<Packet>(reinterpret_cast<i32x4>(v) << 23);
  }
};

#if ATTNLENS_RELAXED_SIMD
struct GemmSimd : Simd128 {
  static Packet madd(Packet a, Packet b, Packet c) { return __builtin_wasm_relaxed_madd_f32x4(a, b, c); }
};
#else
using GemmSimd = Simd128;
#endif

}  // namespace

// The signatures of kernels.cpp's ModuleGemm and ModuleGemv (every argument an i32 in wasm32).
extern "C" {

__attribute__((export_name("gemm"))) void module_gemm(const float* panels, int rows, int cols, const float* bias,
                                                      const float* x, ptrdiff_t ldx, int n, float* y, ptrdiff_t ldy,
                                                      int relu) {
  using namespace attnlens::simd;
  gemm<GemmSimd, kGemmVectors, kGemmTile, kGemmColumnBlock>(panels, rows, cols, bias, x, ldx, n, y, ldy, relu != 0);
}

__attribute__((export_name("gemv"))) void module_gemv(int rows, int cols, const float* w, const float* x, float* y) {
  attnlens::simd::gemv_accumulate<Simd128>(rows, cols, w, x, y);
}

// The fused recurrent steps (simd_kernels.hpp), SIMD128 in both modules: like the GEMV, a chain of
// dependent adds per accumulator.
__attribute__((export_name("gru_steps"))) void module_gru_steps(int H, const attnlens::simd::RecurrentStep* steps,
                                                                int count) {
  attnlens::simd::recurrent_steps<Simd128, 3>(H, steps, count);
}
__attribute__((export_name("lstm_steps"))) void module_lstm_steps(int H, const attnlens::simd::RecurrentStep* steps,
                                                                  int count) {
  attnlens::simd::recurrent_steps<Simd128, 4>(H, steps, count);
}

// Softmax's exponentials in place (self-attention's scores, a column at a time), returning their
// sum: the multiply-adds fused in the relaxed module, like the GEMM's (independent chains: the
// FMA's latency is hidden).
__attribute__((export_name("exp_shifted"))) float module_exp_shifted(float* x, int n, float scale,
                                                                      const float* coefficients) {
  return attnlens::simd::exp_shifted<GemmSimd>(x, n, scale, coefficients);
}

// The panel height the GEMM was compiled for: the engine takes the kernels only if it is its own.
__attribute__((export_name("panel_rows"))) int module_panel_rows() { return attnlens::simd::kGemmVectors * 4; }
}
