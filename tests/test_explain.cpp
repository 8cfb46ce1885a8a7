// Explanations beyond attention (pipeline/explain.hpp): integrated gradients' completeness on
// every shipped architecture, its exactness on a model linear in its embeddings, occlusion
// against separately computed forward passes, the quadrature rules, and the errors.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/loss.hpp"
#include "helpers.hpp"
#include "layers/transformer.hpp"
#include "pipeline/explain.hpp"

using namespace attnlens;
using namespace attnlens::testing;

namespace {

const char* const kReviews[] = {
    "A slow start, but the last hour is wonderful and the cast is superb.",
    "I wanted to like it. The script is lazy, the jokes fall flat and it never ends.",
    "not bad at all",
};

ClassifierBundle shipped(const std::string& name) {
  return load_classifier(std::string(ATTNLENS_SOURCE_DIR) + "/models/" + name + ".safetensors");
}

double sum_of_scores(const Explanation& e) {
  double total = 0;
  for (const TokenScore& t : e.tokens) total += t.weight;
  return total;
}

// F: the predicted class's logit, for ids run alone.
double predicted_logit(Classifier& model, const std::vector<int32_t>& ids, double sign) {
  return sign * logits_of(model, {Example{ids, 0}}).front();
}

}  // namespace

TEST_CASE("quadrature: Gauss-Legendre is exact to degree 2n-1, Riemann takes midpoints", "[explain]") {
  for (int n : {1, 2, 3, 7, 50, 300}) {
    const Quadrature q = quadrature(ExplainRequest::Rule::GaussLegendre, n);
    double total = 0, moment = 0;
    for (size_t k = 0; k < q.nodes.size(); ++k) {
      CHECK(q.nodes[k] > 0);
      CHECK(q.nodes[k] < 1);
      if (k > 0) CHECK(q.nodes[k] > q.nodes[k - 1]);
      total += q.weights[k];
      moment += q.weights[k] * std::pow(q.nodes[k], 2 * n - 1);  // ∫₀¹ x^(2n−1) dx = 1 / 2n
    }
    INFO("n = " << n);
    CHECK(total == Approx(1.0).epsilon(1e-12));
    CHECK(moment == Approx(1.0 / (2 * n)).epsilon(1e-10));
  }
  const Quadrature r = quadrature(ExplainRequest::Rule::Riemann, 4);
  CHECK(r.nodes == std::vector<double>{0.125, 0.375, 0.625, 0.875});
  CHECK(r.weights == std::vector<double>(4, 0.25));
  CHECK_THROWS_WITH(quadrature(ExplainRequest::Rule::Riemann, 0), Catch::Contains("between 1 and 1000"));
}

TEST_CASE("integrated gradients: complete within 1 % at 300 steps for every shipped architecture", "[explain][shipped]") {
  for (const char* name : {"bilstm-attention", "lstm", "cnn", "gru-attention", "transformer"}) {
    ClassifierBundle bundle = shipped(name);
    for (const char* review : kReviews) {
      for (auto baseline : {ExplainRequest::Baseline::Zero, ExplainRequest::Baseline::Pad}) {
        ExplainRequest request;
        request.method = ExplainRequest::Method::IntegratedGradients;
        request.steps = 300;
        request.baseline = baseline;
        const Explanation e = explain(bundle, review, request);
        INFO(name << ": " << review);
        REQUIRE(e.completeness_gap.has_value());
        CHECK(*e.output == Approx(std::abs(e.logit)).epsilon(1e-6));
        const double change = *e.output - *e.baseline_output;
        CHECK(std::abs(sum_of_scores(e) - change) == Approx(*e.completeness_gap).margin(1e-12));
        CHECK(*e.completeness_gap <= 0.01 * std::abs(change));
        CHECK(e.probability == Approx(sigmoid(e.logit)));
      }
    }
  }
}

TEST_CASE("integrated gradients equal (x - x') times the gradient on a model linear in its embeddings", "[explain]") {
  // Embedding → Conv1D (no ReLU) → mean pooling → output: affine in the embeddings, so the
  // gradient is the same everywhere and any quadrature is exact.
  ClassifierConfig config;
  config.vocab_size = 6;
  config.embedding_dim = 4;
  LayerSpec conv;
  conv.type = "conv1d";
  conv.size = 3;
  conv.kernel_size = 3;
  config.encoder = {conv};
  config.pooling = "mean";
  ClassifierBundle bundle;
  bundle.model = std::make_unique<Classifier>(config);
  Rng rng(7);
  bundle.model->init(rng);
  bundle.vocabulary = Vocabulary({"<pad>", "<unk>", "good", "bad", "film", "not"});
  for (const char* text : {"good film", "not good film bad", "bad", "film not"}) {
    ExplainRequest ig;
    ig.method = ExplainRequest::Method::IntegratedGradients;
    ExplainRequest gxi;
    gxi.method = ExplainRequest::Method::GradientXInput;
    for (int steps : {1, 5}) {
      for (auto rule : {ExplainRequest::Rule::GaussLegendre, ExplainRequest::Rule::Riemann}) {
        ig.steps = steps;
        ig.rule = rule;
        const Explanation a = explain(bundle, text, ig), b = explain(bundle, text, gxi);
        REQUIRE(a.tokens.size() == b.tokens.size());
        for (size_t t = 0; t < a.tokens.size(); ++t) CHECK(a.tokens[t].weight == Approx(b.tokens[t].weight).margin(1e-6));
        CHECK(*a.completeness_gap < 1e-5);
      }
    }
  }
}

TEST_CASE("occlusion scores are F(x) minus F of the occluded text, run on its own", "[explain]") {
  for (const char* name : {"cnn", "gru-attention"}) {
    ClassifierBundle bundle = shipped(name);
    Classifier& model = *bundle.model;
    const std::string text = kReviews[1];
    const std::vector<int32_t> ids = encode(tokenize(text, bundle.tokenizer), bundle.vocabulary);
    const int L = static_cast<int>(ids.size());
    for (auto occlude : {ExplainRequest::Occlude::Delete, ExplainRequest::Occlude::Pad}) {
      for (int window : {1, 3}) {
        ExplainRequest request;
        request.method = ExplainRequest::Method::Occlusion;
        request.window = window;
        request.occlude = occlude;
        const Explanation e = explain(bundle, text, request);
        REQUIRE(static_cast<int>(e.tokens.size()) == L);
        const double sign = e.logit > 0 ? 1 : -1;
        const double output = predicted_logit(model, ids, sign);
        std::vector<double> drop;  // one per window start
        for (int start = 0; start + window <= L; ++start) {
          std::vector<int32_t> occluded = ids;
          if (occlude == ExplainRequest::Occlude::Delete) occluded.erase(occluded.begin() + start, occluded.begin() + start + window);
          else std::fill(occluded.begin() + start, occluded.begin() + start + window, Vocabulary::kPad);
          drop.push_back(output - predicted_logit(model, occluded, sign));
        }
        for (int t = 0; t < L; ++t) {
          double sum = 0;
          int count = 0;
          for (int start = std::max(0, t - window + 1); start <= std::min(t, L - window); ++start, ++count) sum += drop[static_cast<size_t>(start)];
          INFO(name << " window " << window << " token " << t);
          CHECK(e.tokens[static_cast<size_t>(t)].weight == Approx(sum / count).margin(1e-5));
        }
      }
    }
  }
}

TEST_CASE("gradient methods agree with classify's gradient × input and with each other", "[explain]") {
  ClassifierBundle bundle = shipped("lstm");
  const std::string text = kReviews[0];
  const Prediction p = classify(bundle, text, {ExplainOptions::Method::GradientXInput});
  ExplainRequest request;
  request.method = ExplainRequest::Method::GradientXInput;
  const Explanation signed_scores = explain(bundle, text, request);
  request.method = ExplainRequest::Method::Gradient;
  const Explanation norms = explain(bundle, text, request);
  double total = 0;
  for (const TokenScore& t : signed_scores.tokens) total += std::abs(t.weight);
  REQUIRE(p.tokens.size() == signed_scores.tokens.size());
  for (size_t t = 0; t < p.tokens.size(); ++t) {
    CHECK(std::abs(signed_scores.tokens[t].weight) / total == Approx(p.tokens[t].weight).margin(1e-6));
    CHECK(norms.tokens[t].weight >= 0);
  }
  CHECK(signed_scores.label == p.label);
}

TEST_CASE("random scores are seeded, attention is the classifier's, and bad requests say why", "[explain]") {
  ClassifierBundle bundle = small_bundle();
  ExplainRequest request;
  request.method = ExplainRequest::Method::Random;
  request.seed = 9;
  const Explanation a = explain(bundle, "good film not bad", request), b = explain(bundle, "good film not bad", request);
  REQUIRE(a.tokens.size() == 4);
  for (size_t t = 0; t < 4; ++t) {
    CHECK(a.tokens[t].weight == b.tokens[t].weight);
    CHECK(a.tokens[t].weight >= 0);
    CHECK(a.tokens[t].weight < 1);
  }
  request.method = ExplainRequest::Method::Attention;
  const Explanation attention = explain(bundle, "good film", request);
  const Prediction p = classify(bundle, "good film");
  for (size_t t = 0; t < 2; ++t) CHECK(attention.tokens[t].weight == p.tokens[t].weight);
  // An empty text: no tokens, and integrated gradients has nothing to attribute.
  request.method = ExplainRequest::Method::IntegratedGradients;
  const Explanation empty = explain(bundle, "", request);
  CHECK(empty.tokens.empty());
  CHECK(*empty.completeness_gap == 0);
  // Errors.
  request.method = ExplainRequest::Method::Occlusion;
  request.window = 2;
  CHECK_THROWS_WITH(explain(bundle, "good", request), Catch::Contains("window must be 1 or 3"));
  request.method = ExplainRequest::Method::IntegratedGradients;
  request.window = 1;
  request.steps = 1001;
  CHECK_THROWS_WITH(explain(bundle, "good", request), Catch::Contains("between 1 and 1000"));
  CHECK_THROWS_WITH(explain_request_method("lime"), Catch::Contains("integrated-gradients"));
  CHECK(explain_request_method("occlusion") == ExplainRequest::Method::Occlusion);
  // JSON.
  const nlohmann::json j = to_json(explain(bundle, "good film", ExplainRequest{ExplainRequest::Method::Random}));
  CHECK(j["method"] == "random");
  CHECK(j["tokens"].size() == 2);
  CHECK(j["tokens"][0].contains("score"));
  CHECK(!j.contains("completeness_gap"));
}

TEST_CASE("attention an encoder has shortened is not shown per token, and long texts are refused", "[explain]") {
  // Conv1D → MaxPool1D (size 2) → attention pooling: the attention weighs ⌈L/2⌉ steps, not L tokens.
  ClassifierConfig config;
  config.vocab_size = 6;
  config.embedding_dim = 3;
  LayerSpec conv, pool;
  conv.type = "conv1d";
  conv.size = 4;
  conv.kernel_size = 3;
  pool.type = "maxpool1d";
  pool.pool_size = 2;
  config.encoder = {conv, pool};
  config.pooling = "attention";
  ClassifierBundle bundle;
  bundle.model = std::make_unique<Classifier>(config);
  Rng rng(2);
  bundle.model->init(rng);
  bundle.vocabulary = Vocabulary({"<pad>", "<unk>", "good", "bad", "film", "not"});
  const std::string text = "good film not bad film";
  const Prediction automatic = classify(bundle, text);
  CHECK(automatic.explanation == "gradient×input");  // auto falls back to what can be shown per token
  CHECK(automatic.tokens.size() == 5);
  CHECK_THROWS_WITH(classify(bundle, text, {ExplainOptions::Method::Attention}), Catch::Contains("shortens the sequence"));
  CHECK_THROWS_WITH(explain(bundle, text, ExplainRequest{ExplainRequest::Method::Attention}), Catch::Contains("shortens the sequence"));
  CHECK_THROWS_WITH(explain(bundle, text, ExplainRequest{ExplainRequest::Method::Contribution}), Catch::Contains("shortens the sequence"));
  CHECK_THROWS_WITH(classify(bundle, text, {ExplainOptions::Method::Contribution}), Catch::Contains("shortens the sequence"));
  // Occlusion and faithfulness make a copy per token: at most kMaxPerturbedTokens tokens.
  std::string long_text;
  for (int i = 0; i <= kMaxPerturbedTokens; ++i) long_text += "good ";
  ExplainRequest occlusion;
  occlusion.method = ExplainRequest::Method::Occlusion;
  CHECK_THROWS_WITH(explain(bundle, long_text, occlusion), Catch::Contains("at most 4000 tokens"));
}

TEST_CASE("attention rollout is the product of the residual-mixed attention matrices, read as the model pools", "[explain][shipped]") {
  const std::string text = kReviews[0];
  ExplainRequest request;
  request.method = ExplainRequest::Method::AttentionRollout;
  const auto check_rollout = [&](ClassifierBundle& bundle) {
    const Explanation e = explain(bundle, text, request);
    REQUIRE(e.method == "attention-rollout");
    CHECK(sum_of_scores(e) == Approx(1).epsilon(1e-6));  // float attention columns sum to 1 within rounding
    // Separately: Ã_l = ½ mean_h A_{l,h} + ½ I, R = Ã_1 ⋯ Ã_n ([keys, queries]), token k's share
    // is row k of R weighted by the pooling's weights over the last layer's tokens: α for
    // attention pooling, 1/L each for the mean.
    const TransformerEncoder& encoder = *bundle.model->transformer();
    const Eigen::Index L = static_cast<Eigen::Index>(e.tokens.size());
    Eigen::MatrixXd product;
    for (int l = 0; l < encoder.layers(); ++l) {
      Eigen::MatrixXd mixed = 0.5 * Eigen::MatrixXd::Identity(L, L);
      for (int h = 0; h < encoder.self_attention(l).heads(); ++h)
        mixed += 0.5 / encoder.self_attention(l).heads() * encoder.self_attention(l).attention(0, h).cast<double>();
      product = l == 0 ? mixed : Eigen::MatrixXd(product * mixed);
    }
    const Matrix* alpha = bundle.model->attention();
    const Eigen::VectorXd pooled = alpha != nullptr ? Eigen::VectorXd(alpha->col(0).head(L).cast<double>())
                                                    : Eigen::VectorXd::Constant(L, 1.0 / static_cast<double>(L));
    CHECK(pooled.sum() == Approx(1).epsilon(1e-6));
    for (Eigen::Index k = 0; k < L; ++k) CHECK(e.tokens[static_cast<size_t>(k)].weight == Approx(product.row(k).dot(pooled)).epsilon(1e-9));
    CHECK(encoder.layers() >= 2);  // a product, not one matrix
    CHECK(e.aggregation.find(alpha != nullptr ? "attention pooling's α" : "1/L each, the mean") != std::string::npos);
  };
  ClassifierBundle bundle = shipped("transformer");
  check_rollout(bundle);
  // The same architecture pooled the other way (mean ↔ attention), randomly initialised.
  ClassifierConfig other = bundle.model->config();
  other.pooling = other.pooling == "attention" ? "mean" : "attention";
  ClassifierBundle flipped;
  flipped.model = std::make_unique<Classifier>(other);
  Rng rng(3);
  flipped.model->init(rng);
  flipped.vocabulary = bundle.vocabulary;
  flipped.tokenizer = bundle.tokenizer;
  check_rollout(flipped);
  ClassifierBundle lstm = shipped("lstm");
  CHECK_THROWS_WITH(explain(lstm, text, request), Catch::Contains("needs a Transformer"));
}

TEST_CASE("contributions are α_t · w·h_t plus the n-gram path's share, and add up to the logit less the bias", "[explain]") {
  // By hand: logit = bias + Σ_t α_t v_t with α = softmax(tanh v), so token t's part is α_t v_t.
  const double bias = 0.25;
  ClassifierBundle hand = one_number_model("attention", bias);
  const std::vector<double> v = {2, 0.5, -1, -2};  // good film not bad
  std::vector<double> alpha(v.size());
  double norm = 0, logit = bias;
  for (size_t t = 0; t < v.size(); ++t) norm += alpha[t] = std::exp(std::tanh(v[t]));
  for (size_t t = 0; t < v.size(); ++t) logit += (alpha[t] /= norm) * v[t];
  const double sign = logit > 0 ? 1 : -1;
  ExplainRequest request{ExplainRequest::Method::Contribution};
  const Explanation e = explain(hand, "good film not bad", request);
  CHECK(e.method == "contribution");
  CHECK(e.logit == Approx(logit).margin(1e-6));
  REQUIRE(e.tokens.size() == 4);
  for (size_t t = 0; t < v.size(); ++t) CHECK(e.tokens[t].weight == Approx(sign * alpha[t] * v[t]).margin(1e-6));
  CHECK(*e.output == Approx(sign * logit).margin(1e-6));
  CHECK(*e.baseline_output == Approx(sign * bias).margin(1e-6));
  CHECK(*e.completeness_gap < 1e-6);
  const Prediction p = classify(hand, "good film not bad", {ExplainOptions::Method::Contribution});
  CHECK(p.explanation == "contribution");
  for (size_t t = 0; t < v.size(); ++t) CHECK(p.tokens[t].weight == e.tokens[t].weight);
  CHECK(classify(hand, "good film not bad").explanation == "attention");  // no n-gram path: auto keeps the attention
  const Explanation empty = explain(hand, "", request);
  CHECK(empty.tokens.empty());
  CHECK(*empty.completeness_gap == 0);
  CHECK(classify(hand, "", {ExplainOptions::Method::Contribution}).tokens.empty());
  const nlohmann::json j = to_json(e);
  CHECK(j["method"] == "contribution");
  CHECK(j.contains("completeness_gap"));
  CHECK(explain_method("contribution") == ExplainOptions::Method::Contribution);

  // The shipped models: each token's part against w·h_t read off the head with one-hot attention,
  // and a joined model's n-gram shares; auto shows the contributions where an n-gram path joins the attention.
  for (const char* name : {"bilstm-attention", "ngram-path/bilstm-attention", "ngram-path/gru-attention"}) {
    INFO(name);
    ClassifierBundle bundle = shipped(name);
    const bool joined = bundle.model->config().ngram_path > 0;
    for (const char* text : kReviews) {
      INFO(text);
      const Explanation c = explain(bundle, text, request);
      const Prediction automatic = classify(bundle, text);
      CHECK(automatic.explanation == (joined ? "contribution" : "attention"));
      CHECK(*c.completeness_gap < 1e-4 * std::max(1.0, std::abs(*c.output)));
      CHECK(sum_of_scores(c) + *c.baseline_output == Approx(*c.output).margin(1e-4));
      classify(bundle, text, {ExplainOptions::Method::Attention});  // the forward pass again, for the head
      Classifier& model = *bundle.model;
      const Vector a = model.attention()->col(0);
      const Eigen::Index L = a.size();
      REQUIRE(static_cast<size_t>(L) == c.tokens.size());
      const double s = c.logit > 0 ? 1 : -1;
      const double head_bias = model.logit_with_attention(Vector::Zero(L));
      double path_total = 0;
      for (Eigen::Index t = 0; t < L; ++t) {
        const double share = joined ? static_cast<double>((*model.ngram_shares())(t, 0)) : 0.0;
        path_total += share;
        const double wh = model.logit_with_attention(Vector::Unit(L, t)) - head_bias;  // w·h_t
        CHECK(c.tokens[static_cast<size_t>(t)].weight == Approx(s * (a(t) * wh + share)).margin(1e-5));
        if (joined) CHECK(automatic.tokens[static_cast<size_t>(t)].weight == c.tokens[static_cast<size_t>(t)].weight);
      }
      CHECK(*c.baseline_output == Approx(s * (head_bias - path_total)).margin(1e-5));
    }
  }

  // Hidden layers: α_t · ∂logit/∂α_t, their first-order part, with the gap reported.
  ClassifierConfig deep;
  deep.vocab_size = 6;
  deep.embedding_dim = 3;
  deep.hidden_size = 2;
  deep.dense = {4};
  ClassifierBundle layered;
  layered.model = std::make_unique<Classifier>(deep);
  Rng rng(4);
  layered.model->init(rng);
  layered.vocabulary = Vocabulary({"<pad>", "<unk>", "good", "bad", "film", "not"});
  const Explanation first_order = explain(layered, "good film not bad", request);
  CHECK(first_order.tokens.size() == 4);
  CHECK(std::isfinite(*first_order.completeness_gap));
  // No attention pooling: no contributions.
  ClassifierBundle lstm = shipped("lstm");
  CHECK_THROWS_WITH(explain(lstm, "good", request), Catch::Contains("contribution needs attention pooling"));
  CHECK_THROWS_WITH(classify(lstm, "good", {ExplainOptions::Method::Contribution}), Catch::Contains("no attention pooling"));
}
