// The attention experiments (pipeline/attention_experiments.hpp) on a model whose logit is the
// attention-weighted sum of one-number embeddings (helpers.hpp: one_number_model), where every
// figure can be computed by hand, and on the shipped BiLSTM-attention model.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "core/loss.hpp"
#include "helpers.hpp"
#include "pipeline/attention_experiments.hpp"
#include "pipeline/classify.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("Jensen-Shannon divergence by hand", "[attention-experiments]") {
  CHECK(jensen_shannon({1, 0}, {0, 1}) == Approx(std::log(2.0)));
  CHECK(jensen_shannon({0.3, 0.7}, {0.3, 0.7}) == Approx(0).margin(1e-15));
  // m = (0.75, 0.25): ½ [0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25) + ln(1/0.75)]
  CHECK(jensen_shannon({0.5, 0.5}, {1, 0}) ==
        Approx(0.5 * (0.5 * std::log(0.5 / 0.75) + 0.5 * std::log(2.0) + std::log(1 / 0.75))));
}

TEST_CASE("attention experiments by hand: uniform and permuted weights, the adversarial search", "[attention-experiments]") {
  ClassifierBundle bundle = one_number_model("attention");
  const std::string text = "good film bad";
  const std::vector<double> v = {2, 0.5, -2};
  std::vector<double> alpha(3);
  double total = 0;
  for (size_t t = 0; t < 3; ++t) total += (alpha[t] = std::exp(std::tanh(v[t])));
  double logit = 0;
  for (size_t t = 0; t < 3; ++t) logit += (alpha[t] /= total) * v[t];
  const double p = sigmoid(logit);
  AttentionExperimentOptions options;
  const AttentionExperiments e = attention_experiments(bundle, text, options);
  for (size_t t = 0; t < 3; ++t) CHECK(e.attention[t] == Approx(alpha[t]).epsilon(1e-5));
  CHECK(e.probability == Approx(p).epsilon(1e-6));
  CHECK(e.uniform_change == Approx(std::abs(sigmoid((2 + 0.5 - 2) / 3.0) - p)).margin(1e-6));
  // Six orderings of three weights; every permutation's |Δp| is one of them.
  std::vector<double> possible;
  std::vector<size_t> order = {0, 1, 2};
  do {
    double l = 0;
    for (size_t t = 0; t < 3; ++t) l += alpha[order[t]] * v[t];
    possible.push_back(std::abs(sigmoid(l) - p));
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(e.permuted_max_change == Approx(*std::max_element(possible.begin(), possible.end())).margin(1e-6));
  CHECK(e.permuted_max_change >= e.permuted_median_change);
  // The adversarial weights keep p within the tolerance, are a distribution, and differ.
  double sum = 0, l = 0;
  for (size_t t = 0; t < 3; ++t) {
    sum += e.adversarial[t];
    l += e.adversarial[t] * v[t];
  }
  CHECK(sum == Approx(1).epsilon(1e-9));
  CHECK(std::abs(sigmoid(l) - p) <= options.tolerance + 1e-6);
  CHECK(e.adversarial_change == Approx(std::abs(sigmoid(l) - p)).margin(1e-6));
  CHECK(e.adversarial_jsd == Approx(jensen_shannon(e.adversarial, e.attention)).margin(1e-6));
  CHECK(e.adversarial_jsd > 0.001);
  CHECK(e.adversarial_jsd <= std::log(2.0));
}

TEST_CASE("attention experiments on the shipped BiLSTM-attention model, one-token reviews and errors", "[attention-experiments]") {
  ClassifierBundle bundle = load_classifier(std::string(ATTNLENS_SOURCE_DIR) + "/models/bilstm-attention.safetensors");
  const std::string text = "The plot is thin, yet the actors make every scene a pleasure to watch.";
  // Replacing the weights by the model's own gives the model's own prediction.
  const double logit = predict(bundle, {text}).front();
  const AttentionExperiments e = attention_experiments(bundle, text);
  CHECK(e.probability == Approx(sigmoid(std::abs(logit))).epsilon(1e-5));
  CHECK(e.adversarial_change <= 0.01 + 1e-9);
  CHECK(e.adversarial_jsd > 0);
  const nlohmann::json j = to_json(e);
  CHECK(j["permuted"].contains("median_abs_change"));
  CHECK(j["adversarial"]["attention"].size() == e.attention.size());
  // One token: nothing to permute or to move.
  const AttentionExperiments one = attention_experiments(bundle, "superb");
  CHECK(one.permuted_max_change == Approx(0).margin(1e-12));
  CHECK(one.uniform_change == Approx(0).margin(1e-12));
  CHECK(one.adversarial_jsd == 0);
  CHECK(attention_experiments(bundle, "").attention.empty());
  ClassifierBundle cnn = load_classifier(std::string(ATTNLENS_SOURCE_DIR) + "/models/cnn.safetensors");
  CHECK_THROWS_WITH(attention_experiments(cnn, text), Catch::Contains("no attention pooling"));
}

TEST_CASE("attention experiments refuse attention an encoder has shortened", "[attention-experiments]") {
  ClassifierConfig config;
  config.vocab_size = 6;
  config.embedding_dim = 2;
  LayerSpec conv;
  conv.type = "conv1d";
  conv.size = 2;
  conv.kernel_size = 3;
  conv.padding = "valid";  // L − 2 steps
  config.encoder = {conv};
  config.pooling = "attention";
  ClassifierBundle bundle;
  bundle.model = std::make_unique<Classifier>(config);
  Rng rng(3);
  bundle.model->init(rng);
  bundle.vocabulary = Vocabulary({"<pad>", "<unk>", "good", "bad", "film", "not"});
  CHECK_THROWS_WITH(attention_experiments(bundle, "good film not bad"), Catch::Contains("shortens the sequence"));
}
