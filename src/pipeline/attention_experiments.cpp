#include "pipeline/attention_experiments.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/loss.hpp"
#include "core/rng.hpp"
#include "pipeline/classify.hpp"
#include "text/encoding.hpp"

namespace attnlens {

double jensen_shannon(const std::vector<double>& p, const std::vector<double>& q) {
  check(p.size() == q.size(), "jensen_shannon: the distributions differ in length");
  double total = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double m = (p[i] + q[i]) / 2;
    if (p[i] > 0) total += p[i] * std::log(p[i] / m);
    if (q[i] > 0) total += q[i] * std::log(q[i] / m);
  }
  return std::max(0.0, total / 2);
}

AttentionExperiments attention_experiments(ClassifierBundle& bundle, std::string_view text,
                                           const AttentionExperimentOptions& options) {
  Classifier& model = *bundle.model;
  check(model.config().has_attention(),
        "attention experiments: the " + model.config().architecture + " model has no attention pooling to change");
  check(options.permutations >= 1 && options.permutations <= 10000, "attention experiments: permutations must be 1 to 10000");
  check(options.candidates >= 1 && options.candidates <= 64 && options.steps >= 0 && options.steps <= 10000,
        "attention experiments: candidates must be 1 to 64 and steps 0 to 10000");
  check(options.tolerance >= 0 && options.tolerance <= 1, "attention experiments: the tolerance must be in [0, 1]");
  const std::vector<int32_t> ids = encode(tokenize(text, bundle.tokenizer), bundle.vocabulary);
  const int L = static_cast<int>(ids.size());
  const double logit = model.forward(single_batch(ids))(0, 0);
  const double sign = logit > 0 ? 1.0 : -1.0;
  AttentionExperiments result;
  const Matrix& weights = *model.attention();
  if (weights.rows() != L) throw_shortened_attention(model.config().architecture, static_cast<size_t>(weights.rows()), static_cast<size_t>(L));
  Vector alpha(L);
  for (int t = 0; t < L; ++t) alpha(t) = weights(t, 0);
  result.attention.assign(alpha.data(), alpha.data() + L);
  result.adversarial = result.attention;
  if (L == 0) {
    result.probability = sigmoid(sign * logit);
    return result;
  }
  // p under weights w, from the kept encoder outputs (the same sums for every variant).
  const auto p_of = [&](const Vector& w) { return sigmoid(sign * model.logit_with_attention(w)); };
  result.probability = p_of(alpha);
  Rng rng(options.seed);
  std::vector<double> changes;
  Vector shuffled = alpha;
  for (int r = 0; r < options.permutations; ++r) {
    for (int i = L; i > 1; --i) std::swap(shuffled(i - 1), shuffled(static_cast<Eigen::Index>(rng.next_u64() % static_cast<uint64_t>(i))));
    changes.push_back(std::abs(p_of(shuffled) - result.probability));
  }
  std::sort(changes.begin(), changes.end());
  const size_t n = changes.size();
  result.permuted_median_change = n % 2 ? changes[n / 2] : (changes[n / 2 - 1] + changes[n / 2]) / 2;
  result.permuted_max_change = changes.back();
  result.uniform_change = std::abs(p_of(Vector::Constant(L, Scalar(1) / static_cast<Scalar>(L))) - result.probability);
  if (L < 2) return result;

  // Adversarial: maximise JSD(softmax(z), α) − λ · max(0, |Δp| − tolerance)² with Adam on z,
  // from `candidates` starts (log α plus seeded noise); keep the feasible weights of largest JSD.
  constexpr double kPenalty = 1e4, kRate = 0.05, kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-8;
  std::vector<double> target(result.attention);
  Vector gradient(L);
  for (int c = 0; c < options.candidates; ++c) {
    std::vector<double> z(static_cast<size_t>(L)), m(static_cast<size_t>(L), 0), v(static_cast<size_t>(L), 0);
    for (int t = 0; t < L; ++t) z[static_cast<size_t>(t)] = std::log(std::max(target[static_cast<size_t>(t)], 1e-12)) + rng.normal();
    for (int step = 1; step <= options.steps + 1; ++step) {
      const double top = *std::max_element(z.begin(), z.end());
      std::vector<double> w(static_cast<size_t>(L));
      double total = 0;
      for (int t = 0; t < L; ++t) total += (w[static_cast<size_t>(t)] = std::exp(z[static_cast<size_t>(t)] - top));
      for (double& x : w) x /= total;
      Vector weights(L);
      for (int t = 0; t < L; ++t) weights(t) = static_cast<Scalar>(w[static_cast<size_t>(t)]);
      const double p = sigmoid(sign * model.logit_with_attention(weights, &gradient));
      const double change = p - result.probability, jsd = jensen_shannon(w, target);
      if (std::abs(change) <= options.tolerance && jsd > result.adversarial_jsd) {
        result.adversarial_jsd = jsd;
        result.adversarial = w;
        result.adversarial_change = std::abs(change);
      }
      if (step > options.steps) break;
      // d(objective)/dw_i: ½ log(w_i / m_i) from the JSD, minus the penalty's pull through p.
      const double excess = std::abs(change) - options.tolerance;
      const double pull = excess > 0 ? 2 * kPenalty * excess * (change > 0 ? 1 : -1) * p * (1 - p) * sign : 0;
      std::vector<double> g(static_cast<size_t>(L));
      double mean = 0;
      for (int t = 0; t < L; ++t) {
        const size_t i = static_cast<size_t>(t);
        const double mid = (w[i] + target[i]) / 2;
        g[i] = (w[i] > 0 ? 0.5 * std::log(w[i] / mid) : 0) - pull * gradient(t);
        mean += w[i] * g[i];
      }
      for (int t = 0; t < L; ++t) {  // through the softmax, ascending
        const size_t i = static_cast<size_t>(t);
        const double dz = w[i] * (g[i] - mean);
        m[i] = kBeta1 * m[i] + (1 - kBeta1) * dz;
        v[i] = kBeta2 * v[i] + (1 - kBeta2) * dz * dz;
        const double m_hat = m[i] / (1 - std::pow(kBeta1, step)), v_hat = v[i] / (1 - std::pow(kBeta2, step));
        z[i] += kRate * m_hat / (std::sqrt(v_hat) + kEpsilon);
      }
    }
  }
  return result;
}

nlohmann::json to_json(const AttentionExperiments& e) {
  return {{"attention", e.attention},
          {"probability", e.probability},
          {"permuted", {{"median_abs_change", e.permuted_median_change}, {"max_abs_change", e.permuted_max_change}}},
          {"uniform", {{"abs_change", e.uniform_change}}},
          {"adversarial",
           {{"attention", e.adversarial}, {"jsd", e.adversarial_jsd}, {"abs_change", e.adversarial_change}}}};
}

}  // namespace attnlens
