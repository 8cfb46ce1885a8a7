// Padding never gets attention weight and never changes a result: the same review
// alone, padded to 200, padded to 400, and inside a batch of other reviews gives the
// same probability and the same weights.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "core/loss.hpp"
#include "io/model_file.hpp"
#include "models/classifier.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("padding invariance of the BiLSTM-attention classifier", "[padding]") {
  ClassifierConfig config;
  config.vocab_size = 500;
  config.embedding_dim = 16;
  config.hidden_size = 12;
  Classifier model(config);
  Rng rng(21);
  model.init(rng);
  std::vector<int32_t> review;
  for (int i = 0; i < 37; ++i) review.push_back(2 + static_cast<int32_t>(rng.below(498)));

  const auto run = [&](const TokenBatch& batch, int index) {
    const double probability = sigmoid(model.forward(batch)(0, index));
    std::vector<double> weights;
    for (int t = 0; t < batch.steps; ++t) weights.push_back((*model.attention())(t, index));
    return std::make_pair(probability, weights);
  };
  const auto [alone_p, alone_w] = run(token_batch({review}), 0);
  double total = 0;
  for (double w : alone_w) total += w;
  CHECK(total == Approx(1.0).epsilon(1e-6));

  for (const int padded_to : {200, 400}) {
    const auto [p, w] = run(token_batch({review}, padded_to), 0);
    CHECK(std::abs(p - alone_p) < 1e-6);
    for (size_t t = 0; t < alone_w.size(); ++t) CHECK(std::abs(w[t] - alone_w[t]) < 1e-6);
    for (size_t t = alone_w.size(); t < w.size(); ++t) CHECK(w[t] == 0.0);
  }
  SECTION("inside a batch with longer and shorter reviews") {
    std::vector<int32_t> longer(150, 7), shorter = {3, 4};
    const auto [p, w] = run(token_batch({longer, review, shorter}, 400), 1);
    CHECK(std::abs(p - alone_p) < 1e-6);
    for (size_t t = 0; t < alone_w.size(); ++t) CHECK(std::abs(w[t] - alone_w[t]) < 1e-6);
    for (size_t t = alone_w.size(); t < w.size(); ++t) CHECK(w[t] == 0.0);
  }
  SECTION("padding ids do not matter, only lengths") {
    TokenBatch junk = token_batch({review}, 200);
    for (size_t t = review.size(); t < 200; ++t) junk.ids[t] = 5;  // non-PAD ids past the length
    const auto [p, w] = run(junk, 0);
    CHECK(std::abs(p - alone_p) < 1e-6);
  }
}

TEST_CASE("padding invariance of every architecture", "[padding]") {
  for (const ClassifierConfig& config : architecture_configs(50)) {
    DYNAMIC_SECTION(config.architecture) {
      Classifier model(config);
      Rng rng(22);
      model.init(rng);
      std::vector<int32_t> review;
      for (int i = 0; i < 23; ++i) review.push_back(2 + static_cast<int32_t>(rng.below(48)));
      const double alone = model.forward(token_batch({review}))(0, 0);
      for (const int padded_to : {200, 400}) CHECK(std::abs(model.forward(token_batch({review}, padded_to))(0, 0) - alone) < 1e-5);
      const double in_batch = model.forward(token_batch({std::vector<int32_t>(90, 7), review, {3, 4}}, 200))(0, 1);
      CHECK(std::abs(in_batch - alone) < 1e-5);
    }
  }
}

// The shipped models at their real sizes (the packed GEMM's column blocks and tails, Eigen's
// products over B columns): a review's logit is the same, to float rounding, in a batch of 1, 2,
// 9 or 32 reviews of its length and in any position. Not to the bit: Eigen's product takes other
// paths for other column counts (the recurrent step's W_hh·h, for one).
TEST_CASE("a shipped model's logit does not depend on its batch", "[padding]") {
  for (const char* name : {"bilstm-attention", "lstm", "cnn", "gru-attention", "transformer"}) {
    DYNAMIC_SECTION(name) {
      ClassifierBundle bundle = load_classifier(std::string(ATTNLENS_SOURCE_DIR) + "/models/" + name + ".safetensors");
      Classifier& model = *bundle.model;
      Rng rng(23);
      std::vector<std::vector<int32_t>> reviews(32);
      for (auto& review : reviews)
        for (int t = 0; t < 60; ++t) review.push_back(2 + static_cast<int32_t>(rng.below(static_cast<uint64_t>(bundle.vocabulary.size() - 2))));
      const Matrix all = model.forward(token_batch(reviews));
      for (const size_t size : {1, 2, 9}) {
        const std::vector<std::vector<int32_t>> first(reviews.begin(), reviews.begin() + static_cast<std::ptrdiff_t>(size));
        const Matrix some = model.forward(token_batch(first));
        for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(size); ++i) CHECK(std::abs(some(0, i) - all(0, i)) < 1e-5);
      }
      const std::vector<std::vector<int32_t>> reversed(reviews.rbegin(), reviews.rend());
      const Matrix backwards = model.forward(token_batch(reversed));
      for (Eigen::Index i = 0; i < 32; ++i) CHECK(std::abs(backwards(0, 31 - i) - all(0, i)) < 1e-5);
    }
  }
}
