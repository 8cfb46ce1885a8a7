#pragma once
#include <vector>

#include "layers/module.hpp"

namespace attnlens {

// Max over windows of `size` steps with stride `size` (Keras MaxPooling1D). A window
// holding real steps only partly takes the max of those; lengths become ceil(length / size).
class MaxPool1D : public SequenceLayerOf<MaxPool1D> {
 public:
  MaxPool1D(int channels = 0, int size = 2) : channels_(channels), size_(size) {}
  void init(Rng&) override {}
  int input_channels() const override { return channels_; }
  int output_channels() const override { return channels_; }
  std::string name() const override { return "MaxPool1D"; }
  std::vector<Parameter*> parameters() override { return {}; }

 private:
  friend SequenceLayerOf<MaxPool1D>;
  void forward_impl(const SequenceBatch& in, SequenceBatch& out) override;
  void backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in);
  int channels_, size_;
  SequenceBatch input_shape_;         // the last input's steps, batch and lengths (no values)
  Eigen::Index input_rows_ = -1;      // its channels; −1: the last forward kept nothing (ForwardOnly)
  std::vector<Eigen::Index> argmax_;  // input column of each output element's max, −1 for padding
};

}  // namespace attnlens
