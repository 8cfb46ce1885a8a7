// Training data: stratified splits and length-bucketed batches of encoded examples (text/encoding.hpp).
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "text/encoding.hpp"

namespace attnlens {

struct Split {
  std::vector<size_t> train, validation;
};
// Stratified by label: each class contributes the same fraction to validation.
Split stratified_split(const std::vector<float>& labels, double validation_fraction, uint64_t seed);

// Groups `pool` into batches of similar length so little compute goes to padding.
// With an rng: shuffled, then sorted by length within windows of 50 batches, then the
// batch order shuffled (a "bucket iterator"). Without: sorted by length (evaluation).
// max_tokens > 0 also caps batch × longest length, so batches of very long reviews stay
// small (a Transformer keeps an L × L attention matrix per head for every review).
std::vector<std::vector<size_t>> length_bucketed_batches(const std::vector<Example>& examples, std::vector<size_t> pool,
                                                         int batch_size, Rng* rng, size_t max_tokens = 0);

}  // namespace attnlens
