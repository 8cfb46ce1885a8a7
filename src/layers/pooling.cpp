#include "layers/pooling.hpp"

#include <algorithm>

namespace attnlens {

// The shape of h without its values, for backward.
SequenceBatch pooling_shape_of(const SequenceBatch& h) {
  SequenceBatch s;
  s.steps = h.steps;
  s.batch = h.batch;
  s.lengths = h.lengths;
  s.values.resize(h.values.rows(), 0);
  return s;
}
void pooling_zero_like(const SequenceBatch& shape, SequenceBatch& grad_in) {
  grad_in.steps = shape.steps;
  grad_in.batch = shape.batch;
  grad_in.lengths = shape.lengths;
  grad_in.values.setZero(shape.values.rows(), static_cast<Eigen::Index>(shape.steps) * shape.batch);
}
int pooling_real_length(const SequenceBatch& h, int b) { return std::max(0, std::min(h.lengths[b], h.steps)); }

const Matrix& Pooling::forward(const SequenceBatch& h) {
  check_sequence_input(h, input_channels(), *this);
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

}  // namespace attnlens
