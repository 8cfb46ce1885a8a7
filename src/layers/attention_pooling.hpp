// Attention pooling as in the seed tutorial, over real (non-padding) steps only:
//   e_t = tanh(w · h_t + b),   α = softmax(e) over t < length,   c = Σ_t α_t h_t
// Padding steps get α = 0 exactly and do not enter the softmax's normaliser.
#pragma once
#include <string>

#include "layers/pooling.hpp"

namespace attnlens {

class AttentionPooling : public PoolingOf<AttentionPooling> {
 public:
  AttentionPooling() = default;
  AttentionPooling(const std::string& name, int channels);
  void init(Rng& rng) override;
  int input_channels() const override { return static_cast<int>(weight.value.cols()); }
  std::string name() const override { return "AttentionPooling " + weight.name; }
  const Matrix& weights() const { return weights_; }
  const Matrix* step_weights() const override { return &weights_; }
  std::vector<Parameter*> parameters() override { return {&weight, &bias}; }

  Parameter weight;  // [1, C]
  Parameter bias;    // [1]

 private:
  friend PoolingOf<AttentionPooling>;
  // h [C, T*B] -> context [C, B]; weights() is then α [T, B].
  const Matrix& forward_impl(const SequenceBatch& h) override;
  // d_context [C, B] -> grad_in [C, T*B]
  void backward_impl(const Matrix& grad_context, SequenceBatch& grad_in);
  SequenceBatch input_;
  Matrix scores_;   // e [T, B]
  Matrix weights_;  // α [T, B]
  Matrix context_;  // c [C, B]
};

}  // namespace attnlens
