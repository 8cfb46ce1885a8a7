#include "pipeline/faithfulness.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <numeric>

#include "core/loss.hpp"
#include "core/rng.hpp"

namespace attnlens {

namespace {

// Token positions by score, highest first; ties to the earlier position, NaN last. A strict
// order on positions, so std::sort gives what a stable sort would, in less code.
std::vector<size_t> ranking(const std::vector<double>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  const auto key = [&](size_t i) { return std::isnan(scores[i]) ? -HUGE_VAL : scores[i]; };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double ka = key(a), kb = key(b);
    return ka > kb || (ka == kb && a < b);
  });
  return order;
}

size_t tokens_for(double fraction, size_t length) {
  return std::min(length, static_cast<size_t>(std::ceil(fraction * static_cast<double>(length) - 1e-9)));
}

// The perturbed copies of one review, scored together.
class Copies {
 public:
  Copies(const std::vector<int32_t>& ids, ExplainRequest::Occlude removal) : ids_(ids), removal_(removal) {}

  // A copy without the tokens marked in `removed` (deleted, or set to <pad>); its index.
  size_t add(const std::vector<bool>& removed) {
    Example copy;
    for (size_t t = 0; t < ids_.size(); ++t) {
      if (!removed[t]) copy.ids.push_back(ids_[t]);
      else if (removal_ == ExplainRequest::Occlude::Pad) copy.ids.push_back(Vocabulary::kPad);
    }
    examples_.push_back(std::move(copy));
    return examples_.size() - 1;
  }
  // Without the first k of `order`; or (keep) with only them.
  size_t add_top(const std::vector<size_t>& order, size_t k, bool keep) {
    std::vector<bool> removed(ids_.size(), keep);
    for (size_t i = 0; i < k; ++i) removed[order[i]] = !keep;
    return add(removed);
  }
  std::vector<double> logits(Classifier& model) const { return logits_of(model, examples_); }

 private:
  const std::vector<int32_t>& ids_;
  ExplainRequest::Occlude removal_;
  std::vector<Example> examples_;
};

}  // namespace

std::optional<double> kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
  check(a.size() == b.size(), "kendall_tau: the lists differ in length");
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = i + 1; j < a.size(); ++j) {
      const double x = a[i] - a[j], y = b[i] - b[j];
      if (x == 0 && y == 0) continue;
      if (x == 0) ++ties_a;
      else if (y == 0) ++ties_b;
      else if ((x > 0) == (y > 0)) ++concordant;
      else ++discordant;
    }
  const double denominator = std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  if (denominator == 0) return std::nullopt;
  return (concordant - discordant) / denominator;
}

std::optional<std::vector<double>> leave_one_out_logits(const Explanation& explanation, const ExplainRequest& request,
                                                        const FaithfulnessOptions& options) {
  if (request.method != ExplainRequest::Method::Occlusion || request.window != 1 || request.occlude != options.removal) return std::nullopt;
  const double sign = explanation.logit > 0 ? 1.0 : -1.0;  // F = sign · logit, as explain() attributes it
  std::vector<double> logits;
  for (const TokenScore& t : explanation.tokens) logits.push_back(explanation.logit - sign * t.weight);
  return logits;
}

FaithfulnessReference faithfulness_reference(ClassifierBundle& bundle, std::string_view text,
                                             const FaithfulnessOptions& options, const std::vector<double>* leave_one_out_logits) {
  check(options.random_orderings >= 1 && options.random_orderings <= 1000, "faithfulness: random orderings must be 1 to 1000");
  const std::vector<int32_t> ids = encode(tokenize(text, bundle.tokenizer), bundle.vocabulary);
  const size_t L = ids.size();
  check(L <= static_cast<size_t>(kMaxPerturbedTokens), "faithfulness: at most " + std::to_string(kMaxPerturbedTokens) +
                                                           " tokens (a copy of the text per token), this text has " +
                                                           std::to_string(L));
  check(!leave_one_out_logits || leave_one_out_logits->size() == L,
        "faithfulness: " + std::to_string(leave_one_out_logits ? leave_one_out_logits->size() : 0) +
            " leave-one-out logits for " + std::to_string(L) + " tokens");
  Copies copies(ids, options.removal);
  const size_t whole = copies.add(std::vector<bool>(L, false));
  std::vector<size_t> leave_one_out(leave_one_out_logits ? 0 : L);
  for (size_t t = 0; t < leave_one_out.size(); ++t) {
    std::vector<bool> removed(L, false);
    removed[t] = true;
    leave_one_out[t] = copies.add(removed);
  }
  Rng rng(options.seed);
  std::vector<std::array<size_t, 5>> random_without, random_only;
  for (int r = 0; r < options.random_orderings; ++r) {
    std::vector<size_t> shuffled(L);
    std::iota(shuffled.begin(), shuffled.end(), 0);
    for (size_t i = L; i > 1; --i) std::swap(shuffled[i - 1], shuffled[static_cast<size_t>(rng.next_u64() % i)]);  // Fisher–Yates
    std::array<size_t, 5> w{}, o{};
    for (size_t f = 0; f < 5; ++f) {
      w[f] = copies.add_top(shuffled, tokens_for(Faithfulness::kFractions[f], L), false);
      o[f] = copies.add_top(shuffled, tokens_for(Faithfulness::kFractions[f], L), true);
    }
    random_without.push_back(w);
    random_only.push_back(o);
  }
  const std::vector<double> logits = copies.logits(*bundle.model);
  FaithfulnessReference reference;
  reference.logit = logits[whole];
  const double sign = logits[whole] > 0 ? 1.0 : -1.0;  // the predicted class
  const auto p = [&](size_t copy) { return sigmoid(sign * logits[copy]); };
  const double whole_p = p(whole);
  for (size_t t = 0; t < L; ++t)
    reference.leave_one_out.push_back(whole_p - (leave_one_out_logits ? sigmoid(sign * (*leave_one_out_logits)[t]) : p(leave_one_out[t])));
  for (int r = 0; r < options.random_orderings; ++r)
    for (size_t f = 0; f < 5; ++f) {
      reference.random_aopc_comprehensiveness += whole_p - p(random_without[static_cast<size_t>(r)][f]);
      reference.random_aopc_sufficiency += whole_p - p(random_only[static_cast<size_t>(r)][f]);
    }
  reference.random_aopc_comprehensiveness /= 5.0 * options.random_orderings;
  reference.random_aopc_sufficiency /= 5.0 * options.random_orderings;
  return reference;
}

Faithfulness faithfulness(ClassifierBundle& bundle, std::string_view text, const std::vector<double>& scores,
                          const FaithfulnessOptions& options, const FaithfulnessReference* given) {
  const std::vector<int32_t> ids = encode(tokenize(text, bundle.tokenizer), bundle.vocabulary);
  const size_t L = ids.size();
  check(scores.size() == L, "faithfulness: " + std::to_string(scores.size()) + " scores for " + std::to_string(L) + " tokens");
  const FaithfulnessReference reference = given ? *given : faithfulness_reference(bundle, text, options);
  check(reference.leave_one_out.size() == L, "faithfulness: the reference is of another text");
  const std::vector<size_t> order = ranking(scores);
  Copies copies(ids, options.removal);
  std::array<size_t, 5> without{}, only{};
  for (size_t f = 0; f < 5; ++f) {
    without[f] = copies.add_top(order, tokens_for(Faithfulness::kFractions[f], L), false);
    only[f] = copies.add_top(order, tokens_for(Faithfulness::kFractions[f], L), true);
  }
  // The deletion series: the first m tokens of the ranking removed, for every m up to
  // kFlipGrid and on a grid of kFlipGrid counts above it (plus 1 and the curve's 21 counts).
  std::map<size_t, size_t> removing;  // m → copy
  const auto grid_count = [&](size_t j) { return (j * L + Faithfulness::kFlipGrid - 1) / Faithfulness::kFlipGrid; };
  const size_t grid_steps = std::min(L, Faithfulness::kFlipGrid);
  if (L > 0) removing[1] = copies.add_top(order, 1, false);  // the top token alone
  for (size_t j = 1; j <= grid_steps; ++j) {
    const size_t m = L <= Faithfulness::kFlipGrid ? j : grid_count(j);
    if (!removing.count(m)) removing[m] = copies.add_top(order, m, false);
  }
  std::array<size_t, 21> curve_counts{};
  for (size_t step = 0; step <= 20; ++step) {
    curve_counts[step] = static_cast<size_t>(std::lround(static_cast<double>(step) / 20.0 * static_cast<double>(L)));
    if (curve_counts[step] > 0 && !removing.count(curve_counts[step])) removing[curve_counts[step]] = copies.add_top(order, curve_counts[step], false);
  }
  std::vector<double> logits = copies.logits(*bundle.model);
  const double sign = reference.logit > 0 ? 1.0 : -1.0;  // the predicted class
  const auto p = [&](size_t copy) { return sigmoid(sign * logits[copy]); };
  Faithfulness result;
  result.probability = sigmoid(sign * reference.logit);
  for (size_t f = 0; f < 5; ++f) {
    result.comprehensiveness[f] = result.probability - p(without[f]);
    result.sufficiency[f] = result.probability - p(only[f]);
  }
  const auto mean = [](const std::array<double, 5>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / 5; };
  result.aopc_comprehensiveness = mean(result.comprehensiveness);
  result.aopc_sufficiency = mean(result.sufficiency);
  result.random_aopc_comprehensiveness = reference.random_aopc_comprehensiveness;
  result.random_aopc_sufficiency = reference.random_aopc_sufficiency;
  // The label flips when the predicted class's probability falls to 1/2 or below (logit ≤ 0
  // reads negative, as label_of says; for a negative prediction, logit > 0 is the flip).
  const auto flipped = [&](double logit) { return sign > 0 ? logit <= 0 : logit > 0; };
  result.decision_flip_top1 = L > 0 && flipped(logits[removing.at(1)]);
  for (const auto& [m, copy] : removing) {
    if (!flipped(logits[copy])) continue;
    // The first flipped count of the series; above kFlipGrid tokens, refined to the token
    // within its grid step (the counts between the previous series count and m).
    size_t first = m;
    const auto previous = removing.find(m) == removing.begin() ? 0 : std::prev(removing.find(m))->first;
    if (m - previous > 1) {
      Copies refine(ids, options.removal);
      for (size_t k = previous + 1; k < m; ++k) refine.add_top(order, k, false);
      const std::vector<double> between = refine.logits(*bundle.model);
      for (size_t k = previous + 1; k < m; ++k)
        if (flipped(between[k - previous - 1])) {
          first = k;
          break;
        }
    }
    result.decision_flip_fraction = static_cast<double>(first) / static_cast<double>(L);
    break;
  }
  for (size_t step = 0; step <= 20; ++step) {
    const size_t m = curve_counts[step];
    result.deletion_curve.emplace_back(static_cast<double>(step) / 20.0, m == 0 ? result.probability : p(removing.at(m)));
  }
  result.kendall_tau_loo = kendall_tau(scores, reference.leave_one_out);
  return result;
}

nlohmann::json to_json(const Faithfulness& f) {
  const auto optional = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  nlohmann::json comprehensiveness, sufficiency, curve = nlohmann::json::array();
  for (size_t i = 0; i < 5; ++i) {
    const std::string key = std::to_string(static_cast<int>(std::lround(100 * Faithfulness::kFractions[i])));
    comprehensiveness[key] = f.comprehensiveness[i];
    sufficiency[key] = f.sufficiency[i];
  }
  for (const auto& [fraction, p] : f.deletion_curve) curve.push_back({fraction, p});
  return {{"probability", f.probability},
          {"comprehensiveness", comprehensiveness},
          {"sufficiency", sufficiency},
          {"aopc_comprehensiveness", f.aopc_comprehensiveness},
          {"aopc_sufficiency", f.aopc_sufficiency},
          {"decision_flip_top1", f.decision_flip_top1},
          {"decision_flip_fraction", optional(f.decision_flip_fraction)},
          {"kendall_tau_loo", optional(f.kendall_tau_loo)},
          {"deletion_curve", curve},
          {"random", {{"aopc_comprehensiveness", f.random_aopc_comprehensiveness}, {"aopc_sufficiency", f.random_aopc_sufficiency}}}};
}

}  // namespace attnlens
