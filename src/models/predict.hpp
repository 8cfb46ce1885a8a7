// Classify one text with a loaded bundle: the whole text (no truncation), each token
// with its byte offsets and attention weight. Shared by the CLI and the wasm bindings
// so both show the same numbers.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "io/model_file.hpp"

namespace attnlens {

struct TokenScore {
  std::string text;
  size_t start = 0, end = 0;  // byte offsets into the input
  double weight = 0;          // attention weight α_t, or normalised |gradient × input| (see explanation)
  bool oov = false;           // mapped to <unk>
};

struct Prediction {
  std::string label;    // "positive" or "negative"
  double probability;   // of positive
  double logit;
  std::string explanation;  // "attention" or "gradient×input"
  std::vector<TokenScore> tokens;
};

// Token weights: the attention weights α for models with attention pooling; otherwise
// gradient × input saliency, |Σ_d ∂logit/∂x_{t,d} · x_{t,d}| over the embedding, normalised
// to sum to 1, and `explanation` says which.
Prediction classify(ClassifierBundle& bundle, std::string_view text);

// The forward pass alone, no explanation: the logit of each text (whole texts, one padded
// batch). What batch scoring and perturbation-based explanations need.
std::vector<double> score(ClassifierBundle& bundle, const std::vector<std::string>& texts);

}  // namespace attnlens
