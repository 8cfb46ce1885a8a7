#include "layers/last_pooling.hpp"

namespace attnlens {

const Matrix& LastPooling::forward_impl(const SequenceBatch& h) {
  shape_ = pooling_shape_of(h);
  pooled_.setZero(h.values.rows(), h.batch);
  for (int b = 0; b < h.batch; ++b) {
    const int length = pooling_real_length(h, b);
    if (length > 0) pooled_.col(b) = h.values.col(static_cast<Eigen::Index>(length - 1) * h.batch + b);
  }
  return pooled_;
}

void LastPooling::backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in) {
  pooling_zero_like(shape_, grad_in);
  for (int b = 0; b < shape_.batch; ++b) {
    const int length = pooling_real_length(shape_, b);
    if (length > 0) grad_in.values.col(static_cast<Eigen::Index>(length - 1) * shape_.batch + b) = grad_pooled.col(b);
  }
}

}  // namespace attnlens
