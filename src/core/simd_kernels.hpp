// The float GEMV and packed-GEMM micro-kernels (see kernels.hpp for what they compute and the
// packed layout), written once on a small SIMD interface `V` and compiled three ways:
//   - by the engine itself (core/kernels.cpp) on Eigen's packets: AVX or SSE natively (where the
//     compiler may fuse a multiply and an add), SIMD128 in the wasm modules (emscripten's clang 14);
//   - by clang-19 into the SIMD128 kernel module (src/wasm/kernel_module.cpp), multiply and add;
//   - by clang-19 into the relaxed-SIMD kernel module, where the GEMM's madd is
//     f32x4.relaxed_madd, a fused multiply-add where the CPU has one (its GEMV stays unfused).
// So the header is freestanding: no std library, no Eigen, no memory of its own (no arrays on the
// stack; a tail lane goes out one by one), because the kernel modules have no libc and no stack.
//
// V provides: Packet (a GCC/Clang vector of floats), kLanes, kGemvVectors (the GEMV's row block),
// load (unaligned), load_aligned, store (unaligned), splat, madd(a, b, c) = a·b + c, max, and for
// the fused recurrent steps min, sigmoid(x, coefficients) and tanh(x, coefficients) (Eigen's own in
// the engine, which ignores the coefficients; rational_sigmoid and rational_tanh below, the same
// approximations, in the kernel modules).
#pragma once
#include <stddef.h>

namespace attnlens::simd {

// The GEMM tile: kGemmVectors weight vectors × kGemmTile columns of x, as many accumulators as
// their product. For SIMD128 (the relaxed build keeps it: its panels must be the same).
// Chosen by measurement in wasm SIMD128 under node on this machine's x86 (AMD EPYC), each candidate
// against 2 × 4 with bench/ab.mjs (predict, 200 tokens, calls interleaved; median ratio, above 1
// faster; cnn, lstm and transformer):
//   4 × 2: 1.05, 0.98, 1.00 (and 1.06, 1.01, 1.01 at 1,000 tokens; 1.16, 1.04, 1.06 at 50) — kept
//   2 × 3: 0.94, 1.00, 0.97     2 × 5: 0.72, 0.99, 0.91     2 × 6: 0.84, 0.95, 0.94
//   3 × 4: 0.84, 0.82, 0.90     1 × 8: 0.77, 0.84, 0.87
// and against 4 × 2: 3 × 2: 0.94, 1.04, 1.00; 4 × 3: 0.81, 0.95, 0.89. More than 8 accumulators
// spill: V8 maps wasm's v128 values onto x86's 16 XMM registers, which must also hold the weights
// and the broadcast. ARM has 32 vector registers; a larger tile may pay there (not measured here).
// Natively the same code runs on AVX (8 lanes: panels of 32 rows) or AVX-512.
#ifndef ATTNLENS_GEMM_VECTORS
#define ATTNLENS_GEMM_VECTORS 4
#endif
#ifndef ATTNLENS_GEMM_TILE
#define ATTNLENS_GEMM_TILE 2
#endif
constexpr int kGemmVectors = ATTNLENS_GEMM_VECTORS;
constexpr int kGemmTile = ATTNLENS_GEMM_TILE;
constexpr int kGemmColumnBlock = 64;

// NV vectors of rows r… of y += W · x: NV accumulators, each summing the columns in order (so a
// row's result does not depend on the block it falls in).
template <class V, int NV>
inline void gemv_block(int rows, int cols, const float* w, const float* x, float* y, int r) {
  using P = typename V::Packet;
  constexpr int L = V::kLanes;
  P a[NV];
  for (int v = 0; v < NV; ++v) a[v] = V::load(y + r + v * L);
  const float* p = w + r;
  for (int j = 0; j < cols; ++j, p += rows) {
    const P xj = V::splat(x[j]);
    for (int v = 0; v < NV; ++v) a[v] = V::madd(V::load(p + v * L), xj, a[v]);
  }
  for (int v = 0; v < NV; ++v) V::store(y + r + v * L, a[v]);
}

// y[rows] += W · x, W column-major [rows, cols]: row blocks of V::kGemvVectors accumulators, then
// blocks of 4 and single vectors, then single rows. The accumulators' dependency chains must
// hide an add's latency, within x86-64's 16 vector registers. Measured for SIMD128 in node on
// this machine's AMD EPYC (clang-19's build, the kernel alone, 256 × 64, the LSTM's W_hh; median
// of 9 × 20,000 calls): 8 accumulators 1,009 ns, 12: 794–807 ns.
template <class V>
void gemv_accumulate(int rows, int cols, const float* w, const float* x, float* y) {
  constexpr int L = V::kLanes, NV = V::kGemvVectors;
  int r = 0;
  for (; r + NV * L <= rows; r += NV * L) gemv_block<V, NV>(rows, cols, w, x, y, r);
  if constexpr (NV > 4)
    for (; r + 4 * L <= rows; r += 4 * L) gemv_block<V, 4>(rows, cols, w, x, y, r);
  for (; r + L <= rows; r += L) gemv_block<V, 1>(rows, cols, w, x, y, r);
  for (; r < rows; ++r) {
    float a = y[r];
    for (int j = 0; j < cols; ++j) a += x[j] * w[static_cast<ptrdiff_t>(j) * rows + r];
    y[r] = a;
  }
}

// The packed GEMM: y[:, j] = act(W · x_j + bias) for j < n, W in panels of Vectors·kLanes rows
// (kernels.hpp). The micro-kernel holds Vectors × N accumulators (N ≤ Tile columns of x).
template <class V, int Vectors, int N>
inline void gemm_tile(const float* panel, int cols, const typename V::Packet* bias, const float* x, ptrdiff_t ldx,
                      bool relu, float* y, ptrdiff_t ldy, int valid) {
  using P = typename V::Packet;
  constexpr int L = V::kLanes, kPanelRows = Vectors * L;
  P a[N][Vectors];
  for (int j = 0; j < N; ++j)
    for (int v = 0; v < Vectors; ++v) a[j][v] = bias[v];
  const float* w = panel;
  for (int k = 0; k < cols; ++k, w += kPanelRows) {
    P wv[Vectors];
    for (int v = 0; v < Vectors; ++v) wv[v] = V::load_aligned(w + v * L);
    for (int j = 0; j < N; ++j) {
      const P s = V::splat(x[j * ldx + k]);
      for (int v = 0; v < Vectors; ++v) a[j][v] = V::madd(s, wv[v], a[j][v]);
    }
  }
  for (int j = 0; j < N; ++j) {
    if (relu)
      for (int v = 0; v < Vectors; ++v) a[j][v] = V::max(a[j][v], V::splat(0.0f));
    float* out = y + j * ldy;
    if (valid == kPanelRows) {
      for (int v = 0; v < Vectors; ++v) V::store(out + v * L, a[j][v]);
    } else {  // the last panel of a W whose rows are not a multiple of kPanelRows: lane by lane
      for (int v = 0; v < Vectors; ++v)
        for (int l = 0; l < L; ++l)
          if (v * L + l < valid) out[v * L + l] = a[j][v][l];
    }
  }
}

// The last columns of a block, fewer than Tile: one tile of exactly that many.
template <class V, int Vectors, int N>
inline void gemm_rest(int left, const float* panel, int cols, const typename V::Packet* bias, const float* x,
                      ptrdiff_t ldx, bool relu, float* y, ptrdiff_t ldy, int valid) {
  if constexpr (N > 0) {
    if (left == N) gemm_tile<V, Vectors, N>(panel, cols, bias, x, ldx, relu, y, ldy, valid);
    else gemm_rest<V, Vectors, N - 1>(left, panel, cols, bias, x, ldx, relu, y, ldy, valid);
  }
}

// Columns in blocks of ColumnBlock, so a block of x stays in the L1 cache while every panel
// passes over it. bias: rows values or null.
template <class V, int Vectors, int Tile, int ColumnBlock>
void gemm(const float* panels, int rows, int cols, const float* bias, const float* x, ptrdiff_t ldx, int n, float* y,
          ptrdiff_t ldy, bool relu) {
  using P = typename V::Packet;
  constexpr int L = V::kLanes, kPanelRows = Vectors * L;
  const int panel_count = (rows + kPanelRows - 1) / kPanelRows;
  for (int j0 = 0; j0 < n; j0 += ColumnBlock) {
    const int j1 = n < j0 + ColumnBlock ? n : j0 + ColumnBlock;
    for (int p = 0; p < panel_count; ++p) {
      const int r0 = p * kPanelRows, valid = rows - r0 < kPanelRows ? rows - r0 : kPanelRows;
      P bv[Vectors];
      for (int v = 0; v < Vectors; ++v) {
        if (bias && valid == kPanelRows) {
          bv[v] = V::load(bias + r0 + v * L);
        } else {
          bv[v] = V::splat(0.0f);
          for (int l = 0; l < L; ++l)
            if (bias && v * L + l < valid) bv[v][l] = bias[r0 + v * L + l];
        }
      }
      const float* panel = panels + static_cast<ptrdiff_t>(p) * kPanelRows * cols;
      int j = j0;
      for (; j + Tile <= j1; j += Tile)
        gemm_tile<V, Vectors, Tile>(panel, cols, bv, x + j * ldx, ldx, relu, y + j * ldy + r0, ldy, valid);
      gemm_rest<V, Vectors, Tile - 1>(j1 - j, panel, cols, bv, x + j * ldx, ldx, relu, y + j * ldy + r0, ldy, valid);
    }
  }
}

// Eigen 3.4's float logistic and tanh (Eigen/src/Core/functors/UnaryFunctors.h and
// MathFunctionsImpl.h, their non-FMA constants): odd/even rational minimax approximations, for the
// kernel modules, which have no Eigen. Two simplifications: the logistic below −9 is the same
// rational function (Eigen switches to e^x there: both are within 1e-7 of the true value), and tanh
// skips Eigen's |x| < 0.0004 case (p/q there is x within 2e-7 relative). V: add, mul, div, min, max.
//
// Their coefficients are read from memory (kGateCoefficients, in the engine's memory; the kernel
// modules have none of their own), each with a broadcast load: V8 builds a 128-bit constant in
// three instructions every time it is used (measured: the fused GRU step of one direction took
// 1,300 ns with the constants in the code, against 610 ns for its GEMV alone).
inline constexpr float kGateCoefficients[] = {
    // logistic: the clamp, the numerator's x⁹ … x¹ coefficients, the denominator's x¹⁰ … x⁰, the ½ it adds
    15.6437711715698242f, -15.6437711715698242f, 4.37031012579801e-11f, 1.15627324459942e-07f, 6.08574864600143e-05f,
    8.51377133304701e-03f, 2.48287947061529e-01f, 6.10247389755681e-13f, 5.76102136993427e-09f, 6.29106785017040e-06f,
    1.70198817374094e-03f, 1.16817656904453e-01f, 9.93151921023180e-01f, 0.5f,
    // tanh: the clamp, the numerator's x¹³ … x¹, the denominator's x⁶ … x⁰
    7.90531110763549805f, -7.90531110763549805f, -2.76076847742355e-16f, 2.00018790482477e-13f, -8.60467152213735e-11f,
    5.12229709037114e-08f, 1.48572235717979e-05f, 6.37261928875436e-04f, 4.89352455891786e-03f, 1.19825839466702e-06f,
    1.18534705686654e-04f, 2.26843463243900e-03f, 4.89352518554385e-03f,
    // 1, for the GRU's 1 − z
    1.0f};
constexpr int kSigmoidCoefficients = 0, kTanhCoefficients = 14, kOne = 27;

// A polynomial in x2 with n coefficients from c (the highest power first).
template <class V>
inline typename V::Packet polynomial(typename V::Packet x2, const float* c, int n) {
  typename V::Packet p = V::madd(x2, V::splat(c[0]), V::splat(c[1]));
  for (int i = 2; i < n; ++i) p = V::madd(x2, p, V::splat(c[i]));
  return p;
}
template <class V>
inline typename V::Packet rational_sigmoid(typename V::Packet x, const float* coefficients) {
  const float* c = coefficients + kSigmoidCoefficients;
  x = V::max(V::min(x, V::splat(c[0])), V::splat(c[1]));
  const typename V::Packet x2 = x * x;
  return x * polynomial<V>(x2, c + 2, 5) / polynomial<V>(x2, c + 7, 6) + V::splat(c[13]);
}
template <class V>
inline typename V::Packet rational_tanh(typename V::Packet x, const float* coefficients) {
  const float* c = coefficients + kTanhCoefficients;
  x = V::max(V::min(x, V::splat(c[0])), V::splat(c[1]));
  const typename V::Packet x2 = x * x;
  return x * polynomial<V>(x2, c + 2, 7) / polynomial<V>(x2, c + 9, 4);
}

// ---- softmax (self-attention's scores) ----
//
// e^x for x ≤ 0, the exponents a softmax takes once the maximum is subtracted. x = n·ln 2 + t with
// n = round(x·log₂e) and |t| ≤ ln2/2 (Cody and Waite's two-part ln 2: Cephes' constants), then
// e^t ≈ 1 + t·(c₁ + c₂t + … + c₅t⁴), c fitted for this engine with numpy (least squares on the
// relative error over [−ln2/2, ln2/2], reweighted toward minimax: 9.1e-8 in exact arithmetic), and
// 2ⁿ without a float/int conversion (in wasm on x86 each saturating conversion is several
// instructions): adding 1.5·2²³ + 127 to x·log₂e leaves n + 127 in the low mantissa bits, and
// V::shift_into_exponent moves them into the exponent field. x is clamped at −87.3 so 2ⁿ stays a
// normal float. Relative error ≤ 1.9e-7 over [−87.3, 0] in float (tests/test_kernels.cpp).
// The constants are read from memory, c = kExpCoefficients, as the gate functions' are (above).
inline constexpr float kExpCoefficients[] = {
    -87.3f, 1.44269504088896341f, 12582912.0f + 127.0f, -0.693359375f, 2.12194440e-4f,  // clamp, log₂e, bias, −ln 2 (two parts)
    8.290312252938747e-03f, 4.189793020486832e-02f, 1.666763573884964e-01f, 4.999915063381195e-01f,
    9.999997019767761e-01f};  // c₅ … c₁
// The constants as vectors, loaded once for a whole row (in the loop, V8 would broadcast each one
// from memory for every vector: a third of exp_shifted's instructions). With two vectors per
// iteration (exp_shifted, below), on an Intel Xeon in node (bench/kernels.mjs, the modules before
// and after): 0.92 → 0.90 ns a value for SIMD128, 0.78–0.82 → 0.67 relaxed. Evaluating the
// polynomial by Estrin's scheme instead of Horner's (a shorter chain of dependent operations, one
// multiply more) was slower in an ad-hoc timing (0.90 against 0.87–0.89 for Horner's): the loop
// is bound by how many operations it issues, not by their latency.
template <class V>
struct ExpConstants {
  typename V::Packet c[10];
  explicit ExpConstants(const float* coefficients) {
    for (int i = 0; i < 10; ++i) c[i] = V::splat(coefficients[i]);
  }
};
template <class V>
inline typename V::Packet exp_nonpositive(typename V::Packet x, const ExpConstants<V>& k) {
  using P = typename V::Packet;
  const P* c = k.c;
  x = V::max(x, c[0]);
  const P biased = V::madd(x, c[1], c[2]);
  const P two_to_n = V::shift_into_exponent(biased);
  const P n = biased - c[2];
  P t = V::madd(n, c[3], x);
  t = V::madd(n, c[4], t);
  P p = V::madd(c[5], t, c[6]);
  p = V::madd(p, t, c[7]);
  p = V::madd(p, t, c[8]);
  p = V::madd(p, t, c[9]);
  return V::madd(t * two_to_n, p, two_to_n);
}
template <class V>
inline typename V::Packet exp_nonpositive(typename V::Packet x, const float* coefficients) {
  return exp_nonpositive<V>(x, ExpConstants<V>(coefficients));
}

// In place over n values: x ← e^{scale·(x − max x)} (scale > 0); returns their sum, so a
// softmax is x / sum (a caller that only needs weighted sums divides those instead). A tail shorter
// than a vector goes through the same vector functions one value at a time, so every value is
// computed alike wherever it falls. Two vectors per iteration: two independent chains of dependent
// operations, and the loop's own instructions once for both; the sum still adds vector by vector.
template <class V>
float exp_shifted(float* x, int n, float scale, const float* coefficients) {
  using P = typename V::Packet;
  constexpr int L = V::kLanes;
  if (n <= 0) return 0;
  float largest = x[0];
  int i = 0;
  if (n >= L) {
    P m = V::load(x);
    for (i = L; i + L <= n; i += L) m = V::max(m, V::load(x + i));
    for (int l = 0; l < L; ++l) largest = m[l] > largest ? m[l] : largest;
  }
  for (; i < n; ++i) largest = x[i] > largest ? x[i] : largest;
  // scale·(x − max), not scale·x − scale·max: the difference is exact near the maximum, where the
  // largest exponentials are, however large the scores themselves.
  const P factor = V::splat(scale), shift = V::splat(largest);
  const ExpConstants<V> k(coefficients);
  P sums = V::splat(0.0f);
  for (i = 0; i + 2 * L <= n; i += 2 * L) {
    const P e0 = exp_nonpositive<V>((V::load(x + i) - shift) * factor, k);
    const P e1 = exp_nonpositive<V>((V::load(x + i + L) - shift) * factor, k);
    V::store(x + i, e0);
    V::store(x + i + L, e1);
    sums += e0;
    sums += e1;
  }
  for (; i + L <= n; i += L) {
    const P e = exp_nonpositive<V>((V::load(x + i) - shift) * factor, k);
    V::store(x + i, e);
    sums += e;
  }
  float sum = 0;
  for (int l = 0; l < L; ++l) sum += sums[l];
  for (; i < n; ++i) sum += (x[i] = exp_nonpositive<V>((V::splat(x[i]) - shift) * factor, k)[0]);
  return sum;
}

// ---- the fused recurrent step: batch 1, forward only (the page classifying one review) ----
//
// One step of a GRU or LSTM direction in one pass: W_hh h_{t−1} and the gate functions of the
// result, with no store of the gates in between (the unfused path runs a GEMV into a [G·H] buffer,
// then a second pass over it for the gates, and keeps the gates for backward). W_hh is packed
// gate-interleaved (PackedRecurrent, kernels.hpp): column-major like the GEMV's copy, its rows
// reordered so the hidden units go in blocks of Vectors vectors (Vectors·kLanes units) with every
// gate's rows of a block together — gate 0's Vectors vectors of the block, then gate 1's, … — so
// G × Vectors accumulators read one contiguous run of each column, and when the columns are done
// they hold every gate of the block's units: the gate functions run on registers and the block's
// h_t is stored. The last block of a layer whose vectors do not divide by Vectors has fewer. H
// must be a multiple of kLanes (the caller checks: kernels::fused_steps).
//
// Two directions (a bidirectional layer's, count = 2) go block by block in turn: a step's blocks
// are independent of one another, but the next step needs all of h_t, so with one direction the
// last block's gate functions (a long chain of dependent operations) leave the CPU waiting;
// interleaved, the other direction's block fills that time.
//
// The sums are the unfused path's, in the same order (the bias or projection, then input 0, 1, …),
// and the gate formulas are kernels.cpp's gru_vector and lstm_vector, so natively (Eigen's gate
// functions) the two paths agree to the last bit where the compiler contracts alike.
//
// The block height, chosen by measurement in node on this machine's AMD EPYC (the SIMD128 kernel
// module alone, H = 64, both directions of a step, median of 200,000 calls): with 12 accumulators
// (GRU 4 vectors, LSTM 3) V8 hoists the block's twelve weight loads above the multiply-adds, runs
// out of XMM registers and keeps accumulators on the stack: the GRU step took 2,450 ns against
// 1,290 ns for its two GEMVs alone. With 6 (GRU 2 vectors) it took 1,710 ns, the GEMVs and all of
// the gate functions; with 8 for the LSTM (2 vectors) 2,120 ns (its GEMVs: 1,640 ns). In the
// engine (bench/ab.mjs, predict, the previous build against this one, with the distinct-column
// projections of layers/recurrent_inference.hpp): 1,000 tokens bilstm-attention 1.38, gru-attention
// 1.32, lstm 1.44; 200 tokens 1.18, 1.11, 1.19. Again on an Intel Xeon with AVX-512
// (bench/kernels.mjs with hand-built variants of the module, both directions, H = 64), GRU / LSTM:
// as here 1,887 / 2,386 ns; 12 accumulators 2,412 / 3,152; four inputs per iteration of the loop
// below 2,070 / 2,836; fused multiply-adds (relaxed SIMD) 1,822 / 2,275 with these heights and
// 2,288 / 3,134 with 12; the gate functions left out 1,459 / 2,170 (README, "How to read the misses").
#ifndef ATTNLENS_GRU_STEP_VECTORS
#define ATTNLENS_GRU_STEP_VECTORS 2
#endif
#ifndef ATTNLENS_LSTM_STEP_VECTORS
#define ATTNLENS_LSTM_STEP_VECTORS 2
#endif
constexpr int kGruStepVectors = ATTNLENS_GRU_STEP_VECTORS;    // 3 gates × 2 vectors: 6 accumulators
constexpr int kLstmStepVectors = ATTNLENS_LSTM_STEP_VECTORS;  // 4 gates × 2 vectors: 8 accumulators

// One direction's step. Every pointer is to floats in the engine's memory.
struct RecurrentStep {
  const float* weights;     // W_hh, packed gate-interleaved (above)
  const float* bias;        // GRU: b_hh [3H] (r, z, n); LSTM: unused (both biases are in the projection)
  const float* projection;  // [G·H] W_ih x_t + the input bias, PyTorch's gate order
  const float* hidden;      // [H] h_{t−1}
  float* next_hidden;       // [H] h_t: not `hidden` (every block reads all of h_{t−1})
  float* cell;              // LSTM: [H] c_{t−1} in, c_t out; GRU: unused
  const float* coefficients;  // kGateCoefficients (in the engine's memory)
};

// f(Index<0>{}), …, f(Index<N − 1>{}): a loop unrolled by the compiler whatever its body's size, so
// the accumulators indexed by it stay in registers (the kernel modules have no stack to spill to).
template <int I>
struct Index {
  static constexpr int value = I;
};
template <int N, int I = 0, class F>
inline void unrolled(const F& f) {
  if constexpr (I < N) {
    f(Index<I>{});
    unrolled<N, I + 1>(f);
  }
}

template <class V, int G, int Vectors>
__attribute__((noinline)) void recurrent_block(int H, const RecurrentStep& s, int v0) {
  using P = typename V::Packet;
  constexpr int L = V::kLanes, K = G * Vectors;
  const int u0 = v0 * L;
  P a[K];  // a[g·Vectors + v]: gate g of the block's vector v, the packing's order
  // The sums start from what the unfused path adds W_hh h to: the GRU's b_hh, the LSTM's projection.
  const float* start = (G == 3 ? s.bias : s.projection) + u0;
  unrolled<K>([&](auto k) { a[k.value] = V::load(start + k.value / Vectors * H + k.value % Vectors * L); });
  const float* w = s.weights + static_cast<ptrdiff_t>(u0) * G * H;
  for (int j = 0; j < H; ++j, w += K * L) {
    const P x = V::splat(s.hidden[j]);
    unrolled<K>([&](auto k) { a[k.value] = V::madd(V::load_aligned(w + k.value * L), x, a[k.value]); });
  }
  unrolled<Vectors>([&](auto vi) {
    constexpr int v = decltype(vi)::value;
    const int u = u0 + v * L;
    if constexpr (G == 3) {  // GRU: r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·h_n)
      const float* x = s.projection + u;
      const P r = V::sigmoid(V::load(x) + a[v], s.coefficients), z = V::sigmoid(V::load(x + H) + a[Vectors + v], s.coefficients);
      const P n = V::tanh(V::load(x + 2 * H) + r * a[2 * Vectors + v], s.coefficients);
      V::store(s.next_hidden + u, (V::splat(s.coefficients[kOne]) - z) * n + z * V::load(s.hidden + u));
    } else {  // LSTM: i, f, o = σ, g = tanh; c_t = f·c_{t−1} + i·g; h_t = o·tanh(c_t)
      const float* k = s.coefficients;
      const P i = V::sigmoid(a[v], k), f = V::sigmoid(a[Vectors + v], k), g = V::tanh(a[2 * Vectors + v], k),
              o = V::sigmoid(a[3 * Vectors + v], k);
      const P c = f * V::load(s.cell + u) + i * g;
      V::store(s.cell + u, c);
      V::store(s.next_hidden + u, o * V::tanh(c, k));
    }
  });
}

// The last block, of `left` < Vectors vectors.
template <class V, int G, int Vectors>
inline void recurrent_rest(int left, int H, const RecurrentStep* s, int count, int v0) {
  if constexpr (Vectors > 0) {
    if (left == Vectors) {
      for (int d = 0; d < count; ++d) recurrent_block<V, G, Vectors>(H, s[d], v0);
    } else {
      recurrent_rest<V, G, Vectors - 1>(left, H, s, count, v0);
    }
  }
}

// One step of `count` directions (1, or 2 interleaved), G = 3 (GRU) or 4 (LSTM).
template <class V, int G>
void recurrent_steps(int H, const RecurrentStep* s, int count) {
  constexpr int Vectors = G == 3 ? kGruStepVectors : kLstmStepVectors;
  const int vectors = H / V::kLanes;
  int v0 = 0;
  for (; v0 + Vectors <= vectors; v0 += Vectors)
    for (int d = 0; d < count; ++d) recurrent_block<V, G, Vectors>(H, s[d], v0);
  recurrent_rest<V, G, Vectors - 1>(vectors - v0, H, s, count, v0);
}

}  // namespace attnlens::simd
