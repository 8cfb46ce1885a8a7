// Faithfulness metrics (pipeline/faithfulness.hpp) against values computed by hand on a model
// whose logit is the mean of its tokens' one-number embeddings plus a bias (helpers.hpp:
// one_number_model).
#include <catch2/catch.hpp>
#include <cmath>

#include "core/loss.hpp"
#include "helpers.hpp"
#include "pipeline/faithfulness.hpp"

using namespace attnlens;
using namespace attnlens::testing;

namespace {

double sig(double x) { return sigmoid(x); }

}  // namespace

TEST_CASE("Kendall's tau-b by hand, ties included", "[faithfulness]") {
  CHECK(*kendall_tau({1, 2, 3}, {10, 20, 30}) == Approx(1));
  CHECK(*kendall_tau({1, 2, 3}, {3, 2, 1}) == Approx(-1));
  // Concordant 5, discordant 0, one pair tied in the first list only: 5 / √(6 · 5).
  CHECK(*kendall_tau({1, 2, 2, 3}, {1, 3, 2, 4}) == Approx(5 / std::sqrt(30.0)));
  CHECK(!kendall_tau({1, 1, 1}, {1, 2, 3}));
  CHECK(!kendall_tau({1}, {2}));
  CHECK(!kendall_tau({}, {}));
}

TEST_CASE("comprehensiveness, sufficiency, decision flip and leave-one-out by hand", "[faithfulness]") {
  ClassifierBundle bundle = one_number_model("mean", 0);
  // "good film bad good": values 2, 0.5, −2, 2; logit 2.5 / 4; positive. Scores rank the tokens
  // in order. 1, 5, 10 and 20 % of 4 tokens are 1 token (bins larger than the review), 50 % two.
  const std::string text = "good film bad good";
  const double p = sig(0.625);
  SECTION("deleting") {
    const Faithfulness f = faithfulness(bundle, text, {4, 3, 2, 1});
    CHECK(f.probability == Approx(p));
    for (size_t i = 0; i < 4; ++i) {
      CHECK(f.comprehensiveness[i] == Approx(p - sig(0.5 / 3)));  // without "good": 0.5, −2, 2
      CHECK(f.sufficiency[i] == Approx(p - sig(2)));               // "good" alone
    }
    CHECK(f.comprehensiveness[4] == Approx(p - sig(0)));  // without "good film": −2, 2
    CHECK(f.sufficiency[4] == Approx(p - sig(1.25)));     // "good film"
    CHECK(f.aopc_comprehensiveness == Approx((4 * (p - sig(0.5 / 3)) + p - sig(0)) / 5));
    CHECK(f.aopc_sufficiency == Approx((4 * (p - sig(2)) + p - sig(1.25)) / 5));
    // Removing in rank order: 1 token leaves 0.5/3 > 0; 2 tokens leave logit 0, which reads negative.
    CHECK(!f.decision_flip_top1);
    REQUIRE(f.decision_flip_fraction);
    CHECK(*f.decision_flip_fraction == 0.5);
    // Leave-one-out: p − σ(0.5/3), p − σ(2/3), p − σ(1.5), p − σ(0.5/3); against scores 4, 3, 2, 1:
    // concordant 3, discordant 2, one pair tied in leave-one-out: 1 / √(5 · 6).
    REQUIRE(f.kendall_tau_loo);
    CHECK(*f.kendall_tau_loo == Approx(1 / std::sqrt(30.0)));
    // The deletion curve starts at p and ends at the empty review (logit 0).
    REQUIRE(f.deletion_curve.size() == 21);
    CHECK(f.deletion_curve.front().second == Approx(p));
    CHECK(f.deletion_curve.back().first == 1.0);
    CHECK(f.deletion_curve.back().second == Approx(0.5));
    CHECK(f.deletion_curve[10].second == Approx(sig(0)));  // 50 %: two tokens removed
  }
  SECTION("replacing by <pad>: the length stays 4") {
    FaithfulnessOptions options;
    options.removal = ExplainRequest::Occlude::Pad;
    const Faithfulness f = faithfulness(bundle, text, {4, 3, 2, 1}, options);
    CHECK(f.comprehensiveness[0] == Approx(p - sig(0.5 / 4)));
    CHECK(f.sufficiency[0] == Approx(p - sig(2.0 / 4)));
    CHECK(f.sufficiency[4] == Approx(p - sig(2.5 / 4)));
  }
  SECTION("ties rank the earlier token first, as ERASER's top-k by score") {
    const Faithfulness f = faithfulness(bundle, text, {1, 1, 1, 1});
    CHECK(f.comprehensiveness[0] == Approx(p - sig(0.5 / 3)));  // the first "good" goes first
    CHECK(!f.kendall_tau_loo);                                    // constant scores: undefined
  }
  SECTION("the random baseline is seeded and averages its orderings") {
    FaithfulnessOptions options;
    options.random_orderings = 25;
    const Faithfulness a = faithfulness(bundle, text, {4, 3, 2, 1}, options), b = faithfulness(bundle, text, {4, 3, 2, 1}, options);
    CHECK(a.random_aopc_comprehensiveness == b.random_aopc_comprehensiveness);
    options.seed = 2;
    const Faithfulness c = faithfulness(bundle, text, {4, 3, 2, 1}, options);
    CHECK(c.random_aopc_comprehensiveness != a.random_aopc_comprehensiveness);
    // Every review left has a mean value within [−2, 2].
    CHECK(a.random_aopc_comprehensiveness > p - sig(2));
    CHECK(a.random_aopc_comprehensiveness < p - sig(-2));
  }
}

TEST_CASE("faithfulness of one-token reviews, reviews that never flip, and wrong input", "[faithfulness]") {
  // "bad": negative (logit −2 + 0.1). Its only token is every bin; without it, logit 0.1 flips.
  ClassifierBundle bundle = one_number_model("mean", 0.1);
  const Faithfulness one = faithfulness(bundle, "bad", {0.3});
  const double p = sig(1.9);  // of the negative class
  for (size_t i = 0; i < 5; ++i) {
    CHECK(one.comprehensiveness[i] == Approx(p - sig(-0.1)));
    CHECK(one.sufficiency[i] == Approx(0).margin(1e-12));
  }
  CHECK(one.decision_flip_top1);
  CHECK(*one.decision_flip_fraction == 1.0);
  CHECK(!one.kendall_tau_loo);
  // "good film" with bias 1: even the empty review reads positive.
  ClassifierBundle biased = one_number_model("mean", 1);
  const Faithfulness never = faithfulness(biased, "good film", {1, 2});
  CHECK(!never.decision_flip_top1);
  CHECK(!never.decision_flip_fraction);
  const nlohmann::json j = to_json(never);
  CHECK(j["decision_flip_fraction"].is_null());
  CHECK(j["comprehensiveness"].contains("50"));
  CHECK(j["deletion_curve"].size() == 21);
  // An empty review: nothing to remove.
  const Faithfulness empty = faithfulness(biased, "", {});
  CHECK(empty.aopc_comprehensiveness == 0);
  CHECK(!empty.decision_flip_fraction);
  CHECK_THROWS_WITH(faithfulness(bundle, "good film", {1}), Catch::Contains("1 scores for 2 tokens"));
}

TEST_CASE("the decision flip of a long review is found to the token between grid counts", "[faithfulness]") {
  // 130 × "good" (2) then 123 × "bad" (−2): logit 14 / 253 > 0. Removing the goods first, the
  // logit is (14 − 2m) / (253 − m): it first reaches 0 at m = 7, which lies between the grid
  // counts ⌈2 · 253 / 100⌉ = 6 and ⌈3 · 253 / 100⌉ = 8.
  ClassifierBundle bundle = one_number_model("mean", 0);
  std::string text;
  std::vector<double> scores;
  for (int i = 0; i < 253; ++i) {
    text += i < 130 ? "good " : "bad ";
    scores.push_back(i < 130 ? 1000 - i : -i);
  }
  const Faithfulness f = faithfulness(bundle, text, scores);
  CHECK(!f.decision_flip_top1);
  REQUIRE(f.decision_flip_fraction);
  CHECK(*f.decision_flip_fraction == Approx(7.0 / 253));
  // The curve's counts are exact too: 5 % of 253 is 13 tokens removed, logit (14 − 26) / 240.
  CHECK(f.deletion_curve[1].second == Approx(sig((14.0 - 26) / 240)));
}

TEST_CASE("leave-one-out from occlusion's scores: the same reference without running its copies again", "[faithfulness]") {
  ClassifierBundle bundle = one_number_model("mean", 0.2);
  const std::string text = "good film bad not good";
  for (const auto removal : {ExplainRequest::Occlude::Delete, ExplainRequest::Occlude::Pad}) {
    FaithfulnessOptions options;
    options.removal = removal;
    ExplainRequest request;
    request.method = ExplainRequest::Method::Occlusion;
    request.occlude = removal;
    const Explanation occlusion = explain(bundle, text, request);
    const std::optional<std::vector<double>> logits = leave_one_out_logits(occlusion, request, options);
    REQUIRE(logits);
    const FaithfulnessReference given = faithfulness_reference(bundle, text, options, &*logits);
    const FaithfulnessReference computed = faithfulness_reference(bundle, text, options);
    REQUIRE(given.leave_one_out.size() == 5);
    for (size_t t = 0; t < 5; ++t) CHECK(given.leave_one_out[t] == Approx(computed.leave_one_out[t]).margin(1e-12));
    CHECK(given.logit == computed.logit);
    CHECK(given.random_aopc_comprehensiveness == Approx(computed.random_aopc_comprehensiveness).margin(1e-12));
    // Only occlusion one token at a time, removing as the metrics do, is leave-one-out.
    ExplainRequest other = request;
    other.window = 3;
    CHECK(!leave_one_out_logits(explain(bundle, text, other), other, options));
    other = request;
    other.occlude = removal == ExplainRequest::Occlude::Delete ? ExplainRequest::Occlude::Pad : ExplainRequest::Occlude::Delete;
    CHECK(!leave_one_out_logits(explain(bundle, text, other), other, options));
    other = request;
    other.method = ExplainRequest::Method::Random;
    CHECK(!leave_one_out_logits(explain(bundle, text, other), other, options));
  }
  const std::vector<double> short_list = {1, 2};
  CHECK_THROWS_WITH(faithfulness_reference(bundle, text, {}, &short_list), Catch::Contains("2 leave-one-out logits for 5 tokens"));
}
