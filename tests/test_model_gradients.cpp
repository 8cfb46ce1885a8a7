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
#include "pipeline/explain.hpp"
#include "text/vocabulary.hpp"

using namespace attnlens;
using namespace attnlens::testing;

namespace {

// Every parameter's gradient of the binary cross-entropy of `model` on `tokens` against finite differences.
void expect_classifier_gradients(Classifier& model, const TokenBatch& tokens, const std::vector<float>& targets) {
  const auto loss = [&]() { return bce_with_logits(model.forward(tokens), targets, nullptr); };
  expect_parameter_gradients(model, loss, [&]() {
    Matrix grad;
    bce_with_logits(model.forward(tokens), targets, &grad);
    model.backward(grad);
  });
}

}  // namespace

TEST_CASE("gradient check: whole classifiers of every architecture", "[gradients][model]") {
  for (const ClassifierConfig& config : architecture_configs(9)) {
    DYNAMIC_SECTION(config.architecture) {
      Classifier model(config);
      Rng rng(8);
      model.init(rng);
      for (Parameter* p : model.parameters())  // move biases off zero so every path carries gradient
        if (p->name.find("bias") != std::string::npos) p->value = 0.1 * random_matrix(p->value.rows(), p->value.cols(), rng);
      const TokenBatch tokens = token_batch({{2, 3, 4, 1, 8, 5, 6}, {5, 6}, {7, 2, 2, 3}});
      expect_classifier_gradients(model, tokens, {1, 0, 1});
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

// explain()'s gradient methods (pipeline/explain.hpp) against central differences of
// F = sign · logit in each embedding entry, for every architecture: ‖∂F/∂e_t‖₂ and Σ_d ∂F/∂e ⊙ e.
TEST_CASE("explain: gradient and gradient x input against central differences", "[gradients][explain]") {
  for (const ClassifierConfig& config : architecture_configs(9)) {
    DYNAMIC_SECTION(config.architecture) {
      ClassifierBundle bundle;
      bundle.model = std::make_unique<Classifier>(config);
      Rng rng(5);
      bundle.model->init(rng);
      for (Parameter* p : bundle.model->parameters())
        if (p->name.find("bias") != std::string::npos) p->value = 0.1 * random_matrix(p->value.rows(), p->value.cols(), rng);
      bundle.vocabulary = Vocabulary({"<pad>", "<unk>", "a", "b", "c", "d", "e", "f", "g"});
      const std::string text = "a b c d e f g c a";
      ExplainRequest request;
      request.method = ExplainRequest::Method::Gradient;
      const Explanation norms = explain(bundle, text, request);
      request.method = ExplainRequest::Method::GradientXInput;
      const Explanation products = explain(bundle, text, request);
      const double sign = products.logit > 0 ? 1.0 : -1.0;
      Classifier& model = *bundle.model;
      model.forward(token_batch({{2, 3, 4, 5, 6, 7, 8, 4, 2}}));
      SequenceBatch embedded = model.embedded();
      const auto F = [&]() { return sign * static_cast<double>(model.forward_embedded(embedded)(0, 0)); };
      REQUIRE(norms.tokens.size() == 9);
      for (Eigen::Index t = 0; t < embedded.values.cols(); ++t) {
        double norm = 0, product = 0;
        for (Eigen::Index d = 0; d < embedded.values.rows(); ++d) {
          double& entry = embedded.values(d, t);
          const double saved = entry;
          entry = saved + kStep;
          const double up = F();
          entry = saved - kStep;
          const double down = F();
          entry = saved;
          const double g = (up - down) / (2 * kStep);
          norm += g * g;
          product += g * saved;
        }
        INFO("token " << t);
        CHECK(norms.tokens[static_cast<size_t>(t)].weight == Approx(std::sqrt(norm)).epsilon(1e-6).margin(1e-9));
        CHECK(products.tokens[static_cast<size_t>(t)].weight == Approx(product).epsilon(1e-6).margin(1e-9));
      }
    }
  }
}

TEST_CASE("gradient check: a classifier with an n-gram path", "[gradients][model][ngram]") {
  // Words a..f are the network's (ids 2..7), g (8) and the bigrams only the path's.
  const Vocabulary vocabulary({"<pad>", "<unk>", "a", "b", "c", "d", "e", "f", "g", "a b", "e f", "b b", "f g"});
  ClassifierConfig config = architecture_configs(13)[3];  // gru-attention
  config.ngram_path = 2;
  config.embedding_words = 8;
  Classifier model(config);
  model.bind_vocabulary(vocabulary);
  Rng rng(8);
  model.init(rng);
  for (Parameter* p : model.parameters())  // the path starts silent: give it weights
    if (p->name.find("bias") != std::string::npos || p->name.rfind("ngrams.", 0) == 0)
      p->value = 0.5 * random_matrix(p->value.rows(), p->value.cols(), rng);
  // "a b" twice in the first review, "e f g" with "f g" in the second, "b b" in the third.
  const TokenBatch tokens = token_batch({{2, 3, 4, 2, 3, 8, 5}, {6, 7, 8}, {7, 3, 3, 4}});
  expect_classifier_gradients(model, tokens, {1, 0, 1});
}
