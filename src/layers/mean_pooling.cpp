#include "layers/mean_pooling.hpp"

namespace attnlens {

const Matrix& MeanPooling::forward_impl(const SequenceBatch& h) {
  shape_ = pooling_shape_of(h);
  pooled_.setZero(h.values.rows(), h.batch);
  for (int b = 0; b < h.batch; ++b) {
    const int length = pooling_real_length(h, b);
    for (int t = 0; t < length; ++t) pooled_.col(b) += h.values.col(static_cast<Eigen::Index>(t) * h.batch + b);
    if (length > 0 && !sum_) pooled_.col(b) /= static_cast<Scalar>(length);
  }
  return pooled_;
}

void MeanPooling::backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in) {
  pooling_zero_like(shape_, grad_in);
  for (int b = 0; b < shape_.batch; ++b) {
    const int length = pooling_real_length(shape_, b);
    const Scalar scale = sum_ ? Scalar(1) : Scalar(1) / static_cast<Scalar>(length);  // d mean / dh_t = 1 / length
    for (int t = 0; t < length; ++t)
      grad_in.values.col(static_cast<Eigen::Index>(t) * shape_.batch + b) = grad_pooled.col(b) * scale;
  }
}

}  // namespace attnlens
