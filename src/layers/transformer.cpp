#include "layers/transformer.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/init.hpp"
#include "core/kernels.hpp"

namespace attnlens {

// ---------------------------------------------------------------- encoder layer
TransformerEncoderLayer::TransformerEncoderLayer(const std::string& prefix, int channels, int heads, int feedforward)
    : norm1_(prefix + ".norm1", channels),
      norm2_(prefix + ".norm2", channels),
      self_attn_(prefix + ".self_attn", channels, heads),
      linear1_(prefix + ".linear1", channels, feedforward),
      linear2_(prefix + ".linear2", feedforward, channels) {}

void TransformerEncoderLayer::init(Rng& rng) {
  norm1_.init(rng);
  norm2_.init(rng);
  self_attn_.init(rng);
  linear1_.init(rng);
  linear2_.init(rng);
}

std::vector<Parameter*> TransformerEncoderLayer::parameters() {
  std::vector<Parameter*> params = self_attn_.parameters();
  for (Module* m : std::initializer_list<Module*>{&linear1_, &linear2_, &norm1_, &norm2_})
    for (Parameter* p : m->parameters()) params.push_back(p);
  return params;
}

void TransformerEncoderLayer::forward(const SequenceBatch& x, SequenceBatch& y) {
  lengths_ = x.lengths;
  batch_ = x.batch;
  SequenceBatch normed;
  norm1_.forward(x.values, normed1_);
  normed.steps = x.steps;
  normed.batch = x.batch;
  normed.lengths = x.lengths;
  normed.values = normed1_;
  self_attn_.forward(normed, attended_);
  residual_ = x.values + attended_;              // h = x + MHA(LN₁(x))
  norm2_.forward(residual_, normed2_);
  hidden_ = linear1_.forward(normed2_).cwiseMax(Scalar(0));
  y.steps = x.steps;
  y.batch = x.batch;
  y.lengths = x.lengths;
  y.values = residual_ + linear2_.forward(hidden_);  // y = h + FFN(LN₂(h))
  zero_padding_columns(y.values, x.steps, x.batch, x.lengths);
}

void TransformerEncoderLayer::backward(const Matrix& grad_out, Matrix& grad_in) {
  const int steps = static_cast<int>(grad_out.cols() / std::max(batch_, 1));
  Matrix grad_residual = grad_out;
  zero_padding_columns(grad_residual, steps, batch_, lengths_);
  // FFN branch: y = h + W₂ ReLU(W₁ c + b₁) + b₂ with c = LN₂(h)
  Matrix grad_hidden = linear2_.backward(grad_residual);
  grad_hidden = (hidden_.array() > 0).select(grad_hidden, Scalar(0));
  Matrix grad_normed2 = linear1_.backward(grad_hidden), grad_from_norm2;
  norm2_.backward(grad_normed2, grad_from_norm2);
  grad_residual += grad_from_norm2;
  zero_padding_columns(grad_residual, steps, batch_, lengths_);
  // attention branch: h = x + MHA(LN₁(x))
  Matrix grad_normed1, grad_from_norm1;
  self_attn_.backward(grad_residual, grad_normed1);
  norm1_.backward(grad_normed1, grad_from_norm1);
  grad_in = grad_residual + grad_from_norm1;
  zero_padding_columns(grad_in, steps, batch_, lengths_);
}

// ---------------------------------------------------------------- encoder
TransformerEncoder::TransformerEncoder(const std::string& prefix, int channels, int layers, int heads, int feedforward)
    : channels_(channels), norm_(prefix + ".norm", channels) {
  check(layers > 0 && feedforward > 0, prefix + ": layers and feedforward size must be positive");
  for (int i = 0; i < layers; ++i)
    layers_.emplace_back(prefix + ".layers." + std::to_string(i), channels, heads, feedforward);
}

void TransformerEncoder::init(Rng& rng) {
  for (auto& layer : layers_) layer.init(rng);
  norm_.init(rng);
}

std::vector<Parameter*> TransformerEncoder::parameters() {
  std::vector<Parameter*> params;
  for (auto& layer : layers_)
    for (Parameter* p : layer.parameters()) params.push_back(p);
  for (Parameter* p : norm_.parameters()) params.push_back(p);
  return params;
}

void TransformerEncoder::forward_impl(const SequenceBatch& in, SequenceBatch& out) {
  const int T = in.steps, B = in.batch;
  states_.resize(layers_.size() + 1);
  SequenceBatch& x0 = states_[0];
  x0 = in;
  x0.values *= static_cast<Scalar>(std::sqrt(static_cast<double>(channels_)));
  if (positions_.cols() < T) {  // sinusoidal positions, computed once per length seen
    // PE[t, 2i] = sin(t / 10000^(2i/E)), PE[t, 2i+1] = cos(t / 10000^(2i/E)).
    const Eigen::Index first = positions_.cols();
    positions_.conservativeResize(channels_, std::max<Eigen::Index>(T, 2 * first));
    for (Eigen::Index t = first; t < positions_.cols(); ++t)
      for (int i = 0; i < channels_; ++i) {
        const double angle = static_cast<double>(t) / std::pow(10000.0, static_cast<double>(i - i % 2) / channels_);
        positions_(i, t) = static_cast<Scalar>(i % 2 == 0 ? std::sin(angle) : std::cos(angle));
      }
  }
  for (int t = 0; t < T; ++t) x0.values.middleCols(static_cast<Eigen::Index>(t) * B, B).colwise() += positions_.col(t);
  zero_padding_columns(x0.values, T, B, in.lengths);
  for (size_t l = 0; l < layers_.size(); ++l) layers_[l].forward(states_[l], states_[l + 1]);
  out = states_.back();
  norm_.forward(states_.back().values, out.values);
  zero_padding_columns(out.values, T, B, in.lengths);
}

void TransformerEncoder::backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  const SequenceBatch& shape = states_[0];
  Matrix grad = grad_out.values, next;
  zero_padding_columns(grad, shape.steps, shape.batch, shape.lengths);
  norm_.backward(grad, next);
  for (size_t l = layers_.size(); l-- > 0;) {
    layers_[l].backward(next, grad);
    next.swap(grad);
  }
  if (grad_in) {
    grad_in->steps = shape.steps;
    grad_in->batch = shape.batch;
    grad_in->lengths = shape.lengths;
    grad_in->values = next * static_cast<Scalar>(std::sqrt(static_cast<double>(channels_)));  // x₀ = √E x + PE
    zero_padding_columns(grad_in->values, shape.steps, shape.batch, shape.lengths);
  }
}

}  // namespace attnlens
