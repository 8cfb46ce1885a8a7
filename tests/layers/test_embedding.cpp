// Embedding: lookup by hand (padding zero, its row never trained), gradient check, round trip.
#include "layer_test.hpp"

#include "layers/embedding.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("Embedding looks up rows and zeroes padding", "[layers][embedding]") {
  Embedding embedding("embedding", 3, 2);
  embedding.weight.value << 0, 0, 1, 2, 3, 4;
  SequenceBatch out;
  embedding.forward(token_batch({{2, 1, 0}, {1}}, 3), out);  // sample 1 is length 1: steps 1, 2 are padding
  REQUIRE(out.values.rows() == 2);
  REQUIRE(out.values.cols() == 6);
  CHECK(out.values(0, 0) == 3);  // t=0, b=0: id 2
  CHECK(out.values(1, 0) == 4);
  CHECK(out.values(0, 1) == 1);  // t=0, b=1: id 1
  CHECK(out.values(0, 2) == 1);  // t=1, b=0: id 1
  CHECK(out.values.col(3).isZero());  // t=1, b=1: padding
  CHECK(out.values.col(4).isZero());  // t=2, b=0: padding id

  SECTION("the padding row never receives gradient") {
    SequenceBatch grad = out;
    grad.values.setOnes();
    embedding.weight.zero_grad();
    embedding.backward(grad);
    CHECK(embedding.weight.grad.row(0).isZero());
    CHECK(embedding.weight.grad(1, 0) == 2);  // id 1 used twice
    CHECK(embedding.weight.grad(2, 1) == 1);
  }
  SECTION("ids outside the vocabulary are rejected") {
    CHECK_THROWS_WITH(embedding.forward(token_batch({{3}}), out), Catch::Contains("outside vocabulary"));
  }
  SECTION("initialisation keeps the padding row zero") {
    Rng rng(3);
    embedding.init(rng);
    CHECK(embedding.weight.value.row(0).isZero());
    CHECK(!embedding.weight.value.row(1).isZero());
  }
  SECTION("save/load round trip") {
    Embedding copy("embedding", 3, 2);
    round_trip(embedding, copy);
    CHECK(same_parameters(embedding, copy));
  }
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: Embedding", "[gradients][embedding]") {
  Rng rng(2);
  Embedding embedding("embedding", 6, 3);
  embedding.init(rng);
  const TokenBatch tokens = token_batch({{1, 2, 5, 2}, {3, 0 /* a PAD inside */, 4}, {1}});
  SequenceBatch out;
  embedding.forward(tokens, out);
  const Matrix projection = random_matrix(out.values.rows(), out.values.cols(), rng);
  const auto loss = [&]() {
    SequenceBatch o;
    embedding.forward(tokens, o);
    return (o.values.array() * projection.array()).sum();
  };
  expect_parameter_gradients(embedding, loss, [&]() {
    SequenceBatch o;
    embedding.forward(tokens, o);
    o.values = projection;
    embedding.backward(o);
  });
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("Embedding: a fresh layer loaded from the saved bytes gives the same output", "[layers][embedding][round-trip]") {
  Embedding embedding("embedding", 5, 3), fresh("embedding", 5, 3);
  Rng rng(21), other(22);
  embedding.init(rng);
  fresh.init(other);
  expect_round_trip(embedding, fresh);
  const TokenBatch tokens = token_batch({{1, 4, 2}, {3}});
  SequenceBatch saved, loaded;
  embedding.forward(tokens, saved);
  fresh.forward(tokens, loaded);
  CHECK(loaded.values == saved.values);
}
