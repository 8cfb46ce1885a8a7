// Embedding lookup with a padding index whose row is zero and never receives gradient.
#pragma once
#include <string>

#include "layers/module.hpp"

namespace attnlens {

class Embedding : public Module {
 public:
  Embedding() = default;
  Embedding(const std::string& name, int vocab_size, int dim, int padding_index = 0);
  void init(Rng& rng);
  // ids [steps*batch] -> out.values [dim, steps*batch]; padding steps give zero columns.
  void forward(const TokenBatch& tokens, SequenceBatch& out);
  // dL/dW[id] += dL/dout[:, col] for every real column whose id != padding_index.
  void backward(const SequenceBatch& grad_out);
  std::vector<Parameter*> parameters() override { return {&weight}; }

  int vocab_size() const { return static_cast<int>(weight.value.rows()); }
  int dim() const { return static_cast<int>(weight.value.cols()); }
  int padding_index() const { return padding_index_; }

  Parameter weight;  // [vocab, dim]

 private:
  int padding_index_ = 0;
  TokenBatch tokens_;
};

}  // namespace attnlens
