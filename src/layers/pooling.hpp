// Poolings: a sequence batch [C, T*B] to one vector per sample [C, B], over real
// (non-padding) steps only. An empty sequence pools to zero.
#pragma once
#include <string>
#include <vector>

#include "layers/module.hpp"

namespace attnlens {

// The skeleton, as SequenceLayer's (layers/module.hpp): forward() and backward() check their
// arguments and call the pooling's forward_impl() and, in builds with gradients, backward_impl().
class Pooling : public Module {
 public:
  virtual void init(Rng&) {}
  // The channels the pooling reads; 0 when it takes any number.
  virtual int input_channels() const { return 0; }
  virtual std::string name() const = 0;
  // h [C, T*B] -> pooled [C, B]
  const Matrix& forward(const SequenceBatch& h);
  // d_pooled [C, B] -> grad_in [C, T*B]
  void backward(const Matrix& grad_pooled, SequenceBatch& grad_in);
  // Per-step weights α [T, B] when the pooling has them (attention), else nullptr.
  virtual const Matrix* step_weights() const { return nullptr; }
  std::vector<Parameter*> parameters() override { return {}; }

 private:
  virtual const Matrix& forward_impl(const SequenceBatch& h) = 0;
  virtual void run_backward(const Matrix& grad_pooled, SequenceBatch& grad_in) = 0;
  Eigen::Index output_rows_ = -1, output_columns_ = -1;
};

template <class Layer>
class PoolingOf : public Pooling {
  void run_backward(const Matrix& grad_pooled, SequenceBatch& grad_in) final {
    if constexpr (kHasGradients) static_cast<Layer&>(*this).backward_impl(grad_pooled, grad_in);
  }
};

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
  Matrix pooled_;
};

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
