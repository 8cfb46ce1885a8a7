// Poolings: a sequence batch [C, T*B] to one vector per sample [C, B], over real
// (non-padding) steps only. An empty sequence pools to zero. This is their base; the
// poolings are global_max_pooling.hpp, mean_pooling.hpp, last_pooling.hpp and
// attention_pooling.hpp.
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

// What the poolings share: the shape of h without its values (kept for backward), a zero
// gradient of that shape, and a sample's real length (its length, within [0, steps]).
SequenceBatch pooling_shape_of(const SequenceBatch& h);
void pooling_zero_like(const SequenceBatch& shape, SequenceBatch& grad_in);
int pooling_real_length(const SequenceBatch& h, int b);

template <class Layer>
class PoolingOf : public Pooling {
  void run_backward(const Matrix& grad_pooled, SequenceBatch& grad_in) final {
    if constexpr (kHasGradients) static_cast<Layer&>(*this).backward_impl(grad_pooled, grad_in);
  }
};




}  // namespace attnlens
