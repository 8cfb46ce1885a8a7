// Poolings: a sequence batch [C, T*B] to one vector per sample [C, B], over real
// (non-padding) steps only. An empty sequence pools to zero.
#pragma once
#include <vector>

#include "layers/module.hpp"

namespace attnlens {

class Pooling : public Module {
 public:
  virtual void init(Rng&) {}
  virtual const Matrix& forward(const SequenceBatch& h) = 0;
  // d_pooled [C, B] -> grad_in [C, T*B]
  virtual void backward(const Matrix& grad_pooled, SequenceBatch& grad_in) = 0;
  // Per-step weights α [T, B] when the pooling has them (attention), else nullptr.
  virtual const Matrix* step_weights() const { return nullptr; }
  std::vector<Parameter*> parameters() override { return {}; }
};

// Element-wise maximum over real steps (Keras GlobalMaxPooling1D, masking-aware).
class GlobalMaxPooling : public Pooling {
 public:
  const Matrix& forward(const SequenceBatch& h) override;
  void backward(const Matrix& grad_pooled, SequenceBatch& grad_in) override;

 private:
  SequenceBatch shape_;
  std::vector<Eigen::Index> argmax_;  // per (channel, sample): the input column of the max, −1 if empty
  Matrix pooled_;
};

// Mean over real steps.
class MeanPooling : public Pooling {
 public:
  const Matrix& forward(const SequenceBatch& h) override;
  void backward(const Matrix& grad_pooled, SequenceBatch& grad_in) override;

 private:
  SequenceBatch shape_;
  Matrix pooled_;
};

// The output at each sample's last real step (what Keras' LSTM returns by default).
class LastPooling : public Pooling {
 public:
  const Matrix& forward(const SequenceBatch& h) override;
  void backward(const Matrix& grad_pooled, SequenceBatch& grad_in) override;

 private:
  SequenceBatch shape_;
  Matrix pooled_;
};

}  // namespace attnlens
