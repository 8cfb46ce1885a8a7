// Training a translator: teacher-forced cross-entropy, data-parallel over threads as the
// classifier's Trainer, on the shared epoch loop (train/epochs.hpp), keeping the epoch with the
// best validation BLEU.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "train/adam.hpp"
#include "train/bleu_evaluation.hpp"
#include "train/data_parallel.hpp"
#include "train/trainer.hpp"
#include "train/translation_corpus.hpp"

namespace attnlens {

struct TranslationEpochStats {
  int epoch = 0;
  double learning_rate = 0;
  double train_loss = 0, train_token_accuracy = 0;       // per target token
  double validation_loss = 0, validation_token_accuracy = 0, validation_bleu = 0;
  double seconds = 0, sentences_per_second = 0;
  bool improved = false;
  nlohmann::json to_json() const;
  static TranslationEpochStats from_json(const nlohmann::json& j);
};

class TranslatorTrainer {
 public:
  TranslatorTrainer(Translator& model, const TrainOptions& options);
  // Keeps the weights of the epoch with the best validation BLEU (greedy).
  std::vector<TranslationEpochStats> fit(const TranslationCorpus& corpus, const std::vector<size_t>& train,
                                         const std::vector<size_t>& validation, const Vocabulary& target_vocabulary,
                                         const std::function<void(const TranslationEpochStats&)>& on_epoch = {},
                                         const std::function<void(const Progress&)>& on_progress = {},
                                         const Checkpointing& checkpointing = {});
  Adam& optimizer() { return optimizer_; }
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
