#include "layers/conv1d.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"

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

Matrix Conv1D::kernel_tap(int j) const {
  Matrix tap(weight.value.rows(), in_channels_);
  for (Eigen::Index o = 0; o < tap.rows(); ++o)
    for (Eigen::Index i = 0; i < tap.cols(); ++i) tap(o, i) = weight.value(o, i * kernel_size_ + j);
  return tap;
}

void Conv1D::forward(const SequenceBatch& in, SequenceBatch& out) {
  check(in.values.rows() == in_channels_, weight.name + ": input has " + std::to_string(in.values.rows()) +
                                              " channels, expected " + std::to_string(in_channels_));
  const int T = in.steps, B = in.batch, k = kernel_size_;
  const int offset = padding_ == Padding::Same ? (k - 1) / 2 : 0;  // input step of tap 0 is t − offset
  input_ = in;
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b)
      if (t >= in.lengths[b]) input_.values.col(static_cast<Eigen::Index>(t) * B + b).setZero();
  out_steps_ = padding_ == Padding::Same ? T : std::max(0, T - k + 1);
  out_lengths_.resize(B);
  for (int b = 0; b < B; ++b)
    out_lengths_[b] = padding_ == Padding::Same ? in.lengths[b] : std::max(0, std::min(in.lengths[b], T) - k + 1);
  out.steps = out_steps_;
  out.batch = B;
  out.lengths = out_lengths_;
  out.values.resize(weight.value.rows(), static_cast<Eigen::Index>(out_steps_) * B);
  out.values.colwise() = bias.value.col(0);
  // One product per tap: output steps [t0, t1) read input steps [t0 + shift, t1 + shift).
  for (int j = 0; j < k; ++j) {
    const int shift = j - offset;
    const int t0 = std::max(0, -shift), t1 = std::min(out_steps_, T - shift);
    if (t1 <= t0) continue;
    out.values.middleCols(static_cast<Eigen::Index>(t0) * B, static_cast<Eigen::Index>(t1 - t0) * B).noalias() +=
        kernel_tap(j) * input_.values.middleCols(static_cast<Eigen::Index>(t0 + shift) * B, static_cast<Eigen::Index>(t1 - t0) * B);
  }
  for (int t = 0; t < out_steps_; ++t)
    for (int b = 0; b < B; ++b)
      if (t >= out_lengths_[b]) out.values.col(static_cast<Eigen::Index>(t) * B + b).setZero();
}

void Conv1D::backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  const int T = input_.steps, B = input_.batch, k = kernel_size_;
  const int offset = padding_ == Padding::Same ? (k - 1) / 2 : 0;
  Matrix grad = grad_out.values;  // padding outputs are constants: their gradient is dropped
  for (int t = 0; t < out_steps_; ++t)
    for (int b = 0; b < B; ++b)
      if (t >= out_lengths_[b]) grad.col(static_cast<Eigen::Index>(t) * B + b).setZero();
  bias.grad.col(0) += grad.rowwise().sum();
  if (grad_in) {
    grad_in->steps = T;
    grad_in->batch = B;
    grad_in->lengths = input_.lengths;
    grad_in->values.setZero(in_channels_, static_cast<Eigen::Index>(T) * B);
  }
  for (int j = 0; j < k; ++j) {
    const int shift = j - offset;
    const int t0 = std::max(0, -shift), t1 = std::min(out_steps_, T - shift);
    if (t1 <= t0) continue;
    const auto dy = grad.middleCols(static_cast<Eigen::Index>(t0) * B, static_cast<Eigen::Index>(t1 - t0) * B);
    const auto x = input_.values.middleCols(static_cast<Eigen::Index>(t0 + shift) * B, static_cast<Eigen::Index>(t1 - t0) * B);
    const Matrix tap_grad = dy * x.transpose();  // dL/dW[:, :, j] = Σ_t dy_t x_{t+shift}ᵀ
    for (Eigen::Index o = 0; o < tap_grad.rows(); ++o)
      for (Eigen::Index i = 0; i < tap_grad.cols(); ++i) weight.grad(o, i * k + j) += tap_grad(o, i);
    if (grad_in)  // dL/dx_{t+shift} += W[:, :, j]ᵀ dy_t
      grad_in->values.middleCols(static_cast<Eigen::Index>(t0 + shift) * B, static_cast<Eigen::Index>(t1 - t0) * B).noalias() +=
          kernel_tap(j).transpose() * dy;
  }
  if (grad_in)  // masked inputs were read as zero: no gradient flows to them
    for (int t = 0; t < T; ++t)
      for (int b = 0; b < B; ++b)
        if (t >= input_.lengths[b]) grad_in->values.col(static_cast<Eigen::Index>(t) * B + b).setZero();
}

void ReLU::forward(const SequenceBatch& in, SequenceBatch& out) {
  out.steps = in.steps;
  out.batch = in.batch;
  out.lengths = in.lengths;
  out.values = in.values.cwiseMax(Scalar(0));
  output_ = out.values;
}

void ReLU::backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  if (!grad_in) return;
  *grad_in = grad_out;
  grad_in->values = (output_.array() > 0).select(grad_out.values, Scalar(0));  // d max(0, x)/dx = [x > 0]
}

void MaxPool1D::forward(const SequenceBatch& in, SequenceBatch& out) {
  check(size_ >= 1, "maxpool1d: size must be at least 1");
  const int T = in.steps, B = in.batch;
  input_ = in;
  out.steps = (T + size_ - 1) / size_;
  out.batch = B;
  out.lengths.resize(B);
  for (int b = 0; b < B; ++b) out.lengths[b] = (std::max(0, std::min(in.lengths[b], T)) + size_ - 1) / size_;
  const Eigen::Index rows = in.values.rows();
  out.values.setZero(rows, static_cast<Eigen::Index>(out.steps) * B);
  argmax_.assign(static_cast<size_t>(out.values.size()), -1);
  for (int t = 0; t < out.steps; ++t)
    for (int b = 0; b < B; ++b) {
      const int begin = t * size_, end = std::min({begin + size_, in.lengths[b], T});
      if (begin >= end) continue;
      const Eigen::Index column = static_cast<Eigen::Index>(t) * B + b;
      for (Eigen::Index c = 0; c < rows; ++c) {
        Scalar best = -std::numeric_limits<Scalar>::infinity();
        Eigen::Index where = -1;
        for (int s = begin; s < end; ++s) {
          const Eigen::Index source = static_cast<Eigen::Index>(s) * B + b;
          if (in.values(c, source) > best) { best = in.values(c, source); where = source; }
        }
        out.values(c, column) = best;
        argmax_[static_cast<size_t>(column * rows + c)] = where;
      }
    }
}

void MaxPool1D::backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  if (!grad_in) return;
  grad_in->steps = input_.steps;
  grad_in->batch = input_.batch;
  grad_in->lengths = input_.lengths;
  grad_in->values.setZero(input_.values.rows(), input_.values.cols());
  const Eigen::Index rows = input_.values.rows();
  for (Eigen::Index column = 0; column < grad_out.values.cols(); ++column)
    for (Eigen::Index c = 0; c < rows; ++c) {
      const Eigen::Index source = argmax_[static_cast<size_t>(column * rows + c)];
      if (source >= 0) grad_in->values(c, source) += grad_out.values(c, column);  // to the max only
    }
}

}  // namespace attnlens
