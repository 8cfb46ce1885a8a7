#include "layers/dropout.hpp"

namespace attnlens {

void Dropout::forward(Matrix& x, Rng* rng) {
  active_ = rng != nullptr && rate_ > 0.0;
  if (!active_) return;
  const Scalar keep_scale = static_cast<Scalar>(1.0 / (1.0 - rate_));
  mask_.resize(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < mask_.size(); ++i) mask_.data()[i] = rng->uniform() < rate_ ? Scalar(0) : keep_scale;
  x.array() *= mask_.array();
}

void Dropout::backward(Matrix& grad) const {
  if (active_) grad.array() *= mask_.array();
}

}  // namespace attnlens
