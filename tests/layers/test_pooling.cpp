// Global max, mean and last pooling over the real steps: by hand and gradient check.
// They have no parameters, so no round trip. (Attention pooling: test_attention_pooling.cpp.)
#include "layer_test.hpp"

#include "layers/global_max_pooling.hpp"
#include "layers/last_pooling.hpp"
#include "layers/mean_pooling.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("global max, mean and last pooling over real steps", "[layers][pooling]") {
  Matrix h(1, 6);  // steps 3, batch 2: sample 0 = [1, 7, 3], sample 1 = [4, 9 (padding), 8 (padding)]
  h << 1, 4, 7, 9, 3, 8;
  const SequenceBatch batch = sequence_batch(h, 3, 2, {3, 1});
  GlobalMaxPooling max_pool;
  CHECK(max_pool.forward(batch) == (Matrix(1, 2) << 7, 4).finished());
  MeanPooling mean_pool;
  CHECK(mean_pool.forward(batch).isApprox((Matrix(1, 2) << 11.0 / 3, 4).finished()));
  LastPooling last_pool;
  CHECK(last_pool.forward(batch) == (Matrix(1, 2) << 3, 4).finished());
  const SequenceBatch empty = sequence_batch(Matrix(1, 0), 0, 1, {0});
  CHECK(max_pool.forward(empty).isZero());
  CHECK(mean_pool.forward(empty).isZero());
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: global max, mean and last pooling", "[gradients][pooling]") {
  Rng rng(31);
  const SequenceBatch input = sequence_batch(random_matrix(3, 12, rng), 4, 3, {4, 1, 3});
  GlobalMaxPooling max_pool;
  check_pooling(max_pool, input, rng);
  MeanPooling mean_pool;
  check_pooling(mean_pool, input, rng);
  LastPooling last_pool;
  check_pooling(last_pool, input, rng);
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("global max pooling under ForwardOnly: the same output, nothing kept for backward", "[layers][pooling]") {
  const SequenceBatch input = sequence_batch(Matrix::Random(5, 4 * 6), 6, 4, {6, 1, 0, 4});
  GlobalMaxPooling pool;
  const Matrix kept = pool.forward(input);
  Matrix streamed;
  {
    ForwardOnly forward_only;
    streamed = pool.forward(input);
  }
  CHECK(streamed == kept);
  CHECK(kept.col(2).isZero());  // no real steps
#if ATTNLENS_GRADIENTS
  SequenceBatch grad_in;
  CHECK_THROWS_WITH(pool.backward(kept, grad_in), Catch::Contains("backward after a forward-only pass"));
  pool.forward(input);
  CHECK_NOTHROW(pool.backward(kept, grad_in));
#endif
}
