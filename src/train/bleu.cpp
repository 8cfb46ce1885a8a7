#include "train/bleu.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/error.hpp"

namespace attnlens {

namespace {

using Counts = std::map<std::vector<std::string>, int64_t>;

Counts ngrams(const std::vector<std::string>& tokens, size_t n) {
  Counts counts;
  for (size_t i = 0; i + n <= tokens.size(); ++i) ++counts[std::vector<std::string>(tokens.begin() + static_cast<std::ptrdiff_t>(i), tokens.begin() + static_cast<std::ptrdiff_t>(i + n))];
  return counts;
}

}  // namespace

void BleuStats::add(const std::vector<std::string>& hypothesis, const std::vector<std::vector<std::string>>& references) {
  check(!references.empty(), "bleu: a sentence needs at least one reference");
  ++sentences_;
  const int64_t c = static_cast<int64_t>(hypothesis.size());
  hypothesis_length_ += c;
  int64_t closest = static_cast<int64_t>(references[0].size());
  for (const auto& ref : references) {
    const int64_t r = static_cast<int64_t>(ref.size());
    if (std::llabs(r - c) < std::llabs(closest - c) || (std::llabs(r - c) == std::llabs(closest - c) && r < closest)) closest = r;
  }
  reference_length_ += closest;
  for (size_t n = 1; n <= 4; ++n) {
    const Counts hyp = ngrams(hypothesis, n);
    Counts max_ref;
    for (const auto& ref : references)
      for (const auto& [gram, count] : ngrams(ref, n)) max_ref[gram] = std::max(max_ref[gram], count);
    for (const auto& [gram, count] : hyp) {
      const auto it = max_ref.find(gram);
      matches_[n - 1] += std::min(count, it == max_ref.end() ? int64_t{0} : it->second);
    }
    totals_[n - 1] += std::max<int64_t>(0, c - static_cast<int64_t>(n) + 1);
  }
}

void BleuStats::merge(const BleuStats& other) {
  for (size_t n = 0; n < 4; ++n) {
    matches_[n] += other.matches_[n];
    totals_[n] += other.totals_[n];
  }
  hypothesis_length_ += other.hypothesis_length_;
  reference_length_ += other.reference_length_;
  sentences_ += other.sentences_;
}

double BleuStats::precision(int n) const {
  check(n >= 1 && n <= 4, "bleu: n-gram order must be 1 to 4");
  const auto k = static_cast<size_t>(n - 1);
  return totals_[k] ? static_cast<double>(matches_[k]) / static_cast<double>(totals_[k]) : 0.0;
}

double BleuStats::brevity_penalty() const {
  if (hypothesis_length_ == 0) return 0.0;
  if (hypothesis_length_ >= reference_length_) return 1.0;
  return std::exp(1.0 - static_cast<double>(reference_length_) / static_cast<double>(hypothesis_length_));
}

double BleuStats::score() const {
  double log_sum = 0;
  for (int n = 1; n <= 4; ++n) {
    const double p = precision(n);
    if (p <= 0) return 0.0;
    log_sum += std::log(p);
  }
  return 100.0 * brevity_penalty() * std::exp(log_sum / 4.0);
}

nlohmann::json BleuStats::to_json() const {
  return {{"bleu", score()},
          {"precisions", {precision(1), precision(2), precision(3), precision(4)}},
          {"brevity_penalty", brevity_penalty()},
          {"hypothesis_length", hypothesis_length_},
          {"reference_length", reference_length_},
          {"sentences", sentences_}};
}

double corpus_bleu(const std::vector<std::vector<std::string>>& hypotheses,
                   const std::vector<std::vector<std::vector<std::string>>>& references) {
  check(hypotheses.size() == references.size(), "bleu: hypotheses and references differ in number");
  BleuStats stats;
  for (size_t i = 0; i < hypotheses.size(); ++i) stats.add(hypotheses[i], references[i]);
  return stats.score();
}

}  // namespace attnlens
