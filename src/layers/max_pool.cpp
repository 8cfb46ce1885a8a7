#include "layers/max_pool.hpp"

#include <algorithm>
#include <limits>

#include "core/error.hpp"

namespace attnlens {

void MaxPool1D::forward_impl(const SequenceBatch& in, SequenceBatch& out) {
  check(size_ >= 1, "maxpool1d: size must be at least 1");
  const int T = in.steps, B = in.batch;
  // Backward needs the input's shape and where each maximum was; under ForwardOnly nothing.
  const bool kept = kHasGradients && !ForwardOnly::active();  // (without gradients never: less code)
  input_shape_ = SequenceBatch{};
  input_shape_.steps = T, input_shape_.batch = B, input_shape_.lengths = in.lengths;
  input_rows_ = kept ? in.values.rows() : -1;
  out.steps = (T + size_ - 1) / size_;
  out.batch = B;
  out.lengths.resize(B);
  for (int b = 0; b < B; ++b) out.lengths[b] = (std::max(0, std::min(in.lengths[b], T)) + size_ - 1) / size_;
  const Eigen::Index rows = in.values.rows();
  out.values.setZero(rows, static_cast<Eigen::Index>(out.steps) * B);
  if (kept) argmax_.assign(static_cast<size_t>(out.values.size()), -1);
  else argmax_.clear();
  // Window by window, channels innermost (contiguous columns: the compiler vectorises the loop);
  // the first of equal maxima wins, and a window of NaNs only gives −∞.
  std::vector<Scalar> best(static_cast<size_t>(rows));
  for (int t = 0; t < out.steps; ++t)
    for (int b = 0; b < B; ++b) {
      const int begin = t * size_, end = std::min({begin + size_, in.lengths[b], T});
      if (begin >= end) continue;
      const Eigen::Index column = static_cast<Eigen::Index>(t) * B + b;
      std::fill(best.begin(), best.end(), -std::numeric_limits<Scalar>::infinity());
      Eigen::Index* where = kept ? argmax_.data() + column * rows : nullptr;
      for (int s = begin; s < end; ++s) {
        const Eigen::Index source = static_cast<Eigen::Index>(s) * B + b;
        const Scalar* v = in.values.col(source).data();
        if (where) {
          for (Eigen::Index c = 0; c < rows; ++c)
            if (v[c] > best[static_cast<size_t>(c)]) best[static_cast<size_t>(c)] = v[c], where[c] = source;
        } else {
          for (Eigen::Index c = 0; c < rows; ++c) best[static_cast<size_t>(c)] = v[c] > best[static_cast<size_t>(c)] ? v[c] : best[static_cast<size_t>(c)];
        }
      }
      Scalar* o = out.values.col(column).data();
      std::copy(best.begin(), best.end(), o);
    }
}

void MaxPool1D::backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  if (!grad_in) return;
  check(input_rows_ >= 0, name() + ": backward after a forward-only pass (nothing was kept for it)");
  grad_in->steps = input_shape_.steps;
  grad_in->batch = input_shape_.batch;
  grad_in->lengths = input_shape_.lengths;
  grad_in->values.setZero(input_rows_, static_cast<Eigen::Index>(input_shape_.steps) * input_shape_.batch);
  const Eigen::Index rows = input_rows_;
  for (Eigen::Index column = 0; column < grad_out.values.cols(); ++column)
    for (Eigen::Index c = 0; c < rows; ++c) {
      const Eigen::Index source = argmax_[static_cast<size_t>(column * rows + c)];
      if (source >= 0) grad_in->values(c, source) += grad_out.values(c, column);  // to the max only
    }
}

}  // namespace attnlens
