// Dense: W x + b by hand with its round trip (weights and output), gradient check.
#include "layer_test.hpp"

#include "layers/dense.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("Dense computes W x + b", "[layers][dense]") {
  Dense dense("fc", 2, 2);
  dense.weight.value << 1, 2, 3, 4;
  dense.bias.value << 0.5, -1;
  Matrix x(2, 1);
  x << 1, -1;
  const Matrix& y = dense.forward(x);
  CHECK(y(0, 0) == Approx(-0.5));
  CHECK(y(1, 0) == Approx(-2.0));
  Dense copy("fc", 2, 2);
  round_trip(dense, copy);
  CHECK(same_parameters(dense, copy));
  CHECK(copy.forward(x) == dense.forward(x));
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: Dense", "[gradients][dense]") {
  Rng rng(1);
  Dense dense("fc", 4, 3);
  dense.init(rng);
  dense.bias.value = random_matrix(3, 1, rng);
  Matrix x = random_matrix(4, 5, rng);
  const Matrix projection = random_matrix(3, 5, rng);
  const auto loss = [&]() { return (dense.forward(x).array() * projection.array()).sum(); };
  Matrix grad_x;
  expect_parameter_gradients(dense, loss, [&]() { dense.forward(x); grad_x = dense.backward(projection); });
  expect_input_gradients(loss, x, grad_x);
}
#endif  // ATTNLENS_GRADIENT_CHECKS

// A column of y is computed the same way whatever the other columns: the first k columns of a
// product over n columns are, to the bit, the product over those k alone (a review's logit does
// not move with its batch's size), for shapes across the GEMM's tiles, tails and column blocks.
TEST_CASE("Dense: a column's result does not depend on how many columns there are", "[layers][dense]") {
  for (const int out : {1, 5, 16, 33}) {
    Dense dense("fc", 37, out);
    dense.weight.value = Matrix::Random(out, 37);
    dense.bias.value = Matrix::Random(out, 1);
    const Matrix x = Matrix::Random(37, 150);
    Matrix all, some;
    dense.apply(x, all, kernels::Activation::Relu);
    for (const int k : {1, 2, 3, 17, 64, 65, 129}) {
      INFO("out " << out << ", columns " << k);
      dense.apply(x.leftCols(k), some, kernels::Activation::Relu);
      CHECK(some == all.leftCols(k));
    }
  }
}
