#include "layers/transformer_layer.hpp"

#include <algorithm>

namespace attnlens {

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

void TransformerEncoderLayer::forward(const SequenceBatch& x, SequenceBatch& y, Workspace* shared) {
  lengths_ = x.lengths;
  batch_ = x.batch;
  y.steps = x.steps;
  y.batch = x.batch;
  y.lengths = x.lengths;
  if (ForwardOnly::active() && shared) {
    normed1_ = attended_ = residual_ = normed2_ = hidden_ = Matrix();  // a kept forward's, not needed now
    Workspace& w = *shared;
    w.normed.steps = x.steps;
    w.normed.batch = x.batch;
    w.normed.lengths = x.lengths;
    norm1_.forward(x.values, w.normed.values);
    self_attn_.forward(w.normed, w.attended, &w.attention);
    y.values = x.values + w.attended;  // h = x + MHA(LN₁(x))
    norm2_.forward(y.values, w.normed.values);
    linear1_.apply(w.normed.values, w.hidden, kernels::Activation::Relu);
    linear2_.apply(w.hidden, w.added);
    y.values += w.added;  // y = h + FFN(LN₂(h))
  } else {
    SequenceBatch normed;
    norm1_.forward(x.values, normed1_);
    normed.steps = x.steps;
    normed.batch = x.batch;
    normed.lengths = x.lengths;
    normed.values = normed1_;
    self_attn_.forward(normed, attended_);
    residual_ = x.values + attended_;  // h = x + MHA(LN₁(x))
    norm2_.forward(residual_, normed2_);
    hidden_ = linear1_.forward(normed2_, kernels::Activation::Relu);
    y.values = residual_ + linear2_.forward(hidden_);  // y = h + FFN(LN₂(h))
  }
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

}  // namespace attnlens
