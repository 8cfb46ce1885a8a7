#pragma once

#include "layers/module.hpp"

namespace attnlens {

// max(0, x), element-wise.
class ReLU : public SequenceLayer {
 public:
  explicit ReLU(int channels = 0) : channels_(channels) {}
  void init(Rng&) override {}
  int output_channels() const override { return channels_; }
  void forward(const SequenceBatch& in, SequenceBatch& out) override;
  void backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) override;
  std::vector<Parameter*> parameters() override { return {}; }

 private:
  int channels_;
  Matrix output_;
};

}  // namespace attnlens
