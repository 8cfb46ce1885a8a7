// Adam (Kingma & Ba 2015) with bias correction and optional decoupled weight decay (AdamW,
// Loshchilov & Hutter 2019), and global gradient-norm clipping.
#pragma once
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace attnlens {

class Adam {
 public:
  struct Options {
    double learning_rate = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    double weight_decay = 0.0;  // decoupled: θ ← θ − lr · λ · θ before the Adam step (0: plain Adam)
  };
  explicit Adam(const Options& options) : options_(options) {}
  // θ ← θ − lr · m̂ / (√v̂ + ε), m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g²
  void step(const std::vector<Parameter*>& parameters);
  void set_learning_rate(double learning_rate) { options_.learning_rate = learning_rate; }
  // λ for each parameter of the list step() is given, in its order (empty: weight_decay for all).
  void set_weight_decays(std::vector<double> decays) { weight_decays_ = std::move(decays); }
  const Options& options() const { return options_; }
  double learning_rate() const { return options_.learning_rate; }
  int64_t steps() const { return step_count_; }

  // Everything a resumed run needs to take the same steps (train/checkpoint.hpp): the step count,
  // the learning rate as decayed so far, and the moments (empty before the first step).
  struct State {
    int64_t steps = 0;
    double learning_rate = 0;
    std::vector<ParamMatrix> first_moment, second_moment;
  };
  State state() const { return {step_count_, options_.learning_rate, first_moment_, second_moment_}; }
  void restore(State state);

 private:
  Options options_;
  std::vector<double> weight_decays_;
  int64_t step_count_ = 0;
  std::vector<ParamMatrix> first_moment_, second_moment_;
};

// Scales all gradients so their joint L2 norm is at most max_norm (max_norm ≤ 0: no
// clipping). Returns the norm before clipping.
double clip_gradient_norm(const std::vector<Parameter*>& parameters, double max_norm);

}  // namespace attnlens
