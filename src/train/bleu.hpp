// Corpus BLEU-4 (Papineni et al. 2002) on token lists, with several references per
// sentence allowed: n-gram counts clipped by their largest count in any one reference,
// summed over the corpus; the reference length of a sentence is the reference length
// closest to the hypothesis length (the shorter one on a tie); brevity penalty
// BP = exp(1 − r / c) when the corpus hypothesis length c < r. BLEU = BP · exp(¼ Σ log p_n),
// 0 when some p_n is 0; reported ×100. No smoothing: this is the corpus-level score that
// multi-bleu.perl and sacreBLEU (tokenize none, smooth none) compute.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnlens {

class BleuStats {
 public:
  void add(const std::vector<std::string>& hypothesis, const std::vector<std::vector<std::string>>& references);
  void merge(const BleuStats& other);
  double score() const;  // 0–100
  double brevity_penalty() const;
  double precision(int n) const;  // n = 1..4, 0–1
  int64_t sentences() const { return sentences_; }
  int64_t hypothesis_length() const { return hypothesis_length_; }
  int64_t reference_length() const { return reference_length_; }
  nlohmann::json to_json() const;  // bleu, precisions, bp, lengths, sentences

 private:
  std::array<int64_t, 4> matches_{}, totals_{};
  int64_t hypothesis_length_ = 0, reference_length_ = 0, sentences_ = 0;
};

double corpus_bleu(const std::vector<std::vector<std::string>>& hypotheses,
                   const std::vector<std::vector<std::vector<std::string>>>& references);

}  // namespace attnlens
