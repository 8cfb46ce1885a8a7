#pragma once
#include <string>
#include <vector>

#include "layers/pooling.hpp"

namespace attnlens {

// Mean over real steps; or, with sum = true, their sum (a linear n-gram model's pooling).
class MeanPooling : public PoolingOf<MeanPooling> {
 public:
  explicit MeanPooling(bool sum = false) : sum_(sum) {}
  std::string name() const override { return sum_ ? "SumPooling" : "MeanPooling"; }

 private:
  friend PoolingOf<MeanPooling>;
  const Matrix& forward_impl(const SequenceBatch& h) override;
  void backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in);
  bool sum_ = false;
  SequenceBatch shape_;
  Matrix pooled_;
};

}  // namespace attnlens
