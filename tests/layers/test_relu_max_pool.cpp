// ReLU and MaxPool1D, one file because they share their tests: by hand (the pool's windows read
// real steps only) and gradient check. Neither has parameters, so no round trip.
#include "layer_test.hpp"

#include "layers/max_pool.hpp"
#include "layers/relu.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("ReLU and MaxPool1D by hand", "[layers][relu][maxpool]") {
  ReLU relu(1);
  Matrix x(1, 7);
  x << -1, 2, 5, -3, 4, 9, 8;
  SequenceBatch activated;
  relu.forward(sequence_batch(x, 7, 1, {7}), activated);
  CHECK(activated.values == (Matrix(1, 7) << 0, 2, 5, 0, 4, 9, 8).finished());
  MaxPool1D pool(1, 3);
  SequenceBatch pooled;
  pool.forward(sequence_batch(x, 7, 1, {5}), pooled);  // steps 5, 6 are padding (9 and 8 must not win)
  REQUIRE(pooled.steps == 3);
  CHECK(pooled.lengths[0] == 2);
  CHECK(pooled.values(0, 0) == 5);
  CHECK(pooled.values(0, 1) == 4);  // window [-3, 4] of real steps only
  CHECK(pooled.values(0, 2) == 0);
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: ReLU and MaxPool1D", "[gradients][relu][maxpool]") {
  Rng rng(30);
  ReLU relu(3);
  SequenceBatch input = sequence_batch(random_matrix(3, 14, rng), 7, 2, {7, 4});
  check_sequence_layer(relu, input, rng);
  MaxPool1D pool(3, 3);
  check_sequence_layer(pool, input, rng);
}
#endif  // ATTNLENS_GRADIENT_CHECKS

// Under ForwardOnly the pool keeps neither argmax nor shape: the same output, then backward is refused.
TEST_CASE("MaxPool1D under ForwardOnly: the same output, nothing kept for backward", "[layers][maxpool]") {
  Matrix x = Matrix::Random(6, 3 * 10);
  x.col(4) = x.col(7);  // equal maxima in a window
  const SequenceBatch input = sequence_batch(x, 10, 3, {10, 1, 7});
  for (const int size : {1, 2, 3, 4}) {
    MaxPool1D pool(6, size);
    [[maybe_unused]] SequenceBatch kept = expect_forward_only_same(pool, input);
#if ATTNLENS_GRADIENTS
    SequenceBatch grad_in;
    CHECK_THROWS_WITH(pool.backward(kept, &grad_in), Catch::Contains("backward after a forward-only pass"));
    pool.forward(input, kept);
    CHECK_NOTHROW(pool.backward(kept, &grad_in));
    CHECK(grad_in.values.cols() == x.cols());
#endif
  }
}
