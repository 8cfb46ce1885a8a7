// Dropout: kept units scaled by 1/(1-p), identity at inference; gradient check with a fixed mask.
// No parameters, so no round trip.
#include "layer_test.hpp"

#include "layers/dropout.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("Dropout scales kept units and is the identity at inference", "[layers][dropout]") {
  Dropout dropout(0.5);
  Matrix x = Matrix::Ones(100, 100);
  Matrix y = x;
  dropout.forward(y, nullptr);
  CHECK(y == x);
  Rng rng(5);
  dropout.forward(y, &rng);
  const Eigen::Index kept = (y.array() > 0).count();
  CHECK(kept > 4500);
  CHECK(kept < 5500);
  CHECK(((y.array() == 0) || (y.array() == 2)).all());
  Matrix grad = Matrix::Ones(100, 100);
  dropout.backward(grad);
  CHECK(grad == y);  // same mask and scale
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: dropout with a fixed mask", "[gradients][dropout]") {
  Rng rng(7);
  Dropout dropout(0.4);
  Matrix x = random_matrix(5, 4, rng);
  const Matrix projection = random_matrix(5, 4, rng);
  const auto loss = [&]() {
    Matrix y = x;
    Rng mask_rng(99);  // the same mask every call
    dropout.forward(y, &mask_rng);
    return (y.array() * projection.array()).sum();
  };
  loss();
  Matrix grad = projection;
  dropout.backward(grad);
  expect_input_gradients(loss, x, grad);
}
#endif  // ATTNLENS_GRADIENT_CHECKS
