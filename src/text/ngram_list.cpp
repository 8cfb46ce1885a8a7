#include "text/ngram_list.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "core/error.hpp"

namespace attnlens {

namespace {

constexpr int kMaxOrder = 3;

struct Ngram {
  int n = 0;
  std::array<int32_t, kMaxOrder> ids{};
  bool operator<(const Ngram& other) const { return n != other.n ? n < other.n : ids < other.ids; }
};

// The n-gram an entry names, or n = 0 when it names none the model can use: 2 to `order` words,
// each known and a word (id in [2, words)).
Ngram parse(const Vocabulary& vocabulary, std::string_view entry, int order, int words) {
  Ngram gram;
  size_t begin = 0;
  while (begin <= entry.size()) {
    const size_t end = std::min(entry.find(' ', begin), entry.size());
    if (gram.n == order) return {};
    const int32_t id = vocabulary.id(entry.substr(begin, end - begin));
    if (id < 2 || id >= words) return {};
    gram.ids[static_cast<size_t>(gram.n++)] = id;
    begin = end + 1;
  }
  return gram.n >= 2 ? gram : Ngram{};
}

// The entries before the first with a space: a vocabulary in the layout has its words there.
int leading_words(const Vocabulary& vocabulary) {
  int words = 2;
  while (words < vocabulary.size() && vocabulary.word(words).find(' ') == std::string_view::npos) ++words;
  return words;
}

void put_varint(uint32_t value, std::vector<uint8_t>& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

// Every refusal of the decoder: one place that builds the message (the wasm module stays small).
[[noreturn]] void refuse(const std::string& what) { throw Error("n-gram list: " + what); }

class Reader {
 public:
  Reader(const uint8_t* bytes, size_t size) : at_(bytes), end_(bytes + size) {}
  uint32_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (at_ == end_) refuse("the bytes end inside a number");
      const uint8_t byte = *at_++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        if (value > 0xffffffffu) refuse("a number is beyond 32 bits");
        return static_cast<uint32_t>(value);
      }
    }
    refuse("a number is longer than 5 bytes");
  }
  size_t left() const { return static_cast<size_t>(end_ - at_); }

 private:
  const uint8_t* at_;
  const uint8_t* end_;
};

}  // namespace

int ngram_layout_words(const Vocabulary& vocabulary, int order) {
  const int words = leading_words(vocabulary);
  Ngram previous;
  for (int32_t id = words; id < vocabulary.size(); ++id) {
    const Ngram gram = parse(vocabulary, vocabulary.word(id), order, words);
    if (gram.n == 0 || !(previous < gram)) return -1;
    previous = gram;
  }
  return words;
}

NgramLayout ngram_layout(const Vocabulary& vocabulary, int order) {
  check(order >= 1 && order <= kMaxOrder, "n-gram layout: the order must be 1, 2 or 3");
  NgramLayout layout;
  layout.new_ids.assign(static_cast<size_t>(vocabulary.size()), -1);
  std::vector<std::string> entries;
  for (int32_t id = 0; id < vocabulary.size(); ++id) {
    const std::string_view entry = vocabulary.word(id);
    if (id < 2 || entry.find(' ') == std::string_view::npos) {
      layout.new_ids[static_cast<size_t>(id)] = static_cast<int32_t>(entries.size());
      entries.emplace_back(entry);
    }
  }
  layout.words = static_cast<int>(entries.size());
  // The n-grams, by their words' new ids.
  std::vector<std::pair<Ngram, int32_t>> grams;
  for (int32_t id = 2; id < vocabulary.size(); ++id) {
    const std::string_view entry = vocabulary.word(id);
    if (entry.find(' ') == std::string_view::npos) continue;
    Ngram gram = parse(vocabulary, entry, order, vocabulary.size());
    bool usable = gram.n > 0;
    for (int i = 0; usable && i < gram.n; ++i) {
      gram.ids[static_cast<size_t>(i)] = layout.new_ids[static_cast<size_t>(gram.ids[static_cast<size_t>(i)])];
      usable = gram.ids[static_cast<size_t>(i)] >= 2;  // a word, not another n-gram
    }
    if (usable) grams.emplace_back(gram, id);
  }
  std::sort(grams.begin(), grams.end());
  for (const auto& [gram, id] : grams) {
    layout.new_ids[static_cast<size_t>(id)] = static_cast<int32_t>(entries.size());
    entries.emplace_back(vocabulary.word(id));
  }
  layout.vocabulary = Vocabulary(entries);
  return layout;
}

std::vector<uint8_t> encode_ngram_list(const Vocabulary& vocabulary, int words) {
  std::vector<Ngram> grams;
  std::array<uint32_t, kMaxOrder + 1> counts{};
  for (int32_t id = words; id < vocabulary.size(); ++id) {
    grams.push_back(parse(vocabulary, vocabulary.word(id), kMaxOrder, words));
    check(grams.back().n > 0, "n-gram list: entry " + std::to_string(id) + " is not an n-gram of the vocabulary's words");
    check(grams.size() == 1 || grams[grams.size() - 2] < grams.back(), "n-gram list: the n-grams are not in order");
    ++counts[static_cast<size_t>(grams.back().n)];
  }
  std::vector<uint8_t> out;
  put_varint(counts[2], out);
  put_varint(counts[3], out);
  Ngram previous;
  for (const Ngram& gram : grams) {
    if (gram.n != previous.n) previous = Ngram{gram.n, {}};
    int k = 0;
    while (gram.ids[static_cast<size_t>(k)] == previous.ids[static_cast<size_t>(k)]) ++k;
    const uint32_t step = static_cast<uint32_t>(gram.ids[static_cast<size_t>(k)] - previous.ids[static_cast<size_t>(k)]);
    put_varint(step * static_cast<uint32_t>(gram.n) + static_cast<uint32_t>(k), out);  // ids < 2^20: no overflow
    for (int i = k + 1; i < gram.n; ++i) put_varint(static_cast<uint32_t>(gram.ids[static_cast<size_t>(i)]), out);
    previous = gram;
  }
  return out;
}

void decode_ngram_list(const uint8_t* bytes, size_t size, int order, int count, Vocabulary::Builder& builder,
                       std::vector<NgramWords>* grams) {
  if (order < 2 || order > kMaxOrder) refuse("the order must be 2 or 3");
  const uint32_t words = static_cast<uint32_t>(builder.size());
  for (uint32_t id = 0; id < words; ++id)  // an n-gram's text is its words with a space between
    if (builder.word(id).find(' ') != std::string_view::npos) refuse("word " + std::to_string(id) + " holds a space");
  Reader in(bytes, size);
  const uint64_t twos = in.varint(), threes = in.varint();
  if (twos + threes != static_cast<uint64_t>(count))
    refuse("it holds " + std::to_string(twos + threes) + " n-grams, the config " + std::to_string(count));
  if (threes > 0 && order < 3) refuse("3-word n-grams in a model of 2-word n-grams");
  if (static_cast<uint64_t>(count) > in.left())  // each n-gram takes a byte at least
    refuse(std::to_string(count) + " n-grams cannot fit in " + std::to_string(in.left()) + " bytes");
  builder.reserve(builder.size() + static_cast<size_t>(count), 0);
  if (grams) grams->reserve(static_cast<size_t>(count));
  std::string text;
  uint64_t index = 0, spelt = 0;
  for (const uint32_t n : {2u, 3u}) {
    std::array<uint64_t, kMaxOrder> ids{};
    for (uint64_t i = 0, total = n == 2 ? twos : threes; i < total; ++i, ++index) {
      const uint32_t head = in.varint();
      const uint32_t k = head % n, step = head / n;
      if (step == 0) refuse("n-gram " + std::to_string(index) + " does not follow the one before");
      ids[k] += step;
      for (uint32_t j = k + 1; j < n; ++j) ids[j] = in.varint();
      size_t length = n - 1;  // the spaces
      for (uint32_t j = 0; j < n; ++j) {
        if (ids[j] < 2 || ids[j] >= words)
          refuse("n-gram " + std::to_string(index) + " names word " + std::to_string(ids[j]) +
                 ", not one of the vocabulary's " + std::to_string(words) + " words");
        length += builder.word(static_cast<size_t>(ids[j])).size();
      }
      if ((spelt += length) > kMaxNgramTextBytes) refuse("the n-grams' texts exceed 32 MiB");
      text.clear();
      for (uint32_t j = 0; j < n; ++j) {
        if (j > 0) text += ' ';
        text += builder.word(static_cast<size_t>(ids[j]));
      }
      builder.add(text);
      if (grams) grams->push_back({static_cast<int32_t>(ids[0]), static_cast<int32_t>(ids[1]), n == 3 ? static_cast<int32_t>(ids[2]) : 0});
    }
  }
  if (in.left() != 0) refuse(std::to_string(in.left()) + " bytes after the last n-gram");
}

}  // namespace attnlens
