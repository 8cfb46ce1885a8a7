// Multi-head self-attention: one head by hand (padding never attended, zero output there),
// gradient check with padding, round trip.
#include "layer_test.hpp"

#include "layers/self_attention.hpp"

using namespace attnlens;
using namespace attnlens::testing;
using Catch::Matchers::WithinAbs;

TEST_CASE("self-attention by hand: one head, padding never attended", "[layers][transformer][self_attention]") {
  MultiHeadSelfAttention attention("self_attn", 2, 1);
  for (int part = 0; part < 3; ++part) attention.in_proj_weight.value.middleRows(2 * part, 2).setIdentity();  // Q = K = V = x
  attention.in_proj_bias.value.setZero();
  attention.out_proj.weight.value.setIdentity();
  attention.out_proj.bias.value.setZero();
  Matrix x(2, 3);
  x << 1, 0, 5,
       0, 1, 5;  // step 2 is padding
  Matrix out;
  attention.forward(sequence_batch(x, 3, 1, {2}), out);
  // Scores QᵀK/√2 for the two real steps: [[1, 0], [0, 1]] / √2.
  const double e = std::exp(1 / std::sqrt(2.0)), a_same = e / (e + 1), a_other = 1 / (e + 1);
  const Matrix& a = attention.attention(0, 0);
  REQUIRE(a.rows() == 2);
  CHECK_THAT(a(0, 0), WithinAbs(a_same, 1e-6));
  CHECK_THAT(a(1, 0), WithinAbs(a_other, 1e-6));  // [keys, queries]: key 1 as seen by query 0
  CHECK_THAT(out(0, 0), WithinAbs(a_same, 1e-6));  // Σ_k a(k, 0) v_k
  CHECK_THAT(out(1, 0), WithinAbs(a_other, 1e-6));
  CHECK(out.col(2).isZero());
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: multi-head self-attention with padding", "[gradients][transformer][self_attention]") {
  Rng rng(41);
  MultiHeadSelfAttention attention("self_attn", 4, 2);
  attention.init(rng);
  attention.in_proj_bias.value = 0.1 * random_matrix(12, 1, rng);
  SequenceBatch input = sequence_batch(random_matrix(4, 15, rng), 5, 3, {5, 2, 0});
  const Matrix projection = random_matrix(4, 15, rng);
  const auto loss = [&]() { Matrix out; attention.forward(input, out); return (out.array() * projection.array()).sum(); };
  Matrix grad_in;
  expect_parameter_gradients(attention, loss, [&]() { Matrix out; attention.forward(input, out); attention.backward(projection, grad_in); });
  expect_input_gradients(loss, input.values, grad_in);
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("self-attention: a fresh layer loaded from the saved bytes gives the same output and attention", "[layers][transformer][self_attention][round-trip]") {
  MultiHeadSelfAttention attention("self_attn", 4, 2), fresh("self_attn", 4, 2);
  Rng rng(33), other(34);
  attention.init(rng);
  fresh.init(other);
  attention.in_proj_bias.value.setConstant(0.125);
  expect_round_trip(attention, fresh);
  const SequenceBatch input = sequence_batch(Matrix::Random(4, 10), 5, 2, {5, 3});
  Matrix saved, loaded;
  attention.forward(input, saved);
  fresh.forward(input, loaded);
  CHECK(loaded == saved);
  for (int b = 0; b < 2; ++b)
    for (int h = 0; h < 2; ++h) CHECK(fresh.attention(b, h) == attention.attention(b, h));
}

TEST_CASE("self-attention under ForwardOnly: the same output and received attention, linear memory, no backward",
          "[layers][transformer][self_attention]") {
  Rng rng(57);
  const auto normal = [&](Eigen::Index rows, Eigen::Index cols) {
    Matrix m(rows, cols);
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = static_cast<Scalar>(rng.normal());
    return m;
  };
  MultiHeadSelfAttention attention("self_attn", 8, 2);
  attention.init(rng);
  attention.in_proj_bias.value = 0.1 * normal(24, 1);
  // ForwardOnly takes a block of queries at a time (one block for 7 steps, 24 for 1,500), each
  // query computed as in the kept forward's whole matrix: the same figures to the bit.
  for (const int steps : {1, 7, 1500}) {
    INFO("steps " << steps);
    const SequenceBatch input = sequence_batch(normal(8, 2 * steps), steps, 2, {steps, std::max(1, steps / 2)});
    Matrix kept, streamed;
    attention.forward(input, kept);
    REQUIRE(attention.kept_attention());
    const std::vector<int> lengths = input.lengths;
    std::vector<Vector> received;
    for (int b = 0; b < 2; ++b)
      for (int h = 0; h < 2; ++h) received.push_back(attention.received(b, h).head(lengths[static_cast<size_t>(b)]));
    {
      ForwardOnly forward_only;
      attention.forward(input, streamed);
    }
    REQUIRE_FALSE(attention.kept_attention());
    CHECK(streamed == kept);
    for (int b = 0; b < 2; ++b)
      for (int h = 0; h < 2; ++h) {
        const Vector now = attention.received(b, h).head(lengths[static_cast<size_t>(b)]);
        const Vector& before = received[static_cast<size_t>(b * 2 + h)];
        CHECK(now == before);
        CHECK_THAT(now.sum(), WithinAbs(1.0, 1e-4));  // each query's attention sums to 1: so does their mean
      }
    // What only a kept forward has is refused by name, never read stale.
    CHECK_THROWS_WITH(attention.attention(0, 0), Catch::Contains("kept no attention matrices"));
#if ATTNLENS_GRADIENTS
    Matrix grad_in;
    CHECK_THROWS_WITH(attention.backward(kept, grad_in), Catch::Contains("ran under ForwardOnly"));
#endif
  }
}

// A kept forward's L × L matrices are refused by name past the layer's budget (8 GiB natively,
// 512 MiB in wasm), with the longest text that fits, before anything is allocated; the last
// forward's attention is still there.
TEST_CASE("self-attention: a kept forward too long for the memory budget is a clear error", "[layers][transformer][self_attention]") {
  MultiHeadSelfAttention attention("encoder.layers.0.self_attn", 8, 2);
  Rng rng(58);
  attention.init(rng);
  Matrix out;
  attention.forward(sequence_batch(Matrix::Random(8, 5), 5, 1, {5}), out);
  // 2 heads × 32,768² floats is exactly 8 GiB; one token more is refused.
  const int limit = sizeof(Scalar) == 4 ? 32768 : 23170;
  const SequenceBatch longest = sequence_batch(Matrix::Zero(8, limit + 1), limit + 1, 1, {limit + 1});
  CHECK_THROWS_WITH(attention.forward(longest, out),
                    Catch::Contains("encoder.layers.0.self_attn: keeping the attention of a text of " + std::to_string(limit + 1)) &&
                        Catch::Contains("at most " + std::to_string(limit) + " tokens"));
  CHECK(attention.kept_attention());
  CHECK(attention.attention(0, 1).rows() == 5);
}
