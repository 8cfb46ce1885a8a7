#pragma once
#include <string>
#include <vector>

#include "layers/pooling.hpp"

namespace attnlens {

// Mean over real steps.
class MeanPooling : public PoolingOf<MeanPooling> {
 public:
  std::string name() const override { return "MeanPooling"; }

 private:
  friend PoolingOf<MeanPooling>;
  const Matrix& forward_impl(const SequenceBatch& h) override;
  void backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in);
  SequenceBatch shape_;
  Matrix pooled_;
};

}  // namespace attnlens
