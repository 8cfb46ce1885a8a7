// IMDB reviews as the classifier commands use them (train and eval): encoded examples, every
// index, and an evenly spaced subset for quick runs.
#pragma once
#include <vector>

#include "data/imdb.hpp"
#include "text/encoding.hpp"

namespace attnlens::cli {

inline std::vector<Example> encode_reviews(const std::vector<Review>& reviews, const Vocabulary& vocabulary,
                                    const TokenizerOptions& tokenizer, size_t max_length = 0) {
  std::vector<Example> examples;
  examples.reserve(reviews.size());
  for (const Review& r : reviews)
    examples.push_back({encode(tokenize(r.text, tokenizer), vocabulary, max_length), static_cast<float>(r.label)});
  return examples;
}

inline std::vector<size_t> all_indices(size_t count) {
  std::vector<size_t> indices(count);
  for (size_t i = 0; i < count; ++i) indices[i] = i;
  return indices;
}

// Evenly spaced subset that keeps both classes (reviews are sorted by label).
inline std::vector<Review> subsample(std::vector<Review> reviews, size_t limit) {
  if (limit == 0 || limit >= reviews.size()) return reviews;
  std::vector<Review> kept;
  for (size_t k = 0; k < limit; ++k) kept.push_back(std::move(reviews[k * reviews.size() / limit]));
  return kept;
}


}  // namespace attnlens::cli
