// Text to model input, one way for every model: tokens → vocabulary ids, and encoded texts →
// a right-padded, time-major TokenBatch. The classifier, the translator, training and the
// benchmarks all go through here.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.hpp"
#include "text/tokenizer.hpp"
#include "text/vocabulary.hpp"

namespace attnlens {

// An encoded text and its label (1: the positive class; unused where there is none).
struct Example {
  std::vector<int32_t> ids;
  float label = 0;
};

// Token ids for `tokens` (<unk> for words the vocabulary lacks); keeps the first max_length (0: all).
std::vector<int32_t> encode(const std::vector<Token>& tokens, const Vocabulary& vocabulary, size_t max_length = 0);

// One text's ids as a batch of one (no padding).
TokenBatch single_batch(std::vector<int32_t> ids);

// Right-padded batch of the given examples, each cut to max_length (0: no cut).
TokenBatch make_batch(const std::vector<Example>& examples, const std::vector<size_t>& indices, size_t max_length = 0);

}  // namespace attnlens
