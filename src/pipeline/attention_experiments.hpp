// Is attention an explanation? The experiments of Jain & Wallace (2019, "Attention is not
// Explanation") and Wiegreffe & Pinter (2019, "Attention is not not Explanation"), on one review
// of an attention-pooling model: keep everything the encoder computed, change only the weights,
// and see what the prediction does.
//   permuted     the real weights shuffled over the tokens, many times: the median and largest |Δp|
//   uniform      every token the same weight: Δp
//   adversarial  weights as far as possible from the model's (Jensen–Shannon divergence) that keep
//                the prediction within a tolerance: found by Adam on the weights' logits from
//                several seeded starts (Jain & Wallace's search, in small)
// p is the probability of the class predicted with the model's own weights.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "io/model_file.hpp"

namespace attnlens {

struct AttentionExperimentOptions {
  int permutations = 100;
  uint64_t seed = 1;
  double tolerance = 0.01;  // adversarial: the largest |Δp| allowed
  int candidates = 4;       // adversarial: starts
  int steps = 300;          // adversarial: Adam steps per start
};

struct AttentionExperiments {
  std::vector<double> attention;  // the model's weights
  double probability = 0;         // p with them
  double permuted_median_change = 0, permuted_max_change = 0;  // |Δp| over the permutations
  double uniform_change = 0;                                   // |Δp| with equal weights
  std::vector<double> adversarial;  // the most different weights found within the tolerance
  double adversarial_jsd = 0;       // JSD(adversarial, attention), natural log (at most ln 2)
  double adversarial_change = 0;    // its |Δp|
};

// Throws for a model without attention pooling. A review of one token or none has nothing to
// permute: every change is 0 and the adversarial weights are the model's.
AttentionExperiments attention_experiments(ClassifierBundle& bundle, std::string_view text,
                                           const AttentionExperimentOptions& options = {});

// Jensen–Shannon divergence of two distributions (natural log).
double jensen_shannon(const std::vector<double>& p, const std::vector<double>& q);

nlohmann::json to_json(const AttentionExperiments& experiments);

}  // namespace attnlens
