// Decoding with a trained translator: greedy (a batch of sources at once) and beam search
// (one source), both returning the attention row of every output token.
#pragma once
#include <cstdint>
#include <vector>

#include "models/translator.hpp"

namespace attnlens {

struct Hypothesis {
  std::vector<int32_t> tokens;  // target ids, without </s>
  Matrix attention;             // [tokens, source length]: row i = α of output token i (empty without attention)
  double log_probability = 0;   // Σ log p of its tokens, and of </s> unless it was cut at the length limit
  double score = 0;             // log_probability / length penalty (beam search), else log_probability
};

struct DecodeOptions {
  int beam = 1;                // 1: greedy
  int max_length = 0;          // 0: 2 × source length + 10
  double length_penalty = 0.6; // α of ((5 + |y|) / 6)^α (Wu et al. 2016), beam search only
};

// Greedy decoding of many sources at once (each a list of source ids, at least one).
std::vector<Hypothesis> greedy_decode(Translator& model, const std::vector<std::vector<int32_t>>& sources,
                                      int max_length = 0);
// Beam search of one source; options.beam == 1 is greedy.
Hypothesis beam_search(Translator& model, const std::vector<int32_t>& source, const DecodeOptions& options);

}  // namespace attnlens
