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
