// Word ↔ id map. Id 0 is PAD, id 1 is UNK; the rest are the most frequent training
// words, most frequent first (ties broken alphabetically so a build is reproducible).
//
// Stored compactly, because a model file from anyone may hold millions of words: the words back
// to back in one buffer, where each ends, and an open-addressing table of ids (its slots chosen by
// a hash with a secret per-process seed). A word of n bytes costs n + 4 bytes, plus 5 to 11 bytes
// of table, about its length as JSON in the file.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "text/tokenizer.hpp"

namespace attnlens {

class Vocabulary {
 public:
  static constexpr int32_t kPad = 0;
  static constexpr int32_t kUnk = 1;
  static constexpr const char* kPadToken = "<pad>";
  static constexpr const char* kUnkToken = "<unk>";

  // Collects words one by one, then checks them and builds the table (a loader's path: no
  // vector of strings in between).
  class Builder {
   public:
    void reserve(size_t words, size_t bytes);
    void add(std::string_view word);
    size_t size() const { return ends_.size(); }
    std::string_view word(size_t i) const {  // i < size()
      const size_t begin = i == 0 ? 0 : ends_[i - 1];
      return std::string_view(text_).substr(begin, ends_[i] - begin);
    }
    // Throws Error "vocabulary: …" unless words 0 and 1 are <pad> and <unk>, none is empty and
    // none is named twice.
    Vocabulary build() &&;

   private:
    friend class Vocabulary;
    std::string text_;
    std::vector<uint32_t> ends_;
  };

  Vocabulary();
  // words[0] must be <pad>, words[1] <unk>; no duplicates, no empty words.
  explicit Vocabulary(const std::vector<std::string>& words);

  // Counts tokens over `texts` and keeps the `max_size - 2` most frequent (min_count ≥ 1).
  template <typename TokenLists>
  static Vocabulary build(const TokenLists& token_lists, int max_size, int min_count = 1);
  // For n-gram models: the words and the n-grams of 2..order consecutive tokens (joined by one
  // space), ranked together by the number of texts containing them (an n-gram is in no more
  // texts than its words, and ties go to fewer words, so none outranks its words); the
  // `max_size - 2` first with at least min_count texts.
  template <typename TokenLists>
  static Vocabulary build_ngrams(const TokenLists& token_lists, int order, int max_size, int min_count = 1);

  int32_t id(std::string_view word) const;
  std::string_view word(int32_t id) const;  // throws Error for an id outside the vocabulary
  // An n-gram entry's words ("w1 w2 …", split at single spaces) looked up in this vocabulary: their
  // count n when every one is in it (not <pad> or <unk>) and n ≤ max_words, else 0. ids (room for
  // max_words) receives them unless it is null.
  int entry_word_ids(std::string_view entry, int max_words, int32_t* ids = nullptr) const;
  int size() const { return static_cast<int>(ends_.size()); }
  std::vector<std::string> words() const;  // a copy, for saving and comparing
  // Bytes held: the words, their ends and the table.
  size_t memory_bytes() const { return text_.capacity() + ends_.capacity() * 4 + slots_.capacity() * 4; }

 private:
  struct Empty {};
  explicit Vocabulary(Empty) {}
  static Vocabulary from_counts(const std::unordered_map<std::string, int64_t>& counts, int max_size, int min_count);
  std::string_view at(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(text_).substr(begin, ends_[i] - begin);
  }
  std::string text_;             // every word, back to back
  std::vector<uint32_t> ends_;   // where word i ends in text_
  std::vector<int32_t> slots_;   // open addressing, linear probing: an id, or -1; a power of two, at most 3/4 full
  int shift_ = 61;               // 64 - log2(slots_.size())
  size_t slot_of(std::string_view word) const;
};

template <typename TokenLists>
Vocabulary Vocabulary::build(const TokenLists& token_lists, int max_size, int min_count) {
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& tokens : token_lists)
    for (const auto& token : tokens) ++counts[token.text];
  return from_counts(counts, max_size, min_count);
}

template <typename TokenLists>
Vocabulary Vocabulary::build_ngrams(const TokenLists& token_lists, int order, int max_size, int min_count) {
  check(order >= 1 && order <= 3, "vocabulary: n-gram order must be 1, 2 or 3");
  std::unordered_map<std::string, int64_t> texts_containing;
  std::vector<std::string> grams;
  for (const auto& tokens : token_lists) {
    grams.clear();
    for (size_t t = 0; t < tokens.size(); ++t) {
      std::string gram = tokens[t].text;
      grams.push_back(gram);
      for (int n = 2; n <= order && t + static_cast<size_t>(n) <= tokens.size(); ++n) {
        gram += ' ';
        gram += tokens[t + static_cast<size_t>(n) - 1].text;
        grams.push_back(gram);
      }
    }
    std::sort(grams.begin(), grams.end());
    grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
    for (const std::string& g : grams) ++texts_containing[g];
  }
  return from_counts(texts_containing, max_size, min_count);
}

}  // namespace attnlens
