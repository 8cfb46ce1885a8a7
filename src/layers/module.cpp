#include "layers/module.hpp"

#include <cstdio>

#include "layers/pooling.hpp"

namespace attnlens {

void no_gradients(const std::string& layer) {
  throw Error(layer +
              " backward: this build of attnlens has no gradients (training and gradient explanations need the full "
              "engine, e.g. web/dist/attnlens-train.js)");
}

namespace {

// Formatted with snprintf: string concatenations cost the page's small engine kilobytes.
[[noreturn]] void bad_input(const std::string& layer, const SequenceBatch& in, int channels) {
  char message[160];
  if (channels != 0 && in.values.rows() != channels)
    std::snprintf(message, sizeof message, ": input has %lld channels, expected %d", static_cast<long long>(in.values.rows()), channels);
  else
    std::snprintf(message, sizeof message, ": input of %lld columns and %zu lengths is not %d steps × %d samples",
                  static_cast<long long>(in.values.cols()), in.lengths.size(), in.steps, in.batch);
  throw Error(layer + message);
}

}  // namespace

template <class Layer>
void check_sequence_input(const SequenceBatch& in, int channels, const Layer& layer) {
  if ((channels != 0 && in.values.rows() != channels) || in.steps < 0 || in.batch < 0 ||
      in.values.cols() != static_cast<Eigen::Index>(in.steps) * in.batch || in.lengths.size() != static_cast<size_t>(in.batch))
    bad_input(layer.name(), in, channels);
}
template void check_sequence_input(const SequenceBatch&, int, const SequenceLayer&);
template void check_sequence_input(const SequenceBatch&, int, const Pooling&);

void SequenceLayer::forward(const SequenceBatch& in, SequenceBatch& out) {
  check_sequence_input(in, input_channels(), *this);
  forward_impl(in, out);
  output_rows_ = out.values.rows();
  output_columns_ = out.values.cols();
}

bool SequenceLayer::forward_with(SequenceLayer& partner, const SequenceBatch& in, SequenceBatch& out,
                                 SequenceBatch& partner_out) {
  check_sequence_input(in, input_channels(), *this);
  check_sequence_input(in, partner.input_channels(), partner);
  if (!forward_with_impl(partner, in, out, partner_out)) return false;
  output_rows_ = out.values.rows();
  output_columns_ = out.values.cols();
  partner.output_rows_ = partner_out.values.rows();
  partner.output_columns_ = partner_out.values.cols();
  return true;
}

void SequenceLayer::backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  if constexpr (!kHasGradients) no_gradients(name());
  check_with(output_rows_ >= 0, [&] { return name() + ": backward before any forward"; });
  check_with(grad_out.values.rows() == output_rows_ && grad_out.values.cols() == output_columns_, [&] {
    return name() + ": gradient is " + std::to_string(grad_out.values.rows()) + " × " +
           std::to_string(grad_out.values.cols()) + ", the output was " + std::to_string(output_rows_) + " × " +
           std::to_string(output_columns_);
  });
  run_backward(grad_out, grad_in);
}

}  // namespace attnlens
