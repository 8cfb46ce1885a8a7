// Decoder attention (additive, dot, general): scores and context by hand with padding never
// attended, gradient check of a step with padding, round trip (additive and general: dot
// attention has no parameters).
#include "layer_test.hpp"

#include "layers/decoder_attention.hpp"

using namespace attnlens;
using namespace attnlens::testing;
using Catch::Matchers::WithinAbs;

TEST_CASE("DecoderAttention by hand: additive, dot and general scores, padding never attended", "[layers][decoder_attention]") {
  // Memory: two source positions, the second one padding for the second sample. Time-major:
  // column j * B + b. Values [2, L*B].
  Matrix values(2, 4);
  values << 1.0, 0.5, -1.0, 9.0,   // (j=0,b=0) (j=0,b=1) (j=1,b=0) (j=1,b=1: padding)
      2.0, -0.5, 0.5, 9.0;
  const std::vector<int> lengths = {2, 1};
  Matrix query(2, 2);
  query << 0.3, -0.6,
      0.7, 0.2;
  const auto expect = [&](DecoderAttention& attention, const std::function<double(int b, int j)>& score) {
    DecoderAttention::Memory memory;
    attention.prepare(values, 2, 2, lengths, memory);
    Matrix context;
    DecoderAttention::StepCache cache;
    attention.forward(memory, query, context, cache);
    for (int b = 0; b < 2; ++b) {
      std::vector<double> e;
      for (int j = 0; j < lengths[static_cast<size_t>(b)]; ++j) e.push_back(score(b, j));
      double total = 0;
      for (double v : e) total += std::exp(v);
      for (int j = 0; j < 2; ++j) {
        const double alpha = j < lengths[static_cast<size_t>(b)] ? std::exp(e[static_cast<size_t>(j)]) / total : 0.0;
        CHECK_THAT(cache.weights(j, b), WithinAbs(alpha, 1e-6));
      }
      for (int m = 0; m < 2; ++m) {
        double c = 0;
        for (int j = 0; j < lengths[static_cast<size_t>(b)]; ++j) c += cache.weights(j, b) * values(m, j * 2 + b);
        CHECK_THAT(context(m, b), WithinAbs(c, 1e-6));
      }
    }
    CHECK(cache.weights(1, 1) == 0);  // padding: exactly zero, whatever its values
  };
  const auto h = [&](int b, int j, int m) { return static_cast<double>(values(m, j * 2 + b)); };
  const auto q = [&](int b, int d) { return static_cast<double>(query(d, b)); };
  SECTION("dot (Luong): e_j = q · h_j") {
    DecoderAttention dot("attention", AttentionKind::Dot, 2, 2, 0);
    expect(dot, [&](int b, int j) { return q(b, 0) * h(b, j, 0) + q(b, 1) * h(b, j, 1); });
  }
  SECTION("general (Luong): e_j = q · W_a h_j") {
    DecoderAttention general("attention", AttentionKind::General, 2, 2, 0);
    general.key_weight.value << 0.5, -1.0,
        0.25, 2.0;
    expect(general, [&](int b, int j) {
      const double k0 = 0.5 * h(b, j, 0) - 1.0 * h(b, j, 1), k1 = 0.25 * h(b, j, 0) + 2.0 * h(b, j, 1);
      return q(b, 0) * k0 + q(b, 1) * k1;
    });
  }
  SECTION("additive (Bahdanau): e_j = v · tanh(W q + b + U h_j)") {
    DecoderAttention additive("attention", AttentionKind::Additive, 2, 2, 1);
    additive.query_weight.value << 0.4, -0.3;
    additive.query_bias.value << 0.1;
    additive.key_weight.value << -0.2, 0.6;
    additive.score_weight.value << 1.5;
    expect(additive, [&](int b, int j) {
      return 1.5 * std::tanh(0.4 * q(b, 0) - 0.3 * q(b, 1) + 0.1 - 0.2 * h(b, j, 0) + 0.6 * h(b, j, 1));
    });
  }
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: decoder attention step (additive, dot, general) with padding", "[gradients][attention][decoder_attention][translation]") {
  for (const AttentionKind kind : {AttentionKind::Additive, AttentionKind::Dot, AttentionKind::General}) {
    DYNAMIC_SECTION(to_string(kind)) {
      const int M = 4, D = 4, A = 3, L = 5, B = 3;
      const std::vector<int> lengths = {5, 2, 3};
      DecoderAttention attention("attn", kind, D, M, A);
      Rng rng(41);
      attention.init(rng);
      if (kind == AttentionKind::Additive) attention.query_bias.value = 0.1 * random_matrix(A, 1, rng);
      Matrix memory = random_matrix(M, L * B, rng), query = random_matrix(D, B, rng);
      for (int b = 0; b < B; ++b)
        for (int t = lengths[b]; t < L; ++t) memory.col(t * B + b).setZero();
      const Matrix projection = random_matrix(M, B, rng);
      const auto loss = [&]() {
        DecoderAttention::Memory mem;
        attention.prepare(memory, L, B, lengths, mem);
        DecoderAttention::StepCache cache;
        Matrix context;
        attention.forward(mem, query, context, cache);
        return (context.array() * projection.array()).sum();
      };
      Matrix dquery, dmemory;
      const auto backward = [&]() {
        DecoderAttention::Memory mem;
        attention.prepare(memory, L, B, lengths, mem);
        DecoderAttention::StepCache cache;
        Matrix context;
        attention.forward(mem, query, context, cache);
        // weights sum to 1 over real positions and are exactly 0 on padding
        for (int b = 0; b < B; ++b) {
          CHECK(cache.weights.col(b).head(lengths[b]).sum() == Approx(1.0).epsilon(1e-12));
          if (lengths[b] < L) CHECK(cache.weights.col(b).tail(L - lengths[b]).cwiseAbs().maxCoeff() == 0.0);
        }
        dquery.setZero(D, B);
        dmemory.setZero(M, L * B);
        Matrix dkeys = Matrix::Zero(mem.keys.rows(), mem.keys.cols());
        attention.backward(mem, cache, projection, dquery, dkeys, dmemory);
        attention.backward_keys(mem, dkeys, dmemory);
      };
      if (!attention.parameters().empty()) expect_parameter_gradients(attention, loss, backward);
      backward();
      expect_input_gradients(loss, query, dquery);
      expect_input_gradients(loss, memory, dmemory);
    }
  }
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("DecoderAttention: a fresh layer loaded from the saved bytes gives the same context and weights", "[layers][decoder_attention][round-trip]") {
  for (const AttentionKind kind : {AttentionKind::Additive, AttentionKind::General}) {
    DYNAMIC_SECTION(to_string(kind)) {
      DecoderAttention attention("attention", kind, 3, 3, 2), fresh("attention", kind, 3, 3, 2);
      Rng rng(37), other(38);
      attention.init(rng);
      fresh.init(other);
      if (kind == AttentionKind::Additive) attention.query_bias.value << 0.25, -0.5;
      expect_round_trip(attention, fresh);
      const Matrix values = Matrix::Random(3, 8), query = Matrix::Random(3, 2);
      const std::vector<int> lengths = {4, 2};
      Matrix saved, loaded;
      DecoderAttention::StepCache saved_cache, loaded_cache;
      DecoderAttention::Memory memory;
      attention.prepare(values, 4, 2, lengths, memory);
      attention.forward(memory, query, saved, saved_cache);
      fresh.prepare(values, 4, 2, lengths, memory);
      fresh.forward(memory, query, loaded, loaded_cache);
      CHECK(loaded == saved);
      CHECK(loaded_cache.weights == saved_cache.weights);
    }
  }
}
