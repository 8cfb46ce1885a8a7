// The loss (core/loss.hpp, binary cross-entropy on logits): the formula by hand, stable at
// extreme logits; gradient check. Not a layer and without parameters: no round trip.
#include "layer_test.hpp"

#include "core/loss.hpp"

using namespace attnlens;
using namespace attnlens::testing;
using Catch::Matchers::WithinAbs;

TEST_CASE("BCE with logits matches the formula and is stable", "[layers][loss]") {
  Matrix z(1, 2);
  z << 0, 2;
  Matrix grad;
  const double loss = bce_with_logits(z, {1, 0}, &grad);
  CHECK_THAT(loss, WithinAbs((std::log(2.0) + 2 + std::log1p(std::exp(-2.0))) / 2, 1e-6));
  CHECK_THAT(grad(0, 0), WithinAbs((0.5 - 1) / 2, 1e-7));
  CHECK_THAT(grad(0, 1), WithinAbs(sig(2) / 2, 1e-7));
  Matrix extreme(1, 2);
  extreme << 1000, -1000;
  CHECK(std::isfinite(bce_with_logits(extreme, {0, 1}, &grad)));
  CHECK_THAT(bce_with_logits(extreme, {0, 1}, nullptr), WithinAbs(1000, 1e-3));
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: BCE with logits", "[gradients][loss]") {
  Matrix z(1, 4);
  z << -3, -0.2, 0.7, 5;
  const std::vector<float> y = {0, 1, 1, 0};
  Matrix grad;
  bce_with_logits(z, y, &grad);
  expect_input_gradients([&]() { return bce_with_logits(z, y, nullptr); }, z, grad);
}
#endif  // ATTNLENS_GRADIENT_CHECKS
