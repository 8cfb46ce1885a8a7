#include "layers/max_pool.hpp"

#include <limits>

#include "core/error.hpp"

namespace attnlens {

void MaxPool1D::forward_impl(const SequenceBatch& in, SequenceBatch& out) {
  check(size_ >= 1, "maxpool1d: size must be at least 1");
  const int T = in.steps, B = in.batch;
  input_ = in;
  out.steps = (T + size_ - 1) / size_;
  out.batch = B;
  out.lengths.resize(B);
  for (int b = 0; b < B; ++b) out.lengths[b] = (std::max(0, std::min(in.lengths[b], T)) + size_ - 1) / size_;
  const Eigen::Index rows = in.values.rows();
  out.values.setZero(rows, static_cast<Eigen::Index>(out.steps) * B);
  argmax_.assign(static_cast<size_t>(out.values.size()), -1);
  for (int t = 0; t < out.steps; ++t)
    for (int b = 0; b < B; ++b) {
      const int begin = t * size_, end = std::min({begin + size_, in.lengths[b], T});
      if (begin >= end) continue;
      const Eigen::Index column = static_cast<Eigen::Index>(t) * B + b;
      for (Eigen::Index c = 0; c < rows; ++c) {
        Scalar best = -std::numeric_limits<Scalar>::infinity();
        Eigen::Index where = -1;
        for (int s = begin; s < end; ++s) {
          const Eigen::Index source = static_cast<Eigen::Index>(s) * B + b;
          if (in.values(c, source) > best) { best = in.values(c, source); where = source; }
        }
        out.values(c, column) = best;
        argmax_[static_cast<size_t>(column * rows + c)] = where;
      }
    }
}

void MaxPool1D::backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  if (!grad_in) return;
  grad_in->steps = input_.steps;
  grad_in->batch = input_.batch;
  grad_in->lengths = input_.lengths;
  grad_in->values.setZero(input_.values.rows(), input_.values.cols());
  const Eigen::Index rows = input_.values.rows();
  for (Eigen::Index column = 0; column < grad_out.values.cols(); ++column)
    for (Eigen::Index c = 0; c < rows; ++c) {
      const Eigen::Index source = argmax_[static_cast<size_t>(column * rows + c)];
      if (source >= 0) grad_in->values(c, source) += grad_out.values(c, column);  // to the max only
    }
}

}  // namespace attnlens
