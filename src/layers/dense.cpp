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

void Dense::check_input(const Matrix& x) const {
  check_with(x.rows() == weight.value.cols(), [&] {
    return "dense " + weight.name + ": input has " + std::to_string(x.rows()) +
           " features, expected " + std::to_string(weight.value.cols());
  });
}

void Dense::apply(const Matrix& x, Matrix& y, kernels::Activation activation) const {
  check_input(x);
  packed_.update(weight.value);
  y.resize(weight.value.rows(), x.cols());
  kernels::gemm(packed_, bias.value.data(), x.data(), x.rows(), static_cast<int>(x.cols()), y.data(), activation);
}

void Dense::apply_step(const Matrix& x, Matrix& y) const {
  check_input(x);
  y.noalias() = weight.value * x;
  y.colwise() += bias.value.col(0);
}

void Dense::backward(const Matrix& dy, const Matrix& x, Matrix& dx) {
  if (kHasGradients && !InputGradientsOnly::active()) {  // an engine without gradients has no buffers for them
    weight.grad.noalias() += dy * x.transpose();  // dL/dW = dL/dy · xᵀ
    bias.grad.col(0) += dy.rowwise().sum();       // dL/db = Σ_batch dL/dy
  }
  dx.noalias() = weight.value.transpose() * dy;  // dL/dx = Wᵀ · dL/dy
}

const Matrix& Dense::forward(const Matrix& x, kernels::Activation activation) {
  input_ = x;
  apply(x, output_, activation);
  return output_;
}

const Matrix& Dense::backward(const Matrix& dy) {
  backward(dy, input_, grad_input_);
  return grad_input_;
}

}  // namespace attnlens
