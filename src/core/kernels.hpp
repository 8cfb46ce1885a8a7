// Hand-written kernels for the inner loops where Eigen's general expressions leave a batch of
// one (the page classifying a review) slow: the recurrent layers' sequential steps, where every
// step is a matrix-vector product followed by a handful of element-wise gate functions on a few
// hundred floats, and the Transformer's softmax over each query's scores.
//
// For that shape Eigen's general GEMV and its separate expression loops (one pass per gate,
// one per copy) leave most of the machine idle, in wasm SIMD especially: the product here
// keeps 8 vector accumulators in registers across the whole row block (about 1.5× Eigen's
// GEMV in wasm), and the gate functions run fused in one pass over the step's gates.
//
// Written on Eigen's packets (its SIMD abstraction), with the rational logistic and tanh Eigen's
// .logistic()/.tanh() evaluate (core/simd_kernels.hpp), so the same code runs natively (AVX-512,
// AVX or SSE) and in wasm SIMD, and the native tests cover what the page runs. The
// double-precision build (gradient checks) runs the same formulas element by element in std::.
#pragma once
#include <vector>

#include "core/tensor.hpp"

namespace attnlens::kernels {

// Up to this many samples a recurrent step runs one gemv_accumulate per sample; above it,
// one Eigen GEMM for the batch (its packing pays off once W_hh is reused across columns).
constexpr int kGemvBatch = 4;

// y[rows] += W · x, W column-major [rows, cols] (leading dimension rows).
void gemv_accumulate(int rows, int cols, const Scalar* w, const Scalar* x, Scalar* y);

// In place over n values: x ← softmax(scale·x) = e^{scale·(x − max x)} / Σ e^{scale·(x − max x)},
// scale > 0 (attention's 1/√d, folded in here instead of a pass of its own over the scores).
void softmax(Scalar* x, int n, Scalar scale = 1);
// The same without the division: x ← e^{scale·(x − max x)}; returns Σ (0 for n = 0). A caller that
// only needs weighted sums of the softmax divides those by it, a pass over x fewer.
Scalar exp_shifted(Scalar* x, int n, Scalar scale = 1);

// One LSTM step of one sample (PyTorch gate order i, f, g, o):
// gates [4H]: pre-activations in, σ(i), σ(f), tanh(g), σ(o) out;
// cell [H]: c_{t-1} in, c_t = σ(f)·c_{t-1} + σ(i)·tanh(g) out; hidden [H]: h_t = σ(o)·tanh(c_t) out.
void lstm_cell(int H, Scalar* gates, Scalar* cell, Scalar* hidden);

// One GRU step of one sample (PyTorch gate order r, z, n):
// input_proj [3H] = W_ih x + b_ih; hidden_proj [3H] = W_hh h_{t-1} + b_hh;
// gates [3H] out: r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·h_n);
// hidden [H]: h_{t-1} in, h_t = (1 − z)·n + z·h_{t-1} out.
void gru_cell(int H, const Scalar* input_proj, const Scalar* hidden_proj, Scalar* gates, Scalar* hidden);

// ---- y = W·x + b over a sequence: the projections of every layer (Dense, Conv1D's taps, the
// recurrent layers' input projections, self-attention's Q/K/V) ----
//
// W is packed once into panels of kPanelRows output rows, each stored column by column (the
// panel's kPanelRows weights of input 0, then of input 1, …; the last panel zero-padded), so the
// micro-kernel reads the weights in one contiguous stream. The micro-kernel computes kPanelRows
// outputs (kPanelVectors vector registers) for kTile columns of x at once: per input k it loads
// the panel's weight vectors, broadcasts x[k] of each column, and multiplies and adds into
// kPanelVectors·kTile accumulators (the "splat" GEMM of XNNPACK's wasm SIMD kernels, with the roles of rows and columns
// as this engine lays activations out). The bias is the accumulators' starting value, and ReLU is
// applied before the one store: no extra passes over the output. Columns are taken in blocks of
// kColumnBlock so a block of x stays in the L1 cache while every panel passes over it.
enum class Activation { None, Relu };

class PackedWeights {
 public:
  // Packs W (rows × cols, any storage order) when it differs in any bit or shape from what was
  // packed last (training changes weights in place; see changed_since); returns whether it did.
  bool update(const ParamMatrix& w);
  void repack(const Matrix& w);  // packs unconditionally (a caller that knows W changed)
  // Packs unconditionally the rows × cols matrix whose element (r, c) is data[r·row_stride +
  // c·col_stride] (attention's keys and values, read in place from the Q/K/V projections).
  void pack_strided(const Scalar* data, int rows, int cols, std::ptrdiff_t row_stride, std::ptrdiff_t col_stride);
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  const Scalar* panels() const { return panels_.data(); }
  static int panel_rows();  // kPanelRows (kernels.cpp): a few vectors of floats

 private:
  template <class M>
  void pack(const M& w);
  ParamMatrix source_;
  std::vector<Scalar, Eigen::aligned_allocator<Scalar>> panels_;
  int rows_ = 0, cols_ = 0;
};

// y[:, j] = activation(W · x_j + bias) for j < n: y column-major [w.rows(), n]; x_j the w.cols()
// values at x + j·x_stride (x_stride ≥ w.cols() for a matrix's columns; smaller strides read
// overlapping windows); bias: w.rows() values, or nullptr for none.
void gemm(const PackedWeights& w, const Scalar* bias, const Scalar* x, std::ptrdiff_t x_stride, int n, Scalar* y,
          Activation activation = Activation::None);
// The same with y's columns y_stride ≥ w.rows() apart (a block of rows of a taller matrix).
void gemm(const PackedWeights& w, const Scalar* bias, const Scalar* x, std::ptrdiff_t x_stride, int n, Scalar* y,
          std::ptrdiff_t y_stride, Activation activation = Activation::None);

// ---- the fused recurrent step: batch 1, forward only (core/simd_kernels.hpp) ----
//
// W_hh [G·H, H] packed gate-interleaved for recurrent_steps: blocks of hidden units, each block's
// weights input by input, every gate's rows of the block together, so one step is one pass that
// ends with the gate functions on registers.
class PackedRecurrent {
 public:
  // Packs W_hh of a cell with `gates` gates (3: GRU, 4: LSTM) when it differs in any bit or shape
  // from what was packed last.
  void update(const ParamMatrix& w_hh, int gates);
  const Scalar* data() const { return packed_.data(); }

 private:
  ParamMatrix source_;
  std::vector<Scalar, Eigen::aligned_allocator<Scalar>> packed_;
};

// Whether the fused steps run here for H hidden units: H a multiple of the SIMD lanes, floats,
// and in wasm a kernel module with them loaded (the engine's own kernels are not built into the
// wasm modules: the unfused path runs instead).
bool fused_steps(int H);

// One direction's step: see simd::RecurrentStep.
struct RecurrentStep {
  const Scalar* weights;  // PackedRecurrent::data()
  const Scalar* bias;     // GRU: b_hh [3H]; LSTM: null
  const Scalar* projection;
  const Scalar* hidden;
  Scalar* next_hidden;
  Scalar* cell;  // LSTM: the running c; GRU: null
  const float* coefficients;  // the gate functions' (gate_coefficients())
};
// What RecurrentStep::coefficients points to.
const float* gate_coefficients();
// One step of `count` directions (1, or a bidirectional layer's 2, interleaved); fused_steps(H) must hold.
void gru_steps(int H, const RecurrentStep* steps, int count);
void lstm_steps(int H, const RecurrentStep* steps, int count);

// For weights kept in a second layout (the recurrent layers' column-major W_hh, Conv1D's
// unfolded taps): true when `value` differs from `copy` in any bit or in shape, and then `copy`
// becomes `value`. Training updates weights in place, so staleness is decided by content: one
// contiguous, vectorised pass, much cheaper than redoing the strided re-layout every forward.
bool changed_since(ParamMatrix& copy, const ParamMatrix& value);

}  // namespace attnlens::kernels
