// Fully connected layer, PyTorch's Linear: y = W x + b, W is [out, in].
#pragma once
#include <string>

#include "core/kernels.hpp"
#include "layers/module.hpp"

namespace attnlens {

class Dense : public Module {
 public:
  Dense() = default;
  Dense(const std::string& name, int in_features, int out_features);
  void init(Rng& rng);
  // x [in, batch] -> [out, batch], then the activation (ReLU fused into the product's store)
  const Matrix& forward(const Matrix& x, kernels::Activation activation = kernels::Activation::None);
  // dy [out, batch] -> dx [in, batch]
  const Matrix& backward(const Matrix& dy);
  // The same without the cache, for a layer applied at many steps whose inputs the caller
  // keeps (the translator's decoder): y = W x + b; and, from dy and that x, dx = Wᵀ dy with
  // the parameter gradients accumulated (unless InputGradientsOnly is active).
  // Every column of y is computed the same way whatever the other columns are, so a review's
  // logit does not depend on the batch it is in (nor on the batch's size).
  void apply(const Matrix& x, Matrix& y, kernels::Activation activation = kernels::Activation::None) const;
  // y = W x + b on Eigen's product, without the packed copy: for a decoder's step-by-step loop
  // (the translator's beams while decoding, its batch in teacher-forced training), where W is
  // used for a few columns at each step, so packing it would not pay, and checking that the
  // packed copy is current would read W once more at every step (the 8,000 × 256 output layer).
  void apply_step(const Matrix& x, Matrix& y) const;
  void backward(const Matrix& dy, const Matrix& x, Matrix& dx);
  std::vector<Parameter*> parameters() override { return {&weight, &bias}; }

  Parameter weight;  // [out, in]
  Parameter bias;    // [out]

 private:
  void check_input(const Matrix& x) const;

  Matrix input_, output_, grad_input_;
  // weight, packed for kernels::gemm (re-packed when it changes). apply() is const but writes
  // this cache: one Dense must not be applied from two threads at once (every caller gives each
  // thread its own model copy).
  mutable kernels::PackedWeights packed_;
};

}  // namespace attnlens
