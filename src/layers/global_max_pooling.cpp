#include "layers/global_max_pooling.hpp"

#include <limits>

namespace attnlens {

const Matrix& GlobalMaxPooling::forward_impl(const SequenceBatch& h) {
  shape_ = pooling_shape_of(h);
  const Eigen::Index C = h.values.rows();
  pooled_.setZero(C, h.batch);
  argmax_.assign(static_cast<size_t>(C * h.batch), -1);
  for (int b = 0; b < h.batch; ++b)
    for (Eigen::Index c = 0; c < C; ++c) {
      Scalar best = -std::numeric_limits<Scalar>::infinity();
      for (int t = 0; t < pooling_real_length(h, b); ++t) {
        const Eigen::Index column = static_cast<Eigen::Index>(t) * h.batch + b;
        if (h.values(c, column) > best) {
          best = h.values(c, column);
          argmax_[static_cast<size_t>(b * C + c)] = column;
        }
      }
      if (argmax_[static_cast<size_t>(b * C + c)] >= 0) pooled_(c, b) = best;
    }
  return pooled_;
}

void GlobalMaxPooling::backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in) {
  pooling_zero_like(shape_, grad_in);
  const Eigen::Index C = grad_in.values.rows();
  for (int b = 0; b < shape_.batch; ++b)
    for (Eigen::Index c = 0; c < C; ++c) {
      const Eigen::Index column = argmax_[static_cast<size_t>(b * C + c)];
      if (column >= 0) grad_in.values(c, column) += grad_pooled(c, b);  // only the max received the value
    }
}

}  // namespace attnlens
