#include "text/vocabulary.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <unistd.h>

#include "core/error.hpp"

namespace attnlens {

namespace {

// A secret per process, so that no file can be crafted to put its words in a few slots of the
// table (the probes would take hours): the hash, mixed with it, by multiply-shift.
uint64_t table_seed() {
  static const uint64_t seed = [] {
    uint64_t value = 0;
    if (getentropy(&value, sizeof value) != 0)  // the system's (or, in wasm, the browser's) randomness
      value = reinterpret_cast<uintptr_t>(&value) * 0x2545F4914F6CDD1Dull;  // where the stack is, at least
    return value;
  }();
  return seed;
}

}  // namespace

size_t Vocabulary::slot_of(std::string_view word) const {
  const uint64_t hash = static_cast<uint64_t>(std::hash<std::string_view>{}(word));
  return static_cast<size_t>(((hash ^ table_seed()) * 0x9E3779B97F4A7C15ull) >> shift_);
}

void Vocabulary::Builder::reserve(size_t words, size_t bytes) {
  ends_.reserve(words);
  text_.reserve(bytes);
}

void Vocabulary::Builder::add(std::string_view word) {
  check(text_.size() + word.size() <= std::numeric_limits<uint32_t>::max(), "vocabulary: more than 4 GiB of words");
  check(ends_.size() < static_cast<size_t>(std::numeric_limits<int32_t>::max()), "vocabulary: too many words");
  text_.append(word);
  ends_.push_back(static_cast<uint32_t>(text_.size()));
}

Vocabulary Vocabulary::Builder::build() && {
  Vocabulary v{Empty{}};
  v.text_ = std::move(text_);
  v.ends_ = std::move(ends_);
  const size_t n = v.ends_.size();
  check(n >= 2 && v.at(0) == kPadToken && v.at(1) == kUnkToken, "vocabulary: the first two entries must be <pad> and <unk>");
  size_t slots = 8;
  v.shift_ = 61;
  while (slots * 3 < n * 4) slots *= 2, --v.shift_;
  v.slots_.assign(slots, -1);
  const size_t mask = slots - 1;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view word = v.at(i);  // (the messages are built only on failure: this runs per entry)
    if (word.empty()) throw Error("vocabulary: entry " + std::to_string(i) + " is empty");
    size_t s = v.slot_of(word);
    while (v.slots_[s] >= 0) {
      if (v.at(static_cast<size_t>(v.slots_[s])) == word)
        throw Error("vocabulary: duplicate entry '" + std::string(word) + "' at " + std::to_string(i));
      s = (s + 1) & mask;
    }
    v.slots_[s] = static_cast<int32_t>(i);
  }
  return v;
}

Vocabulary::Vocabulary() : Vocabulary(std::vector<std::string>{kPadToken, kUnkToken}) {}

Vocabulary::Vocabulary(const std::vector<std::string>& words) {
  Builder builder;
  size_t bytes = 0;
  for (const std::string& w : words) bytes += w.size();
  builder.reserve(words.size(), bytes);
  for (const std::string& w : words) builder.add(w);
  *this = std::move(builder).build();
}

int32_t Vocabulary::id(std::string_view word) const {
  if (slots_.empty()) return kUnk;  // moved from
  const size_t mask = slots_.size() - 1;
  for (size_t s = slot_of(word);; s = (s + 1) & mask) {
    const int32_t i = slots_[s];
    if (i < 0) return kUnk;
    if (at(static_cast<size_t>(i)) == word) return i;
  }
}

int Vocabulary::entry_word_ids(std::string_view entry, int max_words, int32_t* ids) const {
  int n = 0;
  for (size_t begin = 0; begin <= entry.size();) {
    const size_t end = std::min(entry.find(' ', begin), entry.size());
    if (n == max_words) return 0;
    const int32_t word_id = id(entry.substr(begin, end - begin));
    if (word_id < 2) return 0;
    if (ids) ids[n] = word_id;
    ++n;
    begin = end + 1;
  }
  return n;
}

std::string_view Vocabulary::word(int32_t id) const {
  if (id < 0 || id >= size())  // (the message only on failure: loaders call this per entry)
    throw Error("vocabulary: id " + std::to_string(id) + " is outside 0.." + std::to_string(size() - 1));
  return at(static_cast<size_t>(id));
}

std::vector<std::string> Vocabulary::words() const {
  std::vector<std::string> words;
  words.reserve(ends_.size());
  for (size_t i = 0; i < ends_.size(); ++i) words.emplace_back(at(i));
  return words;
}

Vocabulary Vocabulary::from_counts(const std::unordered_map<std::string, int64_t>& counts, int max_size, int min_count) {
  check(max_size >= 2, "vocabulary: size must be at least 2 (<pad>, <unk>)");
  std::vector<std::pair<std::string, int64_t>> ranked;
  for (const auto& [word, count] : counts)
    if (count >= min_count && word != kPadToken && word != kUnkToken) ranked.emplace_back(word, count);
  // By count, then (n-gram vocabularies) fewer words first, so no n-gram outranks its words.
  const auto words_in = [](const std::string& entry) { return std::count(entry.begin(), entry.end(), ' '); };
  std::sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    const auto wa = words_in(a.first), wb = words_in(b.first);
    return wa != wb ? wa < wb : a.first < b.first;
  });
  std::vector<std::string> words{kPadToken, kUnkToken};
  for (size_t i = 0; i < ranked.size() && words.size() < static_cast<size_t>(max_size); ++i) words.push_back(ranked[i].first);
  return Vocabulary(words);
}

}  // namespace attnlens
