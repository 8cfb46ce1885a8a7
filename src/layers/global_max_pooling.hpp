#pragma once
#include <string>
#include <vector>

#include "layers/pooling.hpp"

namespace attnlens {

// Element-wise maximum over real steps (Keras GlobalMaxPooling1D, masking-aware).
class GlobalMaxPooling : public PoolingOf<GlobalMaxPooling> {
 public:
  std::string name() const override { return "GlobalMaxPooling"; }

 private:
  friend PoolingOf<GlobalMaxPooling>;
  const Matrix& forward_impl(const SequenceBatch& h) override;
  void backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in);
  SequenceBatch shape_;
  std::vector<Eigen::Index> argmax_;  // per (channel, sample): the input column of the max, −1 if empty
  bool kept_ = false;                 // the last forward kept argmax_ (not under ForwardOnly)
  Matrix pooled_;
};

}  // namespace attnlens
