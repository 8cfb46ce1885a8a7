#include "layers/transformer.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/init.hpp"
#include "core/kernels.hpp"

namespace attnlens {

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
  for (size_t l = 0; l < layers_.size(); ++l) layers_[l].forward(states_[l], states_[l + 1], &workspace_);
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
