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
  double weight = 0;          // attention weight α_t
  bool oov = false;           // mapped to <unk>
};

struct Prediction {
  std::string label;    // "positive" or "negative"
  double probability;   // of positive
  double logit;
  std::vector<TokenScore> tokens;
};

Prediction classify(ClassifierBundle& bundle, std::string_view text);

}  // namespace attnlens
