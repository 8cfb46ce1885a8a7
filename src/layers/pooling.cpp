#include "layers/pooling.hpp"

#include <limits>

namespace attnlens {

namespace {
// The shape of h without its values, for backward.
SequenceBatch shape_of(const SequenceBatch& h) {
  SequenceBatch s;
  s.steps = h.steps;
  s.batch = h.batch;
  s.lengths = h.lengths;
  s.values.resize(h.values.rows(), 0);
  return s;
}
void zero_like(const SequenceBatch& shape, SequenceBatch& grad_in) {
  grad_in.steps = shape.steps;
  grad_in.batch = shape.batch;
  grad_in.lengths = shape.lengths;
  grad_in.values.setZero(shape.values.rows(), static_cast<Eigen::Index>(shape.steps) * shape.batch);
}
int real_length(const SequenceBatch& h, int b) { return std::max(0, std::min(h.lengths[b], h.steps)); }
}  // namespace

const Matrix& Pooling::forward(const SequenceBatch& h) {
  const int channels = input_channels();
  check_with(channels == 0 || h.values.rows() == channels, [&] {
    return name() + ": input has " + std::to_string(h.values.rows()) + " channels, expected " + std::to_string(channels);
  });
  check_with(h.steps >= 0 && h.batch >= 0 && h.values.cols() == static_cast<Eigen::Index>(h.steps) * h.batch &&
                 h.lengths.size() == static_cast<size_t>(h.batch),
             [&] { return name() + ": input is not " + std::to_string(h.steps) + " steps × " + std::to_string(h.batch) + " samples"; });
  const Matrix& pooled = forward_impl(h);
  output_rows_ = pooled.rows();
  output_columns_ = pooled.cols();
  return pooled;
}

void Pooling::backward(const Matrix& grad_pooled, SequenceBatch& grad_in) {
  if constexpr (!kHasGradients) no_gradients(name());
  check_with(output_rows_ >= 0, [&] { return name() + ": backward before any forward"; });
  check_with(grad_pooled.rows() == output_rows_ && grad_pooled.cols() == output_columns_,
             [&] { return name() + ": gradient is not shaped like the pooled output"; });
  run_backward(grad_pooled, grad_in);
}

const Matrix& GlobalMaxPooling::forward_impl(const SequenceBatch& h) {
  shape_ = shape_of(h);
  const Eigen::Index C = h.values.rows();
  pooled_.setZero(C, h.batch);
  argmax_.assign(static_cast<size_t>(C * h.batch), -1);
  for (int b = 0; b < h.batch; ++b)
    for (Eigen::Index c = 0; c < C; ++c) {
      Scalar best = -std::numeric_limits<Scalar>::infinity();
      for (int t = 0; t < real_length(h, b); ++t) {
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
  zero_like(shape_, grad_in);
  const Eigen::Index C = grad_in.values.rows();
  for (int b = 0; b < shape_.batch; ++b)
    for (Eigen::Index c = 0; c < C; ++c) {
      const Eigen::Index column = argmax_[static_cast<size_t>(b * C + c)];
      if (column >= 0) grad_in.values(c, column) += grad_pooled(c, b);  // only the max received the value
    }
}

const Matrix& MeanPooling::forward_impl(const SequenceBatch& h) {
  shape_ = shape_of(h);
  pooled_.setZero(h.values.rows(), h.batch);
  for (int b = 0; b < h.batch; ++b) {
    const int length = real_length(h, b);
    for (int t = 0; t < length; ++t) pooled_.col(b) += h.values.col(static_cast<Eigen::Index>(t) * h.batch + b);
    if (length > 0) pooled_.col(b) /= static_cast<Scalar>(length);
  }
  return pooled_;
}

void MeanPooling::backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in) {
  zero_like(shape_, grad_in);
  for (int b = 0; b < shape_.batch; ++b) {
    const int length = real_length(shape_, b);
    for (int t = 0; t < length; ++t)  // d mean / dh_t = 1 / length
      grad_in.values.col(static_cast<Eigen::Index>(t) * shape_.batch + b) = grad_pooled.col(b) / static_cast<Scalar>(length);
  }
}

const Matrix& LastPooling::forward_impl(const SequenceBatch& h) {
  shape_ = shape_of(h);
  pooled_.setZero(h.values.rows(), h.batch);
  for (int b = 0; b < h.batch; ++b) {
    const int length = real_length(h, b);
    if (length > 0) pooled_.col(b) = h.values.col(static_cast<Eigen::Index>(length - 1) * h.batch + b);
  }
  return pooled_;
}

void LastPooling::backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in) {
  zero_like(shape_, grad_in);
  for (int b = 0; b < shape_.batch; ++b) {
    const int length = real_length(shape_, b);
    if (length > 0) grad_in.values.col(static_cast<Eigen::Index>(length - 1) * shape_.batch + b) = grad_pooled.col(b);
  }
}

}  // namespace attnlens
