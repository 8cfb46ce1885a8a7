#include "layers/conv1d.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/kernels.hpp"

namespace attnlens {

Conv1D::Conv1D(const std::string& name, int in_channels, int out_channels, int kernel_size, Padding padding)
    : weight(name + ".weight", {out_channels, in_channels, kernel_size}),
      bias(name + ".bias", {out_channels}),
      kernel_size_(kernel_size),
      in_channels_(in_channels),
      padding_(padding) {
  check(in_channels > 0 && out_channels > 0 && kernel_size > 0, "conv1d " + name + ": sizes must be positive");
}

void Conv1D::init(Rng& rng) {
  // Glorot uniform with fan_in = in·k, fan_out = out·k (as Keras does for convolutions).
  const double bound = std::sqrt(6.0 / static_cast<double>((in_channels_ + weight.value.rows()) * kernel_size_));
  for (Eigen::Index i = 0; i < weight.value.size(); ++i) weight.value.data()[i] = static_cast<Scalar>(rng.uniform(-bound, bound));
  bias.value.setZero();
}

void Conv1D::unfold_weights() {
  if (!kernels::changed_since(taps_of_, weight.value)) return;
  const Eigen::Index out = weight.value.rows(), in = in_channels_, k = kernel_size_;
  taps_.resize(out, k * in);
  for (Eigen::Index o = 0; o < out; ++o)
    for (Eigen::Index i = 0; i < in; ++i)
      for (Eigen::Index j = 0; j < k; ++j) taps_(o, j * in + i) = weight.value(o, i * k + j);
  packed_.repack(taps_);
}

void Conv1D::forward_impl(const SequenceBatch& in, SequenceBatch& out) {
  const int T = in.steps, B = in.batch, k = kernel_size_;
  const Eigen::Index C = in_channels_;
  const int offset = padding_ == Padding::Same ? (k - 1) / 2 : 0;  // input step of tap 0 is t − offset
  in_steps_ = T;
  batch_ = B;
  in_lengths_ = in.lengths;
  out_steps_ = padding_ == Padding::Same ? T : std::max(0, T - k + 1);
  out_lengths_.resize(B);
  for (int b = 0; b < B; ++b)
    out_lengths_[b] = padding_ == Padding::Same ? in.lengths[b] : std::max(0, std::min(in.lengths[b], T) - k + 1);
  const Eigen::Index columns = static_cast<Eigen::Index>(out_steps_) * B;
  if (!kHasGradients || ForwardOnly::active()) return forward_windows(in, out);  // (without gradients always: less code)
  kept_ = true;
  // X': tap j's rows read input step t + j − offset for output step t (zero outside the input).
  unfolded_.setZero(k * C, columns);
  for (int j = 0; j < k; ++j) {
    const int shift = j - offset;
    const int t0 = std::max(0, -shift), t1 = std::min(out_steps_, T - shift);
    if (t1 > t0)
      unfolded_.block(j * C, static_cast<Eigen::Index>(t0) * B, C, static_cast<Eigen::Index>(t1 - t0) * B) =
          in.values.middleCols(static_cast<Eigen::Index>(t0 + shift) * B, static_cast<Eigen::Index>(t1 - t0) * B);
  }
  for (int t = 0; t < T; ++t)  // steps past a sample's length read as zero
    for (int b = 0; b < B; ++b) {
      if (t < in.lengths[b]) continue;
      for (int j = 0; j < k; ++j) {
        const int target = t - (j - offset);  // the output step that reads input step t through tap j
        if (target >= 0 && target < out_steps_)
          unfolded_.block(j * C, static_cast<Eigen::Index>(target) * B + b, C, 1).setZero();
      }
    }
  unfold_weights();
  out.steps = out_steps_;
  out.batch = B;
  out.lengths = out_lengths_;
  out.values.resize(taps_.rows(), columns);
  kernels::gemm(packed_, bias.value.data(), unfolded_.data(), unfolded_.rows(), static_cast<int>(columns), out.values.data());
  for (int t = 0; t < out_steps_; ++t)
    for (int b = 0; b < B; ++b)
      if (t >= out_lengths_[b]) out.values.col(static_cast<Eigen::Index>(t) * B + b).setZero();
}

// Under ForwardOnly: no X' (k·C rows a column, kept for backward's weight gradient). Each
// sample's real steps are copied once into a buffer with the padding's zero columns around them,
// and the GEMM reads output step t's window in place, the k·C values from the buffer's column t
// on (overlapping windows, x_stride C): the same values in the same order as X''s column, so the
// same output to the bit.
void Conv1D::forward_windows(const SequenceBatch& in, SequenceBatch& out) {
  const int T = in.steps, B = in.batch, k = kernel_size_;
  const Eigen::Index C = in_channels_;
  const int offset = padding_ == Padding::Same ? (k - 1) / 2 : 0;
  unfolded_ = Matrix();
  kept_ = false;
  unfold_weights();
  const Eigen::Index rows = taps_.rows();
  out.steps = out_steps_;
  out.batch = B;
  out.lengths = out_lengths_;
  out.values.resize(rows, static_cast<Eigen::Index>(out_steps_) * B);
  for (int b = 0; b < B; ++b) {
    windows_.setZero(C, out_steps_ + k - 1);  // input step s at column s + offset
    const int length = std::max(0, std::min(in.lengths[b], T));
    for (int s = 0; s < length && s + offset < windows_.cols(); ++s)
      windows_.col(s + offset) = in.values.col(static_cast<Eigen::Index>(s) * B + b);
    const int n = std::max(0, std::min(out_lengths_[b], out_steps_));
    if (n > 0)  // (an output of no steps has no memory to point into)
      kernels::gemm(packed_, bias.value.data(), windows_.data(), C, n, out.values.data() + static_cast<std::ptrdiff_t>(b) * rows,
                    static_cast<std::ptrdiff_t>(B) * rows);
    for (int t = n; t < out_steps_; ++t) out.values.col(static_cast<Eigen::Index>(t) * B + b).setZero();
  }
}

void Conv1D::backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  check(kept_, weight.name.substr(0, weight.name.rfind('.')) + ": backward after a forward-only pass (nothing was kept for it)");
  const int T = in_steps_, B = batch_, k = kernel_size_;
  const Eigen::Index C = in_channels_;
  const int offset = padding_ == Padding::Same ? (k - 1) / 2 : 0;
  Matrix grad = grad_out.values;  // padding outputs are constants: their gradient is dropped
  for (int t = 0; t < out_steps_; ++t)
    for (int b = 0; b < B; ++b)
      if (t >= out_lengths_[b]) grad.col(static_cast<Eigen::Index>(t) * B + b).setZero();
  if (!InputGradientsOnly::active()) {
    bias.grad.col(0) += grad.rowwise().sum();
    const Matrix taps_grad = grad * unfolded_.transpose();  // dL/dW' = dy X'ᵀ
    for (Eigen::Index o = 0; o < taps_grad.rows(); ++o)
      for (Eigen::Index i = 0; i < C; ++i)
        for (Eigen::Index j = 0; j < k; ++j) weight.grad(o, i * k + j) += taps_grad(o, j * C + i);
  }
  if (!grad_in) return;
  grad_in->steps = T;
  grad_in->batch = B;
  grad_in->lengths = in_lengths_;
  grad_in->values.setZero(C, static_cast<Eigen::Index>(T) * B);
  const Matrix unfolded_grad = taps_.transpose() * grad;  // dL/dX' = W'ᵀ dy, folded back onto the input steps
  for (int j = 0; j < k; ++j) {
    const int shift = j - offset;
    const int t0 = std::max(0, -shift), t1 = std::min(out_steps_, T - shift);
    if (t1 > t0)
      grad_in->values.middleCols(static_cast<Eigen::Index>(t0 + shift) * B, static_cast<Eigen::Index>(t1 - t0) * B) +=
          unfolded_grad.block(j * C, static_cast<Eigen::Index>(t0) * B, C, static_cast<Eigen::Index>(t1 - t0) * B);
  }
  for (int t = 0; t < T; ++t)  // masked inputs were read as zero: no gradient flows to them
    for (int b = 0; b < B; ++b)
      if (t >= in_lengths_[b]) grad_in->values.col(static_cast<Eigen::Index>(t) * B + b).setZero();
}

}  // namespace attnlens
