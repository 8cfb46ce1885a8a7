#pragma once
#include <string>
#include <vector>

#include "layers/module.hpp"

namespace attnlens {

// y = γ ⊙ (x − μ) / √(σ² + ε) + β over the channels of each column.
class LayerNorm : public Module {
 public:
  LayerNorm() = default;
  LayerNorm(const std::string& name, int channels, double epsilon = 1e-5);
  void init(Rng&);
  void forward(const Matrix& x, Matrix& y);
  void backward(const Matrix& dy, Matrix& dx);
  std::vector<Parameter*> parameters() override { return {&weight, &bias}; }
  Parameter weight, bias;  // [E], [E]

 private:
  double epsilon_ = 1e-5;
  Matrix normalized_;      // x̂ [E, N]
  RowVector inverse_std_;  // 1 / √(σ² + ε) per column
};

}  // namespace attnlens
