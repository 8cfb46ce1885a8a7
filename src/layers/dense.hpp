// Fully connected layer, PyTorch's Linear: y = W x + b, W is [out, in].
#pragma once
#include <string>

#include "layers/module.hpp"

namespace attnlens {

class Dense : public Module {
 public:
  Dense() = default;
  Dense(const std::string& name, int in_features, int out_features);
  void init(Rng& rng);
  // x [in, batch] -> [out, batch]
  const Matrix& forward(const Matrix& x);
  // dy [out, batch] -> dx [in, batch]
  const Matrix& backward(const Matrix& dy);
  std::vector<Parameter*> parameters() override { return {&weight, &bias}; }

  Parameter weight;  // [out, in]
  Parameter bias;    // [out]

 private:
  Matrix input_, output_, grad_input_;
};

}  // namespace attnlens
