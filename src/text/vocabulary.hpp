// Word ↔ id map. Id 0 is PAD, id 1 is UNK; the rest are the most frequent training
// words, most frequent first (ties broken alphabetically so a build is reproducible).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/tokenizer.hpp"

namespace attnlens {

class Vocabulary {
 public:
  static constexpr int32_t kPad = 0;
  static constexpr int32_t kUnk = 1;
  static constexpr const char* kPadToken = "<pad>";
  static constexpr const char* kUnkToken = "<unk>";

  Vocabulary();
  // words[0] must be <pad>, words[1] <unk>; no duplicates, no empty words.
  explicit Vocabulary(std::vector<std::string> words);

  // Counts tokens over `texts` and keeps the `max_size - 2` most frequent (min_count ≥ 1).
  template <typename TokenLists>
  static Vocabulary build(const TokenLists& token_lists, int max_size, int min_count = 1);

  int32_t id(const std::string& word) const {
    const auto it = index_.find(word);
    return it == index_.end() ? kUnk : it->second;
  }
  const std::string& word(int32_t id) const { return words_.at(static_cast<size_t>(id)); }
  int size() const { return static_cast<int>(words_.size()); }
  const std::vector<std::string>& words() const { return words_; }

 private:
  static Vocabulary from_counts(const std::unordered_map<std::string, int64_t>& counts, int max_size, int min_count);
  std::vector<std::string> words_;
  std::unordered_map<std::string, int32_t> index_;
};

template <typename TokenLists>
Vocabulary Vocabulary::build(const TokenLists& token_lists, int max_size, int min_count) {
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& tokens : token_lists)
    for (const auto& token : tokens) ++counts[token.text];
  return from_counts(counts, max_size, min_count);
}

}  // namespace attnlens
