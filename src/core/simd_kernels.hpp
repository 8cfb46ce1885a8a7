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
// load (unaligned), load_aligned, store (unaligned), splat, madd(a, b, c) = a·b + c, max.
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

}  // namespace attnlens::simd
