// One pre-norm Transformer encoder layer (see layers/transformer.hpp for the whole encoder):
//   h = x + MHA(LayerNorm₁(x));   y = h + W₂ ReLU(W₁ LayerNorm₂(h) + b₁) + b₂
// with PyTorch's names (<prefix>.self_attn, .linear1, .linear2, .norm1, .norm2). Outputs at
// padding steps are zero.
#pragma once
#include <string>
#include <vector>

#include "layers/dense.hpp"
#include "layers/layer_norm.hpp"
#include "layers/module.hpp"
#include "layers/self_attention.hpp"

namespace attnlens {

class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer() = default;
  TransformerEncoderLayer(const std::string& prefix, int channels, int heads, int feedforward);
  void init(Rng& rng);
  // Under ForwardOnly, what the pass works in: one per encoder, lent to each layer in turn, so a
  // long text takes one layer's working memory instead of one per layer.
  struct Workspace {
    SequenceBatch normed;            // LayerNorm₁(x), then LayerNorm₂(h)
    Matrix attended, hidden, added;  // MHA(LN₁(x)); ReLU(W₁ LN₂(h) + b₁); W₂ · hidden + b₂
    MultiHeadSelfAttention::Workspace attention;
  };
  // x → y (y must not be x). A kept forward keeps what backward() needs in the layer; under
  // ForwardOnly with a workspace, the layer keeps nothing but the attention each key received.
  void forward(const SequenceBatch& x, SequenceBatch& y, Workspace* shared = nullptr);
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

}  // namespace attnlens
