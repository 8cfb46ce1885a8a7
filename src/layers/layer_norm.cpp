#include "layers/layer_norm.hpp"

#include <cmath>

#include "core/error.hpp"

namespace attnlens {

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
  // x̂ is kept for backward; under ForwardOnly it is built in y instead (y may be x).
  const bool kept = !ForwardOnly::active();
  if (!kept) normalized_ = Matrix();
  Matrix& normalized = kept ? normalized_ : y;
  normalized = x.rowwise() - mean;
  const RowVector variance = normalized.array().square().colwise().sum() / static_cast<Scalar>(E);
  inverse_std_ = (variance.array() + static_cast<Scalar>(epsilon_)).rsqrt();
  normalized.array().rowwise() *= inverse_std_.array();
  y = (normalized.array().colwise() * weight.value.col(0).array()).colwise() + bias.value.col(0).array();
}

void LayerNorm::backward(const Matrix& dy, Matrix& dx) {
  check(normalized_.rows() == dy.rows() && normalized_.cols() == dy.cols(),
        weight.name.substr(0, weight.name.rfind('.')) + ": backward without a kept forward of this shape (after one under ForwardOnly?)");
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

}  // namespace attnlens
