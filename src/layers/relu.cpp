#include "layers/relu.hpp"

#include "core/error.hpp"

namespace attnlens {

void ReLU::forward_impl(const SequenceBatch& in, SequenceBatch& out) {
  out.steps = in.steps;
  out.batch = in.batch;
  out.lengths = in.lengths;
  out.values = in.values.cwiseMax(Scalar(0));
  output_ = out.values;
}

void ReLU::backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  if (!grad_in) return;
  *grad_in = grad_out;
  grad_in->values = (output_.array() > 0).select(grad_out.values, Scalar(0));  // d max(0, x)/dx = [x > 0]
}

}  // namespace attnlens
