#include "layers/module.hpp"

namespace attnlens {

void no_gradients(const std::string& layer) {
  throw Error(layer +
              " backward: this build of attnlens has no gradients (training and gradient explanations need the full "
              "engine, e.g. web/dist/attnlens-train.js)");
}

void check_sequence_input(const SequenceBatch& in, int channels, const std::function<std::string()>& name) {
  check_with(channels == 0 || in.values.rows() == channels, [&] {
    return name() + ": input has " + std::to_string(in.values.rows()) + " channels, expected " + std::to_string(channels);
  });
  check_with(in.steps >= 0 && in.batch >= 0 && in.values.cols() == static_cast<Eigen::Index>(in.steps) * in.batch &&
                 in.lengths.size() == static_cast<size_t>(in.batch),
             [&] {
               return name() + ": input of " + std::to_string(in.values.cols()) + " columns and " +
                      std::to_string(in.lengths.size()) + " lengths is not " + std::to_string(in.steps) + " steps × " +
                      std::to_string(in.batch) + " samples";
             });
}

void SequenceLayer::forward(const SequenceBatch& in, SequenceBatch& out) {
  check_sequence_input(in, input_channels(), [this] { return name(); });
  forward_impl(in, out);
  output_rows_ = out.values.rows();
  output_columns_ = out.values.cols();
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
