// How faithful a token ranking is to the model (DeYoung et al. 2020, ERASER; Serrano & Smith
// 2019; Jain & Wallace 2019): what happens to the prediction when the tokens a method ranks
// highest are taken away, or kept alone. Forward passes only, all perturbed copies of a review
// run as batches.
//
// With p the probability of the class predicted on the whole review and r_k the k highest-scoring
// tokens (by score, not magnitude, as ERASER's scorer; ties to the earlier token), k = ⌈f · L⌉
// for f in 1, 5, 10, 20 and 50 % of the L tokens:
//   comprehensiveness_f = p(x) − p(x ∖ r_k)      sufficiency_f = p(x) − p(r_k)
// and their AOPC, the mean over the five fractions. Removing a token deletes it, or replaces it
// by <pad> (`removal`).
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "io/model_file.hpp"
#include "pipeline/explain.hpp"

namespace attnlens {

struct FaithfulnessOptions {
  ExplainRequest::Occlude removal = ExplainRequest::Occlude::Delete;
  int random_orderings = 10;  // the random baseline: the mean over this many seeded permutations
  uint64_t seed = 1;
};

struct Faithfulness {
  static constexpr std::array<double, 5> kFractions = {0.01, 0.05, 0.10, 0.20, 0.50};
  std::array<double, 5> comprehensiveness{}, sufficiency{};
  double aopc_comprehensiveness = 0, aopc_sufficiency = 0;
  // Whether removing the top-ranked token flips the label; the fraction of tokens removed, in
  // rank order, when it first flips (none: it never does, even with every token removed).
  // Every count is tried up to kFlipGrid tokens; above that, the counts ⌈j·L/kFlipGrid⌉,
  // j = 1 … kFlipGrid, and the first of them that flips is refined to the token (a flip
  // that reverts between two grid counts is not seen). About kFlipGrid + L/kFlipGrid copies
  // instead of L.
  static constexpr size_t kFlipGrid = 100;
  bool decision_flip_top1 = false;
  std::optional<double> decision_flip_fraction;
  // Kendall's τ-b between the scores and leave-one-out (p(x) − p(x without the token)); none
  // with fewer than two tokens or when either side is constant.
  std::optional<double> kendall_tau_loo;
  // p as tokens are removed in rank order: (fraction removed, p) at 0, 5, …, 100 %.
  std::vector<std::pair<double, double>> deletion_curve;
  // The same AOPCs for random orderings of the tokens (the mean over the seeded permutations).
  double random_aopc_comprehensiveness = 0, random_aopc_sufficiency = 0;
  double probability = 0;  // p(x), of the predicted class
};

// What the metrics of every method share for one review: p(x), leave-one-out and the random
// baseline (about half the forward passes). Compute it once to score several methods.
struct FaithfulnessReference {
  double logit = 0;
  std::vector<double> leave_one_out;  // p(x) − p(x without token t)
  double random_aopc_comprehensiveness = 0, random_aopc_sufficiency = 0;
};
// `leave_one_out_logits`, when given (one per token), are the logits of the text without each
// token, already computed (see leave_one_out_logits below): the L copies are not run again.
FaithfulnessReference faithfulness_reference(ClassifierBundle& bundle, std::string_view text,
                                             const FaithfulnessOptions& options = {},
                                             const std::vector<double>* leave_one_out_logits = nullptr);

// Occlusion with a 1-token window removes each token as leave-one-out does (when it removes
// them the same way, `options.removal`): its scores F(x) − F(x ∖ t) give the logits of x ∖ t,
// logit(x) − sign · score_t. None for any other explanation.
std::optional<std::vector<double>> leave_one_out_logits(const Explanation& explanation, const ExplainRequest& request,
                                                        const FaithfulnessOptions& options);

// The metrics of `scores` (one per token of `text`, as explain() gives them); `reference`, when
// given, must come from the same text and options. Texts over kMaxPerturbedTokens are refused.
Faithfulness faithfulness(ClassifierBundle& bundle, std::string_view text, const std::vector<double>& scores,
                          const FaithfulnessOptions& options = {}, const FaithfulnessReference* reference = nullptr);

// Kendall's τ-b of two equally long lists (none when undefined).
std::optional<double> kendall_tau(const std::vector<double>& a, const std::vector<double>& b);

// {comprehensiveness: {"1": …, "5": …, "10": …, "20": …, "50": …}, sufficiency: {…},
//  aopc_comprehensiveness, aopc_sufficiency, decision_flip_top1, decision_flip_fraction,
//  kendall_tau_loo, deletion_curve: [[fraction, p], …], random: {aopc_comprehensiveness,
//  aopc_sufficiency}}; none is null.
nlohmann::json to_json(const Faithfulness& faithfulness);

}  // namespace attnlens
