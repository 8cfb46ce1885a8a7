#include "train/dataset.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace attnlens {

Split stratified_split(const std::vector<float>& labels, double validation_fraction, uint64_t seed) {
  check(validation_fraction >= 0 && validation_fraction < 1, "validation fraction must be in [0, 1)");
  Rng rng(seed);
  Split split;
  for (const float cls : {0.0f, 1.0f}) {
    std::vector<size_t> members;
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == cls) members.push_back(i);
    rng.shuffle(members);
    const size_t held_out = static_cast<size_t>(std::llround(validation_fraction * static_cast<double>(members.size())));
    split.validation.insert(split.validation.end(), members.begin(), members.begin() + static_cast<std::ptrdiff_t>(held_out));
    split.train.insert(split.train.end(), members.begin() + static_cast<std::ptrdiff_t>(held_out), members.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

std::vector<std::vector<size_t>> length_bucketed_batches(const std::vector<Example>& examples, std::vector<size_t> pool,
                                                         int batch_size, Rng* rng, size_t max_tokens) {
  check(batch_size > 0, "batch size must be positive");
  const auto by_length = [&](size_t a, size_t b) { return examples[a].ids.size() < examples[b].ids.size(); };
  const size_t window = static_cast<size_t>(batch_size) * 50;
  if (rng) {
    rng->shuffle(pool);
    for (size_t begin = 0; begin < pool.size(); begin += window)
      std::stable_sort(pool.begin() + static_cast<std::ptrdiff_t>(begin),
                       pool.begin() + static_cast<std::ptrdiff_t>(std::min(pool.size(), begin + window)), by_length);
  } else {
    std::stable_sort(pool.begin(), pool.end(), by_length);
  }
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> current;
  size_t longest = 0;
  for (size_t index : pool) {
    const size_t length = std::max<size_t>(1, examples[index].ids.size());
    const bool full = current.size() >= static_cast<size_t>(batch_size) ||
                      (max_tokens > 0 && !current.empty() && (current.size() + 1) * std::max(longest, length) > max_tokens);
    if (full) {
      batches.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(index);
    longest = std::max(longest, length);
  }
  if (!current.empty()) batches.push_back(std::move(current));
  if (rng) rng->shuffle(batches);
  return batches;
}

}  // namespace attnlens
