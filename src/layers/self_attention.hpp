// Multi-head self-attention (Vaswani et al. 2017): scaled dot-product attention per head, with a
// padding mask: a padding step is never attended to, and the outputs at padding steps are zero.
#pragma once
#include <string>
#include <vector>

#include "layers/dense.hpp"
#include "layers/module.hpp"

namespace attnlens {

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

}  // namespace attnlens
