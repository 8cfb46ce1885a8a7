#include "layers/dense.hpp"

#include "core/error.hpp"
#include "core/init.hpp"

namespace attnlens {

Dense::Dense(const std::string& name, int in_features, int out_features)
    : weight(name + ".weight", {out_features, in_features}), bias(name + ".bias", {out_features}) {}

void Dense::init(Rng& rng) {
  init::xavier_uniform(weight.value, rng);
  bias.value.setZero();
}

const Matrix& Dense::forward(const Matrix& x) {
  check_with(x.rows() == weight.value.cols(), [&] {
    return "dense " + weight.name + ": input has " + std::to_string(x.rows()) +
           " features, expected " + std::to_string(weight.value.cols());
  });
  input_ = x;
  output_.noalias() = weight.value * x;
  output_.colwise() += bias.value.col(0);
  return output_;
}

const Matrix& Dense::backward(const Matrix& dy) {
  if (!InputGradientsOnly::active()) {
    weight.grad.noalias() += dy * input_.transpose();  // dL/dW = dL/dy · xᵀ
    bias.grad.col(0) += dy.rowwise().sum();            // dL/db = Σ_batch dL/dy
  }
  grad_input_.noalias() = weight.value.transpose() * dy;  // dL/dx = Wᵀ · dL/dy
  return grad_input_;
}

}  // namespace attnlens
