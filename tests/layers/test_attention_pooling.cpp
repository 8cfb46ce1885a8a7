// Attention pooling: softmax over real steps by hand (padding weight exactly 0, an empty
// sequence pools to zero), gradient check, round trip.
#include "layer_test.hpp"

#include "layers/attention_pooling.hpp"

using namespace attnlens;
using namespace attnlens::testing;
using Catch::Matchers::WithinAbs;

TEST_CASE("Attention pooling weighs real steps only", "[layers][attention][attention_pooling]") {
  AttentionPooling attention("attention", 1);
  attention.weight.value << 1;
  attention.bias.value << 0;
  Matrix h(1, 3);
  h << 1, 2, 3;  // the third step is padding
  const Matrix context = attention.forward(sequence_batch(h, 3, 1, {2}));
  const double e1 = std::exp(std::tanh(1.0)), e2 = std::exp(std::tanh(2.0));
  const double a1 = e1 / (e1 + e2), a2 = e2 / (e1 + e2);
  CHECK_THAT(attention.weights()(0, 0), WithinAbs(a1, 1e-6));
  CHECK_THAT(attention.weights()(1, 0), WithinAbs(a2, 1e-6));
  CHECK(attention.weights()(2, 0) == 0);
  CHECK_THAT(context(0, 0), WithinAbs(a1 * 1 + a2 * 2, 1e-6));

  SECTION("an empty sequence pools to zero") {
    const Matrix empty = attention.forward(sequence_batch(Matrix(1, 0), 0, 1, {0}));
    CHECK(empty.isZero());
  }
  SECTION("save/load round trip") {
    AttentionPooling copy("attention", 1);
    round_trip(attention, copy);
    CHECK(same_parameters(attention, copy));
  }
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: attention pooling", "[gradients][attention][attention_pooling]") {
  Rng rng(6);
  AttentionPooling attention("attention", 3);
  attention.init(rng);
  attention.bias.value(0, 0) = 0.2;
  SequenceBatch input = sequence_batch(random_matrix(3, 12, rng), 4, 3, {4, 1, 3});
  check_pooling(attention, input, rng);
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("Attention pooling: a fresh layer loaded from the saved bytes gives the same context and weights", "[layers][attention][attention_pooling][round-trip]") {
  AttentionPooling attention("attention", 3), fresh("attention", 3);
  Rng rng(29), other(30);
  attention.init(rng);
  fresh.init(other);
  attention.bias.value(0, 0) = 0.25;
  expect_round_trip(attention, fresh);
  const SequenceBatch input = sequence_batch(Matrix::Random(3, 8), 4, 2, {4, 2});
  const Matrix saved = attention.forward(input);
  const Matrix loaded = fresh.forward(input);
  CHECK(loaded == saved);
  CHECK(fresh.weights() == attention.weights());
}
