#pragma once

#include "layers/module.hpp"

namespace attnlens {

// max(0, x), element-wise.
class ReLU : public SequenceLayerOf<ReLU> {
 public:
  explicit ReLU(int channels = 0) : channels_(channels) {}
  void init(Rng&) override {}
  int input_channels() const override { return channels_; }
  int output_channels() const override { return channels_; }
  std::string name() const override { return "ReLU"; }
  std::vector<Parameter*> parameters() override { return {}; }

 private:
  friend SequenceLayerOf<ReLU>;
  void forward_impl(const SequenceBatch& in, SequenceBatch& out) override;
  void backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in);
  int channels_;
  Matrix output_;
};

}  // namespace attnlens
