#include "text/vocabulary.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace attnlens {

Vocabulary::Vocabulary() : Vocabulary(std::vector<std::string>{kPadToken, kUnkToken}) {}

Vocabulary::Vocabulary(std::vector<std::string> words) : words_(std::move(words)) {
  check(words_.size() >= 2 && words_[0] == kPadToken && words_[1] == kUnkToken,
        "vocabulary: the first two entries must be <pad> and <unk>");
  index_.reserve(words_.size());
  for (size_t i = 0; i < words_.size(); ++i) {
    check(!words_[i].empty(), "vocabulary: entry " + std::to_string(i) + " is empty");
    const bool inserted = index_.emplace(words_[i], static_cast<int32_t>(i)).second;
    check(inserted, "vocabulary: duplicate entry '" + words_[i] + "' at " + std::to_string(i));
  }
}

Vocabulary Vocabulary::from_counts(const std::unordered_map<std::string, int64_t>& counts, int max_size, int min_count) {
  check(max_size >= 2, "vocabulary: size must be at least 2 (<pad>, <unk>)");
  std::vector<std::pair<std::string, int64_t>> ranked;
  for (const auto& [word, count] : counts)
    if (count >= min_count && word != kPadToken && word != kUnkToken) ranked.emplace_back(word, count);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::string> words{kPadToken, kUnkToken};
  for (size_t i = 0; i < ranked.size() && words.size() < static_cast<size_t>(max_size); ++i) words.push_back(ranked[i].first);
  return Vocabulary(std::move(words));
}

}  // namespace attnlens
