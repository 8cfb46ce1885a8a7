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
