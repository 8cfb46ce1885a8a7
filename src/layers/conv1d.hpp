// 1-D convolution over time, PyTorch's Conv1d (weight [out, in, kernel], bias [out]),
// stride 1, "same" or "valid" padding. Masking-aware: positions past a sample's length
// read as zero and the outputs there are zero, so padding never changes a result.
//   same:  y_t = b + Σ_j W[:, :, j] x_{t + j − (k−1)/2}, length unchanged
//   valid: y_t = b + Σ_j W[:, :, j] x_{t + j},          length − k + 1 (at least 0)
#pragma once
#include <string>

#include "core/kernels.hpp"
#include "layers/module.hpp"

namespace attnlens {

class Conv1D : public SequenceLayerOf<Conv1D> {
 public:
  enum class Padding { Same, Valid };
  Conv1D() = default;
  Conv1D(const std::string& name, int in_channels, int out_channels, int kernel_size, Padding padding);
  void init(Rng& rng) override;
  int input_channels() const override { return in_channels_; }
  int output_channels() const override { return static_cast<int>(weight.value.rows()); }
  std::string name() const override { return "Conv1D " + weight.name; }
  std::vector<Parameter*> parameters() override { return {&weight, &bias}; }

  Parameter weight;  // [out, in, kernel], row-major: element (o, i, j) at o·in·k + i·k + j
  Parameter bias;    // [out]

 private:
  friend SequenceLayerOf<Conv1D>;
  void forward_impl(const SequenceBatch& in, SequenceBatch& out) override;
  void forward_windows(const SequenceBatch& in, SequenceBatch& out);
  void backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in);
  // The convolution is one product: y = W' · X' + b, where W' [out, k·in] holds tap j's
  // weights in columns j·in … (j+1)·in − 1 and X' [k·in, out_steps·B] stacks, for each tap,
  // the (masked) input shifted by that tap ("im2col").
  void unfold_weights();
  int kernel_size_ = 1;
  int in_channels_ = 1;
  Padding padding_ = Padding::Same;
  int in_steps_ = 0, batch_ = 0;
  std::vector<int> in_lengths_;
  Matrix taps_;          // W' [out, k·in]
  ParamMatrix taps_of_;  // the weight taps_ was made from (rebuilt only when the weight changes)
  kernels::PackedWeights packed_;  // taps_, packed for kernels::gemm
  Matrix unfolded_;  // X' of the last forward (empty after one under ForwardOnly)
  bool kept_ = false;  // the last forward kept X' (not under ForwardOnly)
  Matrix windows_;   // ForwardOnly: one sample's steps between the padding's zero columns
  std::vector<int> out_lengths_;
  int out_steps_ = 0;
};

}  // namespace attnlens
