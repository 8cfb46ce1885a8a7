// LayerNorm: one column by hand, gradient check, round trip.
#include "layer_test.hpp"

#include "layers/layer_norm.hpp"

using namespace attnlens;
using namespace attnlens::testing;
using Catch::Matchers::WithinAbs;

TEST_CASE("LayerNorm normalises each column", "[layers][transformer][layer_norm]") {
  LayerNorm norm("norm", 3);
  norm.weight.value << 1, 2, 1;
  norm.bias.value << 0, 0, 1;
  Matrix x(3, 1), y;
  x << 1, 2, 3;
  norm.forward(x, y);
  const double s = 1 / std::sqrt(2.0 / 3 + 1e-5);  // mean 2, variance 2/3
  CHECK_THAT(y(0, 0), WithinAbs(-1 * s, 1e-5));
  CHECK_THAT(y(1, 0), WithinAbs(0.0, 1e-6));
  CHECK_THAT(y(2, 0), WithinAbs(1 * s + 1, 1e-5));
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: LayerNorm", "[gradients][transformer][layer_norm]") {
  Rng rng(40);
  LayerNorm norm("norm", 4);
  norm.weight.value = random_matrix(4, 1, rng);
  norm.bias.value = random_matrix(4, 1, rng);
  Matrix x = random_matrix(4, 3, rng), y;
  const Matrix projection = random_matrix(4, 3, rng);
  const auto loss = [&]() { Matrix out; norm.forward(x, out); return (out.array() * projection.array()).sum(); };
  Matrix grad_x;
  expect_parameter_gradients(norm, loss, [&]() { norm.forward(x, y); norm.backward(projection, grad_x); });
  expect_input_gradients(loss, x, grad_x);
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("LayerNorm: a fresh layer loaded from the saved bytes gives the same output", "[layers][transformer][layer_norm][round-trip]") {
  LayerNorm norm("norm", 4), fresh("norm", 4);  // a fresh LayerNorm has γ = 1, β = 0
  norm.weight.value << 0.5, 2, -1, 1.5;
  norm.bias.value << 0.1, 0, -0.3, 1;
  expect_round_trip(norm, fresh);
  const Matrix x = Matrix::Random(4, 3);
  Matrix saved, loaded;
  norm.forward(x, saved);
  fresh.forward(x, loaded);
  CHECK(loaded == saved);
}
