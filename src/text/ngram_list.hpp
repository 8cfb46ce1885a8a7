// The n-grams of a vocabulary (an n-gram model's, or a network's n-gram path's) in the layout a
// model file stores compactly: the vocabulary's words first (entries without a space), then its
// n-grams ("w1 w2", "w1 w2 w3": 2 to `order` of those words), ordered by length, then by their
// words' ids. In that layout an n-gram's id follows from its place, so a file stores the n-grams
// as their words' ids, each differing from the one before in a few small numbers: 1.40 bytes an
// n-gram (0.95 gzipped) against 15.1 (4.6) as JSON strings, for the 271,195 of the shipped
// trigram model (models/teachers/ngram-trigram.safetensors).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "text/vocabulary.hpp"

namespace attnlens {

// How many of the vocabulary's entries are words when it is in the layout for n-grams of at most
// `order` words (the n-grams follow them), or -1 when it is not.
int ngram_layout_words(const Vocabulary& vocabulary, int order);

struct NgramLayout {
  Vocabulary vocabulary;         // in the layout
  int words = 0;                 // its first `words` entries are words
  std::vector<int32_t> new_ids;  // an entry's id before → after; -1 for an entry dropped
};
// The vocabulary in the layout: its words keep their order (so a network's words keep their ids
// when all of them come before any n-gram), its n-grams follow, sorted. An n-gram that can never
// occur (a word the vocabulary lacks, <pad> or <unk>, more than `order` words) is dropped, as the
// model ignores it anyway (Classifier::bind_vocabulary).
NgramLayout ngram_layout(const Vocabulary& vocabulary, int order);

// The n-grams (ids from `words` on) of a vocabulary in the layout, as bytes: for each n-gram of
// n words, taken against the one before of the same length (all ids 0 before the first), k the
// first position where they differ and d > 0 the difference there, the varint n·d + k, then the
// ids after position k as varints. Two varints first: the numbers of 2- and 3-word n-grams.
std::vector<uint8_t> encode_ngram_list(const Vocabulary& vocabulary, int words);
// The most text the n-grams of one list may spell out: a byte of the list can name an n-gram of
// long words, so the texts are bounded apart from the bytes. 32 MiB is room for the largest
// vocabulary a config allows (2^20 entries) at 32 bytes an n-gram; the shipped trigram model's
// 271,195 take 4.1 MB.
constexpr size_t kMaxNgramTextBytes = size_t{32} << 20;

// The inverse, appending the n-grams' texts to `builder`, which holds the words (ids below its
// size). Checks everything: exactly `count` n-grams of at most `order` words, each of words known
// and not <pad> or <unk>, in order (so none twice), every byte used, their texts within
// kMaxNgramTextBytes; throws Error otherwise. Its work is bounded by the bytes given (each n-gram
// takes at least one) and that limit. `grams`, when given, also receives each n-gram's word ids
// in the same order (the third 0 for two words): what a model's n-gram table is made from
// without reading the texts back (Classifier::bind_ngrams).
using NgramWords = std::array<int32_t, 3>;
void decode_ngram_list(const uint8_t* bytes, size_t size, int order, int count, Vocabulary::Builder& builder,
                       std::vector<NgramWords>* grams = nullptr);

}  // namespace attnlens
