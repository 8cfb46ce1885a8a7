#include "layers/transformer.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/init.hpp"
#include "core/kernels.hpp"

namespace attnlens {

void zero_padding_columns(Matrix& values, int steps, int batch, const std::vector<int>& lengths) {
  for (int t = 0; t < steps; ++t)
    for (int b = 0; b < batch; ++b)
      if (t >= lengths[b]) values.col(static_cast<Eigen::Index>(t) * batch + b).setZero();
}

// ---------------------------------------------------------------- LayerNorm
LayerNorm::LayerNorm(const std::string& name, int channels, double epsilon)
    : weight(name + ".weight", {channels}), bias(name + ".bias", {channels}), epsilon_(epsilon) {
  weight.value.setOnes();
}

void LayerNorm::init(Rng&) {
  weight.value.setOnes();
  bias.value.setZero();
}

void LayerNorm::forward(const Matrix& x, Matrix& y) {
  const Eigen::Index E = x.rows();
  const RowVector mean = x.colwise().mean();
  normalized_ = x.rowwise() - mean;
  const RowVector variance = normalized_.array().square().colwise().sum() / static_cast<Scalar>(E);
  inverse_std_ = (variance.array() + static_cast<Scalar>(epsilon_)).rsqrt();
  normalized_.array().rowwise() *= inverse_std_.array();
  y = (normalized_.array().colwise() * weight.value.col(0).array()).colwise() + bias.value.col(0).array();
}

void LayerNorm::backward(const Matrix& dy, Matrix& dx) {
  const Scalar E = static_cast<Scalar>(dy.rows());
  if (!InputGradientsOnly::active()) {
    weight.grad.col(0) += (dy.array() * normalized_.array()).rowwise().sum().matrix();  // dL/dγ = Σ dy ⊙ x̂
    bias.grad.col(0) += dy.rowwise().sum();                                             // dL/dβ = Σ dy
  }
  // g = dy ⊙ γ;  dx = (g − mean(g) − x̂ · mean(g ⊙ x̂)) / √(σ² + ε)
  const Matrix g = dy.array().colwise() * weight.value.col(0).array();
  const RowVector mean_g = g.colwise().sum() / E;
  const RowVector mean_gx = (g.array() * normalized_.array()).colwise().sum() / E;
  dx = ((g.rowwise() - mean_g).array() - normalized_.array().rowwise() * mean_gx.array()).rowwise() * inverse_std_.array();
}

// ---------------------------------------------------------------- multi-head self-attention
MultiHeadSelfAttention::MultiHeadSelfAttention(const std::string& prefix, int channels, int heads)
    : in_proj_weight(prefix + ".in_proj_weight", {3 * channels, channels}),
      in_proj_bias(prefix + ".in_proj_bias", {3 * channels}),
      out_proj(prefix + ".out_proj", channels, channels),
      channels_(channels),
      heads_(heads) {
  check(heads > 0 && channels % heads == 0, prefix + ": " + std::to_string(channels) + " channels do not split into " +
                                                std::to_string(heads) + " heads");
}

void MultiHeadSelfAttention::init(Rng& rng) {
  init::xavier_uniform(in_proj_weight.value, rng);
  in_proj_bias.value.setZero();
  out_proj.init(rng);
}

std::vector<Parameter*> MultiHeadSelfAttention::parameters() {
  return {&in_proj_weight, &in_proj_bias, &out_proj.weight, &out_proj.bias};
}

namespace {
using StridedColumns = Eigen::Map<Matrix, 0, Eigen::OuterStride<>>;
// The L columns of sample b in a time-major [rows, T*B] matrix, as a [rows, L] view.
StridedColumns sample_columns(Matrix& m, int b, int batch, int length) {
  return StridedColumns(m.data() + static_cast<Eigen::Index>(b) * m.rows(), m.rows(), length,
                        Eigen::OuterStride<>(m.rows() * batch));
}
}  // namespace

void MultiHeadSelfAttention::forward(const SequenceBatch& x, Matrix& out) {
  check_with(x.values.rows() == channels_, [&] {
    return in_proj_weight.name + ": input has wrong channel count";
  });
  const int T = x.steps, B = x.batch, E = channels_, d = E / heads_;
  const Scalar scale = static_cast<Scalar>(1.0 / std::sqrt(static_cast<double>(d)));
  input_ = x;
  qkv_.noalias() = in_proj_weight.value * x.values;  // [3E, T*B]: queries, keys, values
  qkv_.colwise() += in_proj_bias.value.col(0);
  context_.setZero(E, static_cast<Eigen::Index>(T) * B);
  attention_.resize(static_cast<size_t>(B * heads_));  // kept between calls: same-sized products reuse their memory
  for (int b = 0; b < B; ++b) {
    const int L = std::max(0, std::min(x.lengths[b], T));
    if (L == 0) continue;
    auto qkv = sample_columns(qkv_, b, B, L);
    auto context = sample_columns(context_, b, B, L);
    for (int h = 0; h < heads_; ++h) {
      const auto q = qkv.middleRows(h * d, d), k = qkv.middleRows(E + h * d, d), v = qkv.middleRows(2 * E + h * d, d);
      Matrix& a = attention_[static_cast<size_t>(b * heads_ + h)];
      // Column j holds query j's scores over the keys, so the softmax runs down contiguous
      // columns (vectorised exp): Aᵀ = softmax_columns(KᵀQ / √d)  [L, L] over real steps only.
      a.noalias() = k.transpose() * q;
      for (Eigen::Index j = 0; j < L; ++j) kernels::softmax(a.col(j).data(), L, scale);
      context.middleRows(h * d, d).noalias() = v * a;  // O = V Aᵀ  [d, L]
    }
  }
  out = out_proj.forward(context_);
  zero_padding_columns(out, T, B, x.lengths);
}

void MultiHeadSelfAttention::backward(const Matrix& grad_out, Matrix& grad_in) {
  const int T = input_.steps, B = input_.batch, E = channels_, d = E / heads_;
  const Scalar scale = static_cast<Scalar>(1.0 / std::sqrt(static_cast<double>(d)));
  Matrix grad = grad_out;
  zero_padding_columns(grad, T, B, input_.lengths);  // padding outputs are constants
  Matrix grad_context = out_proj.backward(grad);
  Matrix grad_qkv = Matrix::Zero(3 * E, static_cast<Eigen::Index>(T) * B);
  for (int b = 0; b < B; ++b) {
    const int L = std::max(0, std::min(input_.lengths[b], T));
    if (L == 0) continue;
    auto qkv = sample_columns(qkv_, b, B, L);
    auto dqkv = sample_columns(grad_qkv, b, B, L);
    auto dcontext = sample_columns(grad_context, b, B, L);
    for (int h = 0; h < heads_; ++h) {
      const auto q = qkv.middleRows(h * d, d), k = qkv.middleRows(E + h * d, d), v = qkv.middleRows(2 * E + h * d, d);
      const Matrix& a = attention_[static_cast<size_t>(b * heads_ + h)];
      const auto dout = dcontext.middleRows(h * d, d);  // a is Aᵀ: [keys, queries]
      dqkv.middleRows(2 * E + h * d, d).noalias() = dout * a.transpose();  // O = V Aᵀ ⇒ dV = dO A
      Matrix da = v.transpose() * dout;                                     //          dAᵀ = Vᵀ dO
      // softmax per column (query): dSᵀ = Aᵀ ⊙ (dAᵀ − colsum(dAᵀ ⊙ Aᵀ))
      const RowVector column_dot = (da.array() * a.array()).colwise().sum();
      Matrix ds = a.array() * (da.rowwise() - column_dot).array();
      ds *= scale;  // Sᵀ = KᵀQ / √d
      dqkv.middleRows(h * d, d).noalias() = k * ds;                // dQ = K dSᵀ
      dqkv.middleRows(E + h * d, d).noalias() = q * ds.transpose();  // dK = Q dS
    }
  }
  if (!InputGradientsOnly::active()) {
    in_proj_weight.grad.noalias() += grad_qkv * input_.values.transpose();
    in_proj_bias.grad.col(0) += grad_qkv.rowwise().sum();
  }
  grad_in.noalias() = in_proj_weight.value.transpose() * grad_qkv;
}

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

void TransformerEncoder::forward(const SequenceBatch& in, SequenceBatch& out) {
  check(in.values.rows() == channels_, "transformer: input has wrong channel count");
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

void TransformerEncoder::backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  ATTNLENS_REQUIRE_GRADIENTS("TransformerEncoder");
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
