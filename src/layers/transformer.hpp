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

#include "layers/dense.hpp"
#include "layers/module.hpp"

namespace attnlens {

// y = γ ⊙ (x − μ) / √(σ² + ε) + β over the channels of each column.
class LayerNorm : public Module {
 public:
  LayerNorm() = default;
  LayerNorm(const std::string& name, int channels, double epsilon = 1e-5);
  void init(Rng&);
  void forward(const Matrix& x, Matrix& y);
  void backward(const Matrix& dy, Matrix& dx);
  std::vector<Parameter*> parameters() override { return {&weight, &bias}; }
  Parameter weight, bias;  // [E], [E]

 private:
  double epsilon_ = 1e-5;
  Matrix normalized_;      // x̂ [E, N]
  RowVector inverse_std_;  // 1 / √(σ² + ε) per column
};

class MultiHeadSelfAttention : public Module {
 public:
  MultiHeadSelfAttention() = default;
  // Names: <prefix>.in_proj_weight [3E, E], .in_proj_bias [3E], .out_proj.weight [E, E], .out_proj.bias [E].
  MultiHeadSelfAttention(const std::string& prefix, int channels, int heads);
  void init(Rng& rng);
  // x [E, T*B] (time-major) → out [E, T*B]; zero at padding steps.
  void forward(const SequenceBatch& x, Matrix& out);
  void backward(const Matrix& grad_out, Matrix& grad_in);
  // Attention of sample b, head h of the last forward: [L_b keys, L_b queries]; column q is
  // query q's distribution over the keys (it sums to 1).
  const Matrix& attention(int b, int h) const { return attention_[static_cast<size_t>(b * heads_ + h)]; }
  int heads() const { return heads_; }
  std::vector<Parameter*> parameters() override;

  Parameter in_proj_weight, in_proj_bias;
  Dense out_proj;

 private:
  int channels_ = 0, heads_ = 1;
  SequenceBatch input_;
  Matrix qkv_, context_;
  std::vector<Matrix> attention_;  // per (sample, head)
};

class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer() = default;
  TransformerEncoderLayer(const std::string& prefix, int channels, int heads, int feedforward);
  void init(Rng& rng);
  void forward(const SequenceBatch& x, SequenceBatch& y);
  // grad_out [E, T*B] → grad_in [E, T*B]
  void backward(const Matrix& grad_out, Matrix& grad_in);
  std::vector<Parameter*> parameters() override;
  const MultiHeadSelfAttention& self_attention() const { return self_attn_; }

 private:
  LayerNorm norm1_, norm2_;
  MultiHeadSelfAttention self_attn_;
  Dense linear1_, linear2_;
  std::vector<int> lengths_;
  int batch_ = 0;
  Matrix normed1_, attended_, residual_, normed2_, hidden_;
};

class TransformerEncoder : public SequenceLayer {
 public:
  TransformerEncoder() = default;
  TransformerEncoder(const std::string& prefix, int channels, int layers, int heads, int feedforward);
  void init(Rng& rng) override;
  int output_channels() const override { return channels_; }
  void forward(const SequenceBatch& in, SequenceBatch& out) override;
  void backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) override;
  std::vector<Parameter*> parameters() override;
  int layers() const { return static_cast<int>(layers_.size()); }
  const MultiHeadSelfAttention& self_attention(int layer) const { return layers_[static_cast<size_t>(layer)].self_attention(); }

 private:
  int channels_ = 0;
  std::vector<TransformerEncoderLayer> layers_;
  LayerNorm norm_;
  std::vector<SequenceBatch> states_;  // input of each layer, then the last layer's output
  Matrix positions_;                   // sinusoidal position encodings [E, longest length seen]
  Matrix normed_;
};

// Zeroes the columns of padding steps (t ≥ length) of a time-major [rows, T*B] matrix.
void zero_padding_columns(Matrix& values, int steps, int batch, const std::vector<int>& lengths);

}  // namespace attnlens
