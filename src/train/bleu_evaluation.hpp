// A translator's BLEU on part of a corpus: overall (all of a source's translations as
// references), single-reference, and by source length.
#pragma once
#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/decoding.hpp"
#include "train/bleu.hpp"
#include "train/translation_corpus.hpp"

namespace attnlens {

// Source-length buckets of the BLEU-by-length curve: 1–3, 4–5, 6–7, 8+ source tokens. A length
// counts punctuation, as the tokenised corpora of Cho et al. and Bahdanau et al. (2014) did.
constexpr std::array<int, 4> kLengthBucketStarts = {1, 4, 6, 8};
std::string length_bucket_name(size_t bucket);  // "1-3", "4-5", "6-7", "8+"
size_t length_bucket(int tokens);

struct BleuReport {
  BleuStats overall;                   // one hypothesis per distinct source sentence, all its translations as references
  BleuStats single_reference;          // one hypothesis per pair, that pair's translation as the only reference
  std::array<BleuStats, 4> by_length;  // multi-reference, by source tokens
  double seconds = 0;
  nlohmann::json to_json() const;
};

// Translates each distinct source sentence among `indices` once (greedy in batches, or beam
// search), over `threads` copies of the model.
BleuReport evaluate_bleu(const Translator& model, const TranslationCorpus& corpus, const std::vector<size_t>& indices,
                         const Vocabulary& target_vocabulary, const DecodeOptions& options, int threads = 2);

}  // namespace attnlens
