#include "layers/global_max_pooling.hpp"

#include <limits>

#include "core/error.hpp"

namespace attnlens {

const Matrix& GlobalMaxPooling::forward_impl(const SequenceBatch& h) {
  shape_ = pooling_shape_of(h);
  const Eigen::Index C = h.values.rows();
  // Backward needs where each maximum was; under ForwardOnly it is not kept.
  const bool kept = kept_ = kHasGradients && !ForwardOnly::active();  // (without gradients never: less code)
  pooled_.setConstant(C, h.batch, -std::numeric_limits<Scalar>::infinity());
  if (kept) argmax_.assign(static_cast<size_t>(C * h.batch), -1);
  else argmax_.clear();
  // Step by step, channels innermost (contiguous columns: the compiler vectorises the loop); the
  // first of equal maxima wins. A sample with no real steps (or only NaNs) pools to 0.
  for (int b = 0; b < h.batch; ++b) {
    Scalar* best = pooled_.col(b).data();
    Eigen::Index* where = kept ? argmax_.data() + static_cast<Eigen::Index>(b) * C : nullptr;
    const int length = pooling_real_length(h, b);
    for (int t = 0; t < length; ++t) {
      const Eigen::Index column = static_cast<Eigen::Index>(t) * h.batch + b;
      const Scalar* v = h.values.col(column).data();
      if (where) {
        for (Eigen::Index c = 0; c < C; ++c)
          if (v[c] > best[c]) best[c] = v[c], where[c] = column;
      } else {
        for (Eigen::Index c = 0; c < C; ++c) best[c] = v[c] > best[c] ? v[c] : best[c];
      }
    }
    for (Eigen::Index c = 0; c < C; ++c)
      if (best[c] == -std::numeric_limits<Scalar>::infinity()) best[c] = 0;
  }
  return pooled_;
}

void GlobalMaxPooling::backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in) {
  check(kept_, name() + ": backward after a forward-only pass (nothing was kept for it)");
  pooling_zero_like(shape_, grad_in);
  const Eigen::Index C = grad_in.values.rows();
  for (int b = 0; b < shape_.batch; ++b)
    for (Eigen::Index c = 0; c < C; ++c) {
      const Eigen::Index column = argmax_[static_cast<size_t>(b * C + c)];
      if (column >= 0) grad_in.values(c, column) += grad_pooled(c, b);  // only the max received the value
    }
}

}  // namespace attnlens
