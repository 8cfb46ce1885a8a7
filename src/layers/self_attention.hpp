// Multi-head self-attention (Vaswani et al. 2017): scaled dot-product attention per head, with a
// padding mask: a padding step is never attended to, and the outputs at padding steps are zero.
// A forward pass keeps each (sample, head)'s L × L attention matrix for backward() and for
// attention(). Under a ForwardOnly guard it keeps only what each key receives (received()), and
// a long text's attention is computed a block of queries at a time: memory grows linearly with
// the length (a 10,000-token text would otherwise need 400 MB per head and layer).
#pragma once
#include <string>
#include <vector>

#include "core/kernels.hpp"
#include "layers/dense.hpp"
#include "layers/module.hpp"

namespace attnlens {

class MultiHeadSelfAttention : public Module {
 public:
  MultiHeadSelfAttention() = default;
  // Names: <prefix>.in_proj_weight [3E, E], .in_proj_bias [3E], .out_proj.weight [E, E], .out_proj.bias [E].
  MultiHeadSelfAttention(const std::string& prefix, int channels, int heads);
  void init(Rng& rng);
  // What a forward pass works in: the projections, the context, a block's scores, the current
  // head's packed keys and values. A kept forward uses the layer's own (backward reads them);
  // under ForwardOnly the caller may lend one shared by several layers (the Transformer's
  // encoder does: one layer's working memory, not one per layer).
  struct Workspace {
    Matrix qkv, context, scores;
    Vector inverse_sums;  // 1 / Σ of each query's exponentials in a block (the softmax's division)
    kernels::PackedWeights keys, values;  // Kᵀ and V of the current head, packed
  };
  // x [E, T*B] (time-major) → out [E, T*B]; zero at padding steps.
  void forward(const SequenceBatch& x, Matrix& out, Workspace* shared = nullptr);
  // After a forward pass that kept the attention (not under ForwardOnly).
  void backward(const Matrix& grad_out, Matrix& grad_in);
  // Attention of sample b, head h of the last forward: [L_b keys, L_b queries]; column q is
  // query q's distribution over the keys (it sums to 1). Only after a forward that kept it.
  const Matrix& attention(int b, int h) const;
  bool kept_attention() const { return kept_; }
  // The attention each key of sample b received from head h in the last forward, the mean over
  // the queries [L_b] (after either kind of forward).
  // Its first L_b entries hold them.
  auto received(int b, int h) const { return received_.col(b * heads_ + h); }
  int heads() const { return heads_; }
  // The longest text whose attention a kept forward may hold (every head's L × L matrix, for
  // gradients or attention rollout) in this build: past it forward() refuses by name.
  int longest_kept_text() const;
  std::vector<Parameter*> parameters() override;

  Parameter in_proj_weight, in_proj_bias;
  Dense out_proj;

 private:
  int channels_ = 0, heads_ = 1;
  SequenceBatch input_;
  Workspace own_;                      // a kept forward's (qkv and context for backward)
  kernels::PackedWeights packed_in_;  // in_proj_weight, packed for kernels::gemm
  bool kept_ = false;                 // the last forward kept attention_ (else received_)
  std::vector<Matrix> attention_;     // per (sample, head)
  Matrix received_;                   // [T, (sample, head)]
};

}  // namespace attnlens
