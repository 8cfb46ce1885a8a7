// Sentence pairs for translation: encoding, a split that keeps every source sentence in
// one part, teacher-forced batches, training (data-parallel over threads, as the
// classifier's Trainer) and BLEU evaluation, overall and by source length.
#pragma once
#include <array>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/tatoeba.hpp"
#include "models/decoding.hpp"
#include "text/tokenizer.hpp"
#include "text/vocabulary.hpp"
#include "train/adam.hpp"
#include "train/bleu.hpp"
#include "train/data_parallel.hpp"
#include "train/trainer.hpp"

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

struct TranslationEpochStats {
  int epoch = 0;
  double learning_rate = 0;
  double train_loss = 0, train_token_accuracy = 0;       // per target token
  double validation_loss = 0, validation_token_accuracy = 0, validation_bleu = 0;
  double seconds = 0, sentences_per_second = 0;
  bool improved = false;
  nlohmann::json to_json() const;
};

class TranslationTrainer {
 public:
  TranslationTrainer(Translator& model, const TrainOptions& options);
  // Keeps the weights of the epoch with the best validation BLEU (greedy).
  std::vector<TranslationEpochStats> fit(const TranslationCorpus& corpus, const std::vector<size_t>& train,
                                         const std::vector<size_t>& validation, const Vocabulary& target_vocabulary,
                                         const std::function<void(const TranslationEpochStats&)>& on_epoch = {},
                                         const std::function<void(const Progress&)>& on_progress = {});
  Translator::Stats evaluate_loss(const TranslationCorpus& corpus, const std::vector<size_t>& indices);

 private:
  Translator::Stats run_batch(const TranslationCorpus& corpus, const std::vector<size_t>& batch, bool training,
                              uint64_t dropout_seed);

  Translator& model_;
  TrainOptions options_;
  Adam optimizer_;
  std::vector<Translator> replicas_;
};

}  // namespace attnlens
