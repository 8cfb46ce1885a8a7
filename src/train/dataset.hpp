// Encoded examples, splits and length-bucketed batches.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "text/tokenizer.hpp"
#include "text/vocabulary.hpp"

namespace attnlens {

struct Example {
  std::vector<int32_t> ids;
  float label = 0;
};

// Token ids for `tokens`; keeps the first max_length (0: all).
std::vector<int32_t> encode(const std::vector<Token>& tokens, const Vocabulary& vocabulary, size_t max_length = 0);

struct Split {
  std::vector<size_t> train, validation;
};
// Stratified by label: each class contributes the same fraction to validation.
Split stratified_split(const std::vector<float>& labels, double validation_fraction, uint64_t seed);

// Right-padded batch of the given examples, each cut to max_length (0: no cut).
TokenBatch make_batch(const std::vector<Example>& examples, const std::vector<size_t>& indices, size_t max_length = 0);

// Groups `pool` into batches of similar length so little compute goes to padding.
// With an rng: shuffled, then sorted by length within windows of 50 batches, then the
// batch order shuffled (a "bucket iterator"). Without: sorted by length (evaluation).
// max_tokens > 0 also caps batch × longest length, so batches of very long reviews stay
// small (a Transformer keeps an L × L attention matrix per head for every review).
std::vector<std::vector<size_t>> length_bucketed_batches(const std::vector<Example>& examples, std::vector<size_t> pool,
                                                         int batch_size, Rng* rng, size_t max_tokens = 0);

}  // namespace attnlens
