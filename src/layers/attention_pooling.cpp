#include "layers/attention_pooling.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/init.hpp"

namespace attnlens {

AttentionPooling::AttentionPooling(const std::string& name, int channels)
    : weight(name + ".weight", {1, channels}), bias(name + ".bias", {1}) {}

void AttentionPooling::init(Rng& rng) {
  init::xavier_uniform(weight.value, rng);
  bias.value.setZero();
}

const Matrix& AttentionPooling::forward_impl(const SequenceBatch& h) {
  const int T = h.steps, B = h.batch;
  input_ = h;
  const RowVector projected = weight.value.row(0) * h.values;  // [1, T*B]: w · h_t
  scores_.resize(T, B);
  weights_.setZero(T, B);
  context_.setZero(h.values.rows(), B);
  for (int b = 0; b < B; ++b) {
    const int length = std::min(h.lengths[b], T);
    if (length <= 0) continue;  // an empty sequence pools to zero
    Scalar max_score = -2;
    for (int t = 0; t < length; ++t) {
      scores_(t, b) = std::tanh(projected(static_cast<Eigen::Index>(t) * B + b) + bias.value(0, 0));
      max_score = std::max(max_score, scores_(t, b));
    }
    Scalar total = 0;
    for (int t = 0; t < length; ++t) total += (weights_(t, b) = std::exp(scores_(t, b) - max_score));
    for (int t = 0; t < length; ++t) {
      weights_(t, b) /= total;
      context_.col(b) += weights_(t, b) * h.values.col(static_cast<Eigen::Index>(t) * B + b);
    }
  }
  return context_;
}

void AttentionPooling::backward_impl(const Matrix& grad_context, SequenceBatch& grad_in) {
  const int T = input_.steps, B = input_.batch;
  grad_in.steps = T;
  grad_in.batch = B;
  grad_in.lengths = input_.lengths;
  grad_in.values.setZero(input_.values.rows(), input_.values.cols());
  RowVector grad_projected = RowVector::Zero(input_.values.cols());  // dL/d(w·h_t + b)
  for (int b = 0; b < B; ++b) {
    const int length = std::min(input_.lengths[b], T);
    if (length <= 0) continue;
    // dL/dα_t = dc · h_t ;  softmax: dL/de_t = α_t (dL/dα_t − Σ_s α_s dL/dα_s)
    Vector grad_alpha(length);
    for (int t = 0; t < length; ++t)
      grad_alpha(t) = grad_context.col(b).dot(input_.values.col(static_cast<Eigen::Index>(t) * B + b));
    Scalar expected = 0;
    for (int t = 0; t < length; ++t) expected += weights_(t, b) * grad_alpha(t);
    for (int t = 0; t < length; ++t) {
      const Eigen::Index col = static_cast<Eigen::Index>(t) * B + b;
      const Scalar grad_score = weights_(t, b) * (grad_alpha(t) - expected);
      grad_projected(col) = grad_score * (1 - scores_(t, b) * scores_(t, b));  // tanh' = 1 − e²
      grad_in.values.col(col) = weights_(t, b) * grad_context.col(b);         // c = Σ α_t h_t
    }
  }
  if (!InputGradientsOnly::active()) {
    weight.grad.row(0) += grad_projected * input_.values.transpose();  // dL/dw = Σ_t dL/ds_t h_tᵀ
    bias.grad(0, 0) += grad_projected.sum();
  }
  grad_in.values.noalias() += weight.value.row(0).transpose() * grad_projected;  // dL/dh_t += wᵀ dL/ds_t
}

}  // namespace attnlens
