// Sentence pairs made ready for a translator: the target vocabulary, the pairs as ids, a split
// that keeps every source sentence in one part, and teacher-forced batches.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/tatoeba.hpp"
#include "models/translator.hpp"
#include "text/tokenizer.hpp"
#include "text/vocabulary.hpp"

namespace attnlens {

// <pad> <unk> <s> </s>, then the most frequent words (ties alphabetical), at most max_size in all.
Vocabulary build_target_vocabulary(const std::vector<std::vector<Token>>& token_lists, int max_size, int min_count);

struct TranslationCorpus {
  std::vector<std::vector<int32_t>> source, target;     // ids; target without <s> and </s>
  std::vector<std::vector<std::string>> references;      // target tokens as text (BLEU references, never <unk>)
  std::vector<std::string> source_key;                   // the source's tokens joined: pairs with equal keys are one sentence
  std::vector<int> source_lengths;                       // source tokens, punctuation included
};

TranslationCorpus encode_pairs(const std::vector<SentencePair>& pairs, const TokenizerOptions& source_tokenizer,
                               const TokenizerOptions& target_tokenizer, const Vocabulary& source_vocabulary,
                               const Vocabulary& target_vocabulary);

struct PairSplit {
  std::vector<size_t> train, validation, test;
};
// Distinct source sentences are shuffled with `seed` and dealt into test, validation and
// train by the given fractions; every pair follows its source sentence, so no test source
// sentence is ever seen in training, whatever its translations.
PairSplit split_by_source(const std::vector<std::string>& source_keys, double validation_fraction, double test_fraction,
                          uint64_t seed);

TranslationBatch make_translation_batch(const TranslationCorpus& corpus, const std::vector<size_t>& indices);

}  // namespace attnlens
