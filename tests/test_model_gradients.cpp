// Whole-model gradient checks, on the double-precision engine (built into layer_tests_f64):
// every classifier architecture, InputGradientsOnly against a full backward pass, and
// encoder-decoder translators of all four kinds. Each layer's own gradient check is in
// tests/layers/test_<layer>.cpp; the helpers are in gradient_check.hpp.
#include <catch2/catch.hpp>

#include "gradient_check.hpp"
#include "helpers.hpp"
#include "core/loss.hpp"
#include "models/classifier.hpp"
#include "models/translator.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("gradient check: whole classifiers of every architecture", "[gradients][model]") {
  for (const ClassifierConfig& config : architecture_configs(9)) {
    DYNAMIC_SECTION(config.architecture) {
      Classifier model(config);
      Rng rng(8);
      model.init(rng);
      for (Parameter* p : model.parameters())  // move biases off zero so every path carries gradient
        if (p->name.find("bias") != std::string::npos) p->value = 0.1 * random_matrix(p->value.rows(), p->value.cols(), rng);
      const TokenBatch tokens = token_batch({{2, 3, 4, 1, 8, 5, 6}, {5, 6}, {7, 2, 2, 3}});
      const std::vector<float> targets = {1, 0, 1};
      const auto loss = [&]() { return bce_with_logits(model.forward(tokens), targets, nullptr); };
      expect_parameter_gradients(model, loss, [&]() {
        Matrix grad;
        bce_with_logits(model.forward(tokens), targets, &grad);
        model.backward(grad);
      });
    }
  }
}

TEST_CASE("InputGradientsOnly: the same input gradient, no parameter gradients", "[gradients][model]") {
  for (const ClassifierConfig& config : architecture_configs(9)) {
    DYNAMIC_SECTION(config.architecture) {
      Classifier model(config);
      Rng rng(8);
      model.init(rng);
      const TokenBatch tokens = token_batch({{2, 3, 4, 1, 8, 5, 6}, {5, 6}, {7, 2, 2, 3}});
      const Matrix grad = random_matrix(1, 3, rng);
      for (Parameter* p : model.parameters()) p->zero_grad();
      model.forward(tokens);
      model.backward(grad);
      const Matrix full = model.grad_embedded().values;
      double parameter_gradient = 0;
      for (Parameter* p : model.parameters()) parameter_gradient += p->grad.cwiseAbs().sum();
      REQUIRE(parameter_gradient > 0);
      for (Parameter* p : model.parameters()) p->zero_grad();
      model.forward(tokens);
      {
        InputGradientsOnly input_gradients_only;
        CHECK(InputGradientsOnly::active());
        model.backward(grad);
      }
      CHECK_FALSE(InputGradientsOnly::active());
      CHECK(model.grad_embedded().values.isApprox(full, 1e-12));
      for (Parameter* p : model.parameters()) {
        INFO(p->name);
        CHECK(p->grad.isZero());
      }
    }
  }
}

TEST_CASE("gradient check: whole encoder-decoder translators (none, additive, dot, general)", "[gradients][model][translation]") {
  for (const char* attention : {"none", "additive", "dot", "general"}) {
    DYNAMIC_SECTION(attention) {
      TranslatorConfig config;
      config.source_vocab_size = 7;
      config.target_vocab_size = 8;
      config.embedding_dim = 3;
      config.hidden_size = 2;
      config.decoder_size = 4;
      config.attention = attention;
      config.attention_size = 3;
      config.output_size = 3;
      config.dropout = 0;
      Translator model(config);
      Rng rng(9);
      model.init(rng);
      for (Parameter* p : model.parameters())
        if (p->name.find("bias") != std::string::npos) p->value = 0.1 * random_matrix(p->value.rows(), p->value.cols(), rng);
      TranslationBatch batch;
      batch.source = token_batch({{2, 3, 4, 1, 6}, {5, 6}, {3, 2, 2}});
      // targets y: {4 5 6}, {7}, {4 4}; decoder input <s> y, targets y </s>
      batch.decoder_input = token_batch({{kBos, 4, 5, 6}, {kBos}, {kBos, 4, 4}});
      const std::vector<std::vector<int32_t>> outputs = {{4, 5, 6, kEos}, {kEos}, {4, 4, kEos}};
      batch.targets.assign(batch.decoder_input.ids.size(), 0);
      for (int b = 0; b < 3; ++b)
        for (size_t t = 0; t < outputs[static_cast<size_t>(b)].size(); ++t) batch.targets[t * 3 + static_cast<size_t>(b)] = outputs[static_cast<size_t>(b)][t];
      const auto loss = [&]() { return model.forward(batch).loss_sum; };
      expect_parameter_gradients(model, loss, [&]() {
        model.forward(batch);
        model.backward(1.0);
      });
    }
  }
}
