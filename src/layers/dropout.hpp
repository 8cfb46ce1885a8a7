// Inverted dropout: in training, zero each element with probability p and scale the
// rest by 1/(1-p); at inference it is the identity.
#pragma once
#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace attnlens {

class Dropout {
 public:
  explicit Dropout(double rate = 0.0) : rate_(rate) {}
  double rate() const { return rate_; }
  // In place. rng == nullptr (inference) or rate 0 leaves x unchanged.
  void forward(Matrix& x, Rng* rng);
  // dL/dx = mask ⊙ dL/dy, in place.
  void backward(Matrix& grad) const;

 private:
  double rate_ = 0.0;
  bool active_ = false;
  Matrix mask_;
};

}  // namespace attnlens
