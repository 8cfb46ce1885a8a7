#include "core/kernels.hpp"

#include "core/error.hpp"
#include "core/simd_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#endif

namespace attnlens::kernels {
namespace {

// ---- element by element: the double build and the tails of the float kernels ----

template <class T>
inline T sigmoid1(T x) {
  return T(1) / (T(1) + std::exp(-x));
}
template <class T>
inline T tanh1(T x) {
  return std::tanh(x);
}
template <class T>
inline T exp1(T x) {
  return std::exp(x);
}

// ---- float vectors: Eigen's own packets (AVX-512, AVX or SSE natively; SSE on SIMD128 in wasm) ----
// and the gate functions of simd_kernels.hpp: the rational approximations Eigen's .logistic() and
// .tanh() evaluate (its logistic switches to e^x below −9, where both are within 1e-7), the very
// ones the kernel modules' fused steps compute, so every path of a recurrent step agrees. On the
// targets built here (x86 and wasm) a packet is a GCC/Clang vector type, so + and * work on it.

using Packet = Eigen::internal::packet_traits<float>::type;
constexpr int kLanes = Eigen::internal::packet_traits<float>::size;

inline Packet load(const float* p) { return Eigen::internal::ploadu<Packet>(p); }
inline void store(float* p, const Packet& v) { Eigen::internal::pstoreu(p, v); }
inline Packet splat(float s) { return Eigen::internal::pset1<Packet>(s); }
struct GateSimd {  // what simd::rational_sigmoid and rational_tanh use
  using Packet = attnlens::kernels::Packet;
  static Packet splat(float s) { return Eigen::internal::pset1<Packet>(s); }
  static Packet madd(const Packet& a, const Packet& b, const Packet& c) { return c + a * b; }
  static Packet min(const Packet& a, const Packet& b) { return Eigen::internal::pmin(a, b); }
  static Packet max(const Packet& a, const Packet& b) { return Eigen::internal::pmax(a, b); }
};
inline Packet sigmoid(const Packet& x) { return simd::rational_sigmoid<GateSimd>(x, simd::kGateCoefficients); }
inline Packet tanh(const Packet& x) { return simd::rational_tanh<GateSimd>(x, simd::kGateCoefficients); }

// Scalar tails of the float kernels: the same functions on one value (unused in the double build).
[[maybe_unused]] inline float sigmoid1(float x) { return sigmoid(splat(x))[0]; }
[[maybe_unused]] inline float tanh1(float x) { return tanh(splat(x))[0]; }

// The SIMD interface the shared micro-kernels (simd_kernels.hpp) are written on.
struct EigenSimd : GateSimd {  // and splat, madd, min, max from GateSimd
  static constexpr int kLanes = attnlens::kernels::kLanes;
  static constexpr int kGemvVectors = 8;  // 12 is slower in clang 14's wasm build (kernel_module.cpp)
  static Packet load(const float* p) { return Eigen::internal::ploadu<Packet>(p); }
  static Packet load_aligned(const float* p) { return Eigen::internal::pload<Packet>(p); }
  static void store(float* p, const Packet& v) { Eigen::internal::pstoreu(p, v); }
  static Packet sigmoid(const Packet& x, const float*) { return kernels::sigmoid(x); }
  static Packet tanh(const Packet& x, const float*) { return kernels::tanh(x); }
  static Packet shift_into_exponent(const Packet& v) {
    typedef int32_t Bits __attribute__((vector_size(sizeof(Packet))));
    return reinterpret_cast<Packet>(reinterpret_cast<Bits>(v) << 23);
  }
};

// ---- matrix-vector product ----

template <class T>
void gemv_impl(int rows, int cols, const T* w, const T* x, T* y) {
  for (int j = 0; j < cols; ++j) {
    const T s = x[j];
    const T* column = w + static_cast<std::ptrdiff_t>(j) * rows;
    for (int i = 0; i < rows; ++i) y[i] += s * column[i];
  }
}

[[maybe_unused]] void gemv_impl(int rows, int cols, const float* w, const float* x, float* y) {
  simd::gemv_accumulate<EigenSimd>(rows, cols, w, x, y);
}

// ---- packed GEMM (see kernels.hpp) ----

// The tile and the column block: see simd_kernels.hpp.
constexpr int kPanelVectors = simd::kGemmVectors;
constexpr int kTile = simd::kGemmTile;
constexpr int kColumnBlock = simd::kGemmColumnBlock;
constexpr int kPanelRows = kPanelVectors * kLanes;

// Any scalar type: the reference loop over the same packing (the double build).
template <class T>
void gemm_impl(const T* panels, int rows, int cols, const T* bias, const T* x, std::ptrdiff_t ldx, int n, T* y,
               std::ptrdiff_t ldy, Activation activation) {
  for (int j = 0; j < n; ++j) {
    const T* xj = x + j * ldx;
    T* yj = y + j * ldy;
    for (int r = 0; r < rows; ++r) {
      const T* panel = panels + static_cast<std::ptrdiff_t>(r / kPanelRows) * kPanelRows * cols + r % kPanelRows;
      T a = bias ? bias[r] : T(0);
      for (int k = 0; k < cols; ++k) a += panel[static_cast<std::ptrdiff_t>(k) * kPanelRows] * xj[k];
      yj[r] = activation == Activation::Relu ? std::max(a, T(0)) : a;
    }
  }
}

[[maybe_unused]] void gemm_impl(const float* panels, int rows, int cols, const float* bias, const float* x,
                                std::ptrdiff_t ldx, int n, float* y, std::ptrdiff_t ldy, Activation activation) {
  simd::gemm<EigenSimd, kPanelVectors, kTile, kColumnBlock>(panels, rows, cols, bias, x, ldx, n, y, ldy,
                                                             activation == Activation::Relu);
}

// ---- gate functions: an element loop from `from` (all of the double build, the float tails) ----

template <class T>
void lstm_from(int from, int H, T* g, T* c, T* h) {
  for (int k = from; k < H; ++k) {
    const T i = sigmoid1(g[k]), f = sigmoid1(g[H + k]), u = tanh1(g[2 * H + k]), o = sigmoid1(g[3 * H + k]);
    g[k] = i, g[H + k] = f, g[2 * H + k] = u, g[3 * H + k] = o;
    c[k] = f * c[k] + i * u;
    h[k] = o * tanh1(c[k]);
  }
}
template <class T>
void gru_from(int from, int H, const T* x, const T* hp, T* g, T* h) {
  for (int k = from; k < H; ++k) {
    const T r = sigmoid1(x[k] + hp[k]), z = sigmoid1(x[H + k] + hp[H + k]);
    const T n = tanh1(x[2 * H + k] + r * hp[2 * H + k]);
    g[k] = r, g[H + k] = z, g[2 * H + k] = n;
    h[k] = (1 - z) * n + z * h[k];
  }
}

template <class T>
int lstm_vector(int, T*, T*, T*) {
  return 0;
}
[[maybe_unused]] int lstm_vector(int H, float* g, float* c, float* h) {
  int k = 0;
  for (; k + kLanes <= H; k += kLanes) {
    const Packet i = sigmoid(load(g + k)), f = sigmoid(load(g + H + k)), u = tanh(load(g + 2 * H + k)),
             o = sigmoid(load(g + 3 * H + k));
    store(g + k, i), store(g + H + k, f), store(g + 2 * H + k, u), store(g + 3 * H + k, o);
    const Packet cell = f * load(c + k) + i * u;
    store(c + k, cell);
    store(h + k, o * tanh(cell));
  }
  return k;
}
template <class T>
int gru_vector(int, const T*, const T*, T*, T*) {
  return 0;
}
[[maybe_unused]] int gru_vector(int H, const float* x, const float* hp, float* g, float* h) {
  int k = 0;
  for (; k + kLanes <= H; k += kLanes) {
    const Packet r = sigmoid(load(x + k) + load(hp + k)), z = sigmoid(load(x + H + k) + load(hp + H + k));
    const Packet n = tanh(load(x + 2 * H + k) + r * load(hp + 2 * H + k));
    store(g + k, r), store(g + H + k, z), store(g + 2 * H + k, n);
    store(h + k, (splat(1.0f) - z) * n + z * load(h + k));
  }
  return k;
}

template <class T>
T exp_shifted_impl(T* x, int n, T scale) {
  if (n <= 0) return 0;
  const T max = *std::max_element(x, x + n);
  T sum = 0;
  for (int i = 0; i < n; ++i) sum += (x[i] = exp1(scale * (x[i] - max)));
  return sum;
}
// The float one: simd_kernels.hpp's, on Eigen's packets (natively, and in wasm without a kernel module).
[[maybe_unused]] float exp_shifted_impl(float* x, int n, float scale) {
  return simd::exp_shifted<EigenSimd>(x, n, scale, simd::kExpCoefficients);
}

#if defined(__EMSCRIPTEN__)
// The kernel module's GEMM and GEMV (src/wasm/kernel_module.cpp: simd_kernels.hpp built by
// clang-19, with relaxed SIMD where the runtime has it), when one is loaded: the engine's loader
// (src/wasm/kernel_loader.js) instantiates it on this module's memory, puts its functions in the
// function table and hands their indices to attnlens_use_kernel_module.
static_assert(sizeof(Scalar) == sizeof(float), "the wasm modules compute in float");
using ModuleGemm = void (*)(const float*, int, int, const float*, const float*, std::ptrdiff_t, int, float*,
                            std::ptrdiff_t, int);
using ModuleGemv = void (*)(int, int, const float*, const float*, float*);
using ModuleSteps = void (*)(int, const RecurrentStep*, int);
using ModuleExp = float (*)(float*, int, float, const float*);
ModuleGemm module_gemm = nullptr;
ModuleGemv module_gemv = nullptr;
ModuleSteps module_gru_steps = nullptr, module_lstm_steps = nullptr;
ModuleExp module_exp_shifted = nullptr;
#endif

}  // namespace

#if defined(__EMSCRIPTEN__)
// gemm, gemv, gru_steps, lstm_steps, exp_shifted: function-table indices of the kernel module's
// functions; panel_rows: the panel height its GEMM was compiled for, which must be this module's.
// Zeros go back to the engine's own kernels (and the unfused recurrent steps). Returns whether the
// module's are in use.
extern "C" EMSCRIPTEN_KEEPALIVE int attnlens_use_kernel_module(int gemm, int gemv, int gru_steps, int lstm_steps,
                                                               int exp_shifted, int panel_rows) {
  const bool use = gemm != 0 && gemv != 0 && gru_steps != 0 && lstm_steps != 0 && exp_shifted != 0 && panel_rows == kPanelRows;
  const auto function = [use](int index) { return use ? static_cast<uintptr_t>(index) : 0; };
  module_gemm = reinterpret_cast<ModuleGemm>(function(gemm));
  module_gemv = reinterpret_cast<ModuleGemv>(function(gemv));
  module_gru_steps = reinterpret_cast<ModuleSteps>(function(gru_steps));
  module_lstm_steps = reinterpret_cast<ModuleSteps>(function(lstm_steps));
  module_exp_shifted = reinterpret_cast<ModuleExp>(function(exp_shifted));
  return use;
}
#endif

// ---- the fused recurrent step ----

// The block height of a cell's packing, in vectors.
constexpr int step_vectors(int gates) { return gates == 3 ? simd::kGruStepVectors : simd::kLstmStepVectors; }

void PackedRecurrent::update(const ParamMatrix& w_hh, int gates) {
  if (!changed_since(source_, w_hh)) return;
  const int H = static_cast<int>(w_hh.cols()), vectors = H / kLanes, block = step_vectors(gates);
  check(w_hh.rows() == static_cast<Eigen::Index>(gates) * H && H % kLanes == 0,
        "fused recurrent step: W_hh must be [gates·H, H] with H a multiple of the SIMD lanes");
  packed_.resize(static_cast<size_t>(w_hh.size()));
  Scalar* out = packed_.data();
  for (int v0 = 0; v0 < vectors; v0 += block) {  // blocks of `block` vectors; the last may have fewer
    const int width = std::min(block, vectors - v0) * kLanes, u0 = v0 * kLanes;
    for (int j = 0; j < H; ++j)  // input j: the block's rows of gate 0, then of gate 1, …
      for (int g = 0; g < gates; ++g)
        for (int u = 0; u < width; ++u) *out++ = w_hh(g * H + u0 + u, j);
  }
}

const float* gate_coefficients() { return simd::kGateCoefficients; }

bool fused_steps(int H) {
  if constexpr (!std::is_same_v<Scalar, float>) return false;
  if (H <= 0 || H % kLanes != 0) return false;
#if defined(__EMSCRIPTEN__)
  return module_gru_steps != nullptr;
#else
  return true;
#endif
}

namespace {
template <int G>
void steps(int H, const RecurrentStep* s, int count) {
  if constexpr (std::is_same_v<Scalar, float>) {
    static_assert(sizeof(RecurrentStep) == sizeof(simd::RecurrentStep), "one layout for the engine and the kernels");
#if defined(__EMSCRIPTEN__)
    (G == 3 ? module_gru_steps : module_lstm_steps)(H, s, count);  // the engine's own are not built in (fused_steps)
#else
    simd::recurrent_steps<EigenSimd, G>(H, reinterpret_cast<const simd::RecurrentStep*>(s), count);
#endif
  }
}
}  // namespace

void gru_steps(int H, const RecurrentStep* s, int count) { steps<3>(H, s, count); }
void lstm_steps(int H, const RecurrentStep* s, int count) { steps<4>(H, s, count); }

void gemv_accumulate(int rows, int cols, const Scalar* w, const Scalar* x, Scalar* y) {
  if (rows <= 0 || cols <= 0) return;  // an empty W's data may be null: nothing to add
#if defined(__EMSCRIPTEN__)
  if (module_gemv) return module_gemv(rows, cols, w, x, y);
#endif
  gemv_impl(rows, cols, w, x, y);
}
Scalar exp_shifted(Scalar* x, int n, Scalar scale) {
#if defined(__EMSCRIPTEN__)
  if (module_exp_shifted) return module_exp_shifted(x, n, scale, simd::kExpCoefficients);
#endif
  return exp_shifted_impl(x, n, scale);
}
void softmax(Scalar* x, int n, Scalar scale) {
  if (n <= 0) return;
  Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>>(x, n) *= Scalar(1) / exp_shifted(x, n, scale);
}

int PackedWeights::panel_rows() { return kPanelRows; }

template <class M>
void PackedWeights::pack(const M& w) {
  const bool row_major = M::IsRowMajor;
  pack_strided(w.data(), static_cast<int>(w.rows()), static_cast<int>(w.cols()), row_major ? w.cols() : 1,
               row_major ? 1 : w.rows());
}

void PackedWeights::pack_strided(const Scalar* data, int rows, int cols, std::ptrdiff_t row_stride, std::ptrdiff_t col_stride) {
  rows_ = rows;
  cols_ = cols;
  const int panel_count = (rows_ + kPanelRows - 1) / kPanelRows;
  const size_t size = static_cast<size_t>(panel_count) * kPanelRows * static_cast<size_t>(cols_);
  panels_.resize(size);
  for (int p = 0; p < panel_count; ++p) {
    Scalar* panel = panels_.data() + static_cast<std::ptrdiff_t>(p) * kPanelRows * cols_;
    const int r0 = p * kPanelRows, valid = std::min(kPanelRows, rows_ - r0);
    for (int k = 0; k < cols_; ++k) {
      Scalar* out = panel + static_cast<std::ptrdiff_t>(k) * kPanelRows;
      const Scalar* in = data + r0 * row_stride + k * col_stride;
      for (int i = 0; i < valid; ++i) out[i] = in[i * row_stride];
      for (int i = valid; i < kPanelRows; ++i) out[i] = Scalar(0);
    }
  }
}

bool PackedWeights::update(const ParamMatrix& w) {
  if (!changed_since(source_, w)) return false;
  pack(w);
  return true;
}

void PackedWeights::repack(const Matrix& w) { pack(w); }

void gemm(const PackedWeights& w, const Scalar* bias, const Scalar* x, std::ptrdiff_t x_stride, int n, Scalar* y,
          std::ptrdiff_t y_stride, Activation activation) {
  if (n <= 0 || w.rows() == 0) return;
  if (w.cols() == 0) {  // no inputs: the bias alone
    for (int j = 0; j < n; ++j)
      for (int r = 0; r < w.rows(); ++r) {
        const Scalar a = bias ? bias[r] : Scalar(0);
        y[j * y_stride + r] = activation == Activation::Relu ? std::max(a, Scalar(0)) : a;
      }
    return;
  }
#if defined(__EMSCRIPTEN__)
  if (module_gemm)
    return module_gemm(w.panels(), w.rows(), w.cols(), bias, x, x_stride, n, y, y_stride, activation == Activation::Relu);
#endif
  gemm_impl(w.panels(), w.rows(), w.cols(), bias, x, x_stride, n, y, y_stride, activation);
}
void gemm(const PackedWeights& w, const Scalar* bias, const Scalar* x, std::ptrdiff_t x_stride, int n, Scalar* y,
          Activation activation) {
  gemm(w, bias, x, x_stride, n, y, w.rows(), activation);
}

bool changed_since(ParamMatrix& copy, const ParamMatrix& value) {
  bool same = copy.rows() == value.rows() && copy.cols() == value.cols();
  if (same) {
    // Bitwise, in blocks with no early exit inside (so the compiler vectorises the block).
    const auto* a = reinterpret_cast<const unsigned char*>(copy.data());
    const auto* b = reinterpret_cast<const unsigned char*>(value.data());
    const size_t bytes = static_cast<size_t>(value.size()) * sizeof(Scalar);
    constexpr size_t kBlock = 256;
    size_t i = 0;
    for (; same && i + kBlock <= bytes; i += kBlock) {
      uint64_t diff = 0;
      for (size_t j = 0; j < kBlock; j += 8) {
        uint64_t x, y;
        std::memcpy(&x, a + i + j, 8);
        std::memcpy(&y, b + i + j, 8);
        diff |= x ^ y;
      }
      same = diff == 0;
    }
    for (; same && i < bytes; ++i) same = a[i] == b[i];
  }
  if (!same) copy = value;
  return !same;
}
void lstm_cell(int H, Scalar* gates, Scalar* cell, Scalar* hidden) {
  lstm_from(lstm_vector(H, gates, cell, hidden), H, gates, cell, hidden);
}
void gru_cell(int H, const Scalar* input_proj, const Scalar* hidden_proj, Scalar* gates, Scalar* hidden) {
  gru_from(gru_vector(H, input_proj, hidden_proj, gates, hidden), H, input_proj, hidden_proj, gates, hidden);
}

}  // namespace attnlens::kernels
