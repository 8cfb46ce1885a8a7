#pragma once
#include <string>
#include <vector>

#include "layers/pooling.hpp"

namespace attnlens {

// The output at each sample's last real step (what Keras' LSTM returns by default).
class LastPooling : public PoolingOf<LastPooling> {
 public:
  std::string name() const override { return "LastPooling"; }

 private:
  friend PoolingOf<LastPooling>;
  const Matrix& forward_impl(const SequenceBatch& h) override;
  void backward_impl(const Matrix& grad_pooled, SequenceBatch& grad_in);
  SequenceBatch shape_;
  Matrix pooled_;
};

}  // namespace attnlens
