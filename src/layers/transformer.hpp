// The Transformer encoder (Vaswani et al. 2017), pre-norm, with PyTorch's names:
//   x_0 = √E · embedding + sinusoidal position encoding            (real steps only)
//   per layer:  h = x + MHA(LayerNorm₁(x));   y = h + W₂ ReLU(W₁ LayerNorm₂(h) + b₁) + b₂
//   output = LayerNorm(x_L)
// Multi-head self-attention is scaled dot-product attention per head with a padding mask:
// a padding step is never attended to, and the outputs at padding steps are zero.
// Pre-norm (the layer norm inside each residual branch) trains more stably than the
// original post-norm; positions are sinusoidal, so reviews of any length work.
#pragma once
#include <string>
#include <vector>

#include "layers/layer_norm.hpp"
#include "layers/module.hpp"
#include "layers/transformer_layer.hpp"

namespace attnlens {

class TransformerEncoder : public SequenceLayerOf<TransformerEncoder> {
 public:
  TransformerEncoder() = default;
  TransformerEncoder(const std::string& prefix, int channels, int layers, int heads, int feedforward);
  void init(Rng& rng) override;
  int input_channels() const override { return channels_; }
  int output_channels() const override { return channels_; }
  std::string name() const override { return "TransformerEncoder " + norm_.weight.name; }
  std::vector<Parameter*> parameters() override;
  int layers() const { return static_cast<int>(layers_.size()); }
  const MultiHeadSelfAttention& self_attention(int layer) const { return layers_[static_cast<size_t>(layer)].self_attention(); }

 private:
  friend SequenceLayerOf<TransformerEncoder>;
  void forward_impl(const SequenceBatch& in, SequenceBatch& out) override;
  void backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in);
  int channels_ = 0;
  std::vector<TransformerEncoderLayer> layers_;
  LayerNorm norm_;
  std::vector<SequenceBatch> states_;  // input of each layer, then the last layer's output
  Matrix positions_;                   // sinusoidal position encodings [E, longest length seen]
  Matrix normed_;
  TransformerEncoderLayer::Workspace workspace_;  // under ForwardOnly, lent to each layer in turn
};

}  // namespace attnlens
