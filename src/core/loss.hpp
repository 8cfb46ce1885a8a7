// Binary cross-entropy on logits, averaged over the batch, in the numerically stable
// form  l(z, y) = max(z, 0) − z·y + log(1 + exp(−|z|)).
#pragma once
#include <vector>

#include "core/tensor.hpp"

namespace attnlens {

// logits [1, batch]; targets in {0, 1}. Writes dL/dz = (σ(z) − y) / batch into grad
// when grad is non-null, and returns the mean loss.
double bce_with_logits(const Matrix& logits, const std::vector<float>& targets, Matrix* grad);

inline double sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }

}  // namespace attnlens
