// Transformer encoder (pre-norm layers): PyTorch names, round trip, per-head attention;
// gradient check through two layers. (Its parts: test_layer_norm.cpp, test_self_attention.cpp.)
#include "layer_test.hpp"

#include "layers/transformer.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("Transformer encoder: PyTorch names, round trip, per-head attention", "[layers][transformer]") {
  TransformerEncoder encoder("encoder", 8, 2, 4, 16);
  Rng rng(3);
  encoder.init(rng);
  std::vector<std::string> names;
  for (auto* p : encoder.parameters()) names.push_back(p->name);
  CHECK(names.front() == "encoder.layers.0.self_attn.in_proj_weight");
  CHECK(std::find(names.begin(), names.end(), "encoder.layers.1.linear2.bias") != names.end());
  CHECK(std::find(names.begin(), names.end(), "encoder.layers.0.norm2.weight") != names.end());
  CHECK(names.back() == "encoder.norm.bias");
#if ATTNLENS_FLOAT_ENGINE  // through float32 bytes: exact on the float engine only (layer_test.hpp)
  TransformerEncoder copy("encoder", 8, 2, 4, 16);
  round_trip(encoder, copy);
  CHECK(same_parameters(encoder, copy));
#endif
  SequenceBatch out;
  encoder.forward(sequence_batch(Matrix::Random(8, 10), 5, 2, {5, 3}), out);
  const Matrix& a = encoder.self_attention(1).attention(1, 3);
  REQUIRE(a.rows() == 3);
  CHECK(a.colwise().sum().isOnes(1e-5));  // each query's weights over the keys
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: Transformer encoder (2 pre-norm layers)", "[gradients][transformer]") {
  Rng rng(42);
  TransformerEncoder encoder("encoder", 4, 2, 2, 6);
  encoder.init(rng);
  for (Parameter* p : encoder.parameters())
    if (p->name.find("bias") != std::string::npos) p->value = 0.1 * random_matrix(p->value.rows(), p->value.cols(), rng);
  SequenceBatch input = sequence_batch(0.3 * random_matrix(4, 12, rng), 4, 3, {4, 1, 3});
  check_sequence_layer(encoder, input, rng);
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("Transformer encoder: a fresh encoder loaded from the saved bytes gives the same output", "[layers][transformer][round-trip]") {
  TransformerEncoder encoder("encoder", 4, 2, 2, 6), fresh("encoder", 4, 2, 2, 6);
  Rng rng(35), other(36);
  encoder.init(rng);
  fresh.init(other);
  expect_round_trip(encoder, fresh);
  const SequenceBatch input = sequence_batch(Matrix::Random(4, 10), 5, 2, {5, 3});
  SequenceBatch saved, loaded;
  encoder.forward(input, saved);
  fresh.forward(input, loaded);
  CHECK(loaded.values == saved.values);
  CHECK(fresh.self_attention(1).attention(0, 1) == encoder.self_attention(1).attention(0, 1));
}

// Under ForwardOnly the encoder's layers keep nothing and share one working memory (its layer
// norms build x̂ in their output, its Dense layers keep no input): the same products in the same
// order, so the same output to the bit; and a kept forward after it goes backward as before.
TEST_CASE("Transformer encoder under ForwardOnly: the same output, then a kept forward as before", "[layers][transformer]") {
  TransformerEncoder encoder("encoder", 8, 2, 2, 16);
  Rng rng(5);
  encoder.init(rng);
  for (Parameter* p : encoder.parameters())
    if (p->name.find("bias") != std::string::npos) p->value = 0.1 * Matrix::Random(p->value.rows(), p->value.cols());
  for (const int steps : {9, 40, 1}) {  // larger, then smaller than the last
    INFO("steps " << steps);
    const SequenceBatch input = sequence_batch(Matrix::Random(8, 3 * steps), steps, 3, {steps, 1, std::max(1, steps - 2)});
    const SequenceBatch grad_out = sequence_batch(Matrix::Random(8, 3 * steps), steps, 3, input.lengths);
    SequenceBatch kept, streamed, again, grad_before, grad_after;
    encoder.forward(input, kept);
#if ATTNLENS_GRADIENTS
    encoder.backward(grad_out, &grad_before);
#endif
    {
      ForwardOnly forward_only;
      encoder.forward(input, streamed);
    }
#if ATTNLENS_GRADIENTS
    CHECK_THROWS_WITH(encoder.backward(grad_out, &grad_after), Catch::Contains("backward without a kept forward"));
#endif
    CHECK(streamed.values == kept.values);
    CHECK(streamed.lengths == kept.lengths);
    for (int b = 0; b < 3; ++b)
      CHECK(encoder.self_attention(1).received(b, 1).head(input.lengths[static_cast<size_t>(b)]).sum() == Approx(1.0).epsilon(1e-5));
    encoder.forward(input, again);
    CHECK(again.values == kept.values);
    CHECK(encoder.self_attention(0).kept_attention());
#if ATTNLENS_GRADIENTS
    encoder.backward(grad_out, &grad_after);
    CHECK(grad_after.values == grad_before.values);
#endif
  }
}
