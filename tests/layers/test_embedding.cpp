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
namespace {
// Central differences of a random projection of the outputs against backward's table gradient.
void expect_embedding_gradients(Embedding& embedding, const TokenBatch& tokens, Rng& rng) {
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
}  // namespace
#endif

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: Embedding", "[gradients][embedding]") {
  Rng rng(2);
  Embedding embedding("embedding", 6, 3);
  embedding.init(rng);
  const TokenBatch tokens = token_batch({{1, 2, 5, 2}, {3, 0 /* a PAD inside */, 4}, {1}});
  expect_embedding_gradients(embedding, tokens, rng);
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

// N-gram mode: a sample's features are its distinct words and n-grams; each feature's row is shared
// equally among the tokens of all its occurrences.
namespace {
Embedding ngram_embedding() {
  Embedding e("embedding", 8, 1);
  e.weight.value << 0, 16, 2, 4, 0, 0, 32, 64;  // rows: <pad>, <unk>, w2, w3, -, -, "w2 w3", "w3 w2"
  const int32_t a[2] = {2, 3}, b[2] = {3, 2};
  e.set_ngrams(2, {{Embedding::pack_ngram(a, 2), 6}, {Embedding::pack_ngram(b, 2), 7}});
  return e;
}
}  // namespace

TEST_CASE("Embedding in n-gram mode shares each feature's weight among its tokens", "[layers][embedding][ngram]") {
  Embedding e = ngram_embedding();
  SequenceBatch out;
  e.forward(token_batch({{2, 3, 2, 3}, {1, 0, 2}, {3}}), out);
  REQUIRE(out.values.rows() == 1);
  const auto at = [&](int t, int b) { return out.values(0, t * 3 + b); };
  // Sample 0, "w2 w3 w2 w3": w2 and w3 twice each, "w2 w3" twice, "w3 w2" once.
  CHECK(at(0, 0) == Approx(2.0 / 2 + 32.0 / 4));
  CHECK(at(1, 0) == Approx(4.0 / 2 + 32.0 / 4 + 64.0 / 2));
  CHECK(at(2, 0) == Approx(2.0 / 2 + 64.0 / 2 + 32.0 / 4));
  CHECK(at(3, 0) == Approx(4.0 / 2 + 32.0 / 4));
  CHECK(at(0, 0) + at(1, 0) + at(2, 0) + at(3, 0) == Approx(2 + 4 + 32 + 64));  // presence: each feature once
  // Sample 1, "<unk> <pad> w2": <unk> is a feature, <pad> is none and breaks n-grams.
  CHECK(at(0, 1) == 16);
  CHECK(at(1, 1) == 0);
  CHECK(at(2, 1) == 2);
  CHECK(at(0, 2) == 4);  // sample 2: one word
  CHECK(at(1, 2) == 0);  // padding
  CHECK(at(3, 2) == 0);
  CHECK(e.ngram_features({2, 3, 2, 3}) == std::vector<int32_t>{2, 3, 6, 7});
  CHECK(e.ngram_features({3, 0, 2}) == std::vector<int32_t>{2, 3});

  SECTION("gradients: each row gets its shares of the outputs' gradients") {
    SequenceBatch grad = out;
    grad.values.setOnes();
    e.weight.zero_grad();
    e.backward(grad);
    CHECK(e.weight.grad(2, 0) == Approx(2));  // w2: once in samples 0 and 1
    CHECK(e.weight.grad(6, 0) == Approx(1));  // "w2 w3": present once
    CHECK(e.weight.grad(7, 0) == Approx(1));
    CHECK(e.weight.grad(0, 0) == 0);
  }
  SECTION("bad tables are refused") {
    Embedding f("embedding", 8, 1);
    const int32_t a[2] = {2, 3};
    CHECK_THROWS_WITH(f.set_ngrams(2, {{Embedding::pack_ngram(a, 2), 6}, {Embedding::pack_ngram(a, 2), 7}}),
                      Catch::Contains("listed twice"));
    CHECK_THROWS_WITH(f.set_ngrams(2, {{Embedding::pack_ngram(a, 2), 8}}), Catch::Contains("outside the table"));
    CHECK_THROWS_WITH(f.set_ngrams(4, {}), Catch::Contains("1, 2 or 3"));
    CHECK_THROWS_WITH(e.forward(token_batch({{2, 9}}), out), Catch::Contains("outside vocabulary"));
  }
  SECTION("copies take the mode and table") {
    Embedding copy("embedding", 8, 1);
    copy.weight.value = e.weight.value;
    copy.copy_ngrams(e);
    SequenceBatch again;
    copy.forward(token_batch({{2, 3, 2, 3}, {1, 0, 2}, {3}}), again);
    CHECK(again.values == out.values);
  }
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: Embedding in n-gram mode", "[gradients][embedding][ngram]") {
  Rng rng(4);
  Embedding embedding = ngram_embedding();
  embedding.init(rng);
  const TokenBatch tokens = token_batch({{2, 3, 2, 3, 5}, {3, 2, 1}, {4}});
  expect_embedding_gradients(embedding, tokens, rng);
}
#endif  // ATTNLENS_GRADIENT_CHECKS
