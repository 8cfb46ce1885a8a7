#include "core/loss.hpp"

#include <cmath>

#include "core/error.hpp"

namespace attnlens {

double bce_with_logits(const Matrix& logits, const std::vector<float>& targets, Matrix* grad) {
  check(logits.rows() == 1 && static_cast<size_t>(logits.cols()) == targets.size(), "bce: logits and targets differ in size");
  const Eigen::Index batch = logits.cols();
  if (grad) grad->resize(1, batch);
  double total = 0.0;
  for (Eigen::Index b = 0; b < batch; ++b) {
    const double z = logits(0, b), y = targets[b];
    total += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
    if (grad) (*grad)(0, b) = static_cast<Scalar>((sigmoid(z) - y) / static_cast<double>(batch));
  }
  return batch ? total / static_cast<double>(batch) : 0.0;
}

}  // namespace attnlens
