#include "layers/self_attention.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/init.hpp"
#include "core/kernels.hpp"

namespace attnlens {

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

}  // namespace attnlens
