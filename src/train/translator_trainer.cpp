#include "train/translator_trainer.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "train/dataset.hpp"
#include "train/epochs.hpp"

namespace attnlens {

using nlohmann::json;

json TranslationEpochStats::to_json() const {
  return {{"epoch", epoch},
          {"learning_rate", learning_rate},
          {"train_loss", train_loss},
          {"train_token_accuracy", train_token_accuracy},
          {"validation_loss", validation_loss},
          {"validation_token_accuracy", validation_token_accuracy},
          {"validation_bleu", validation_bleu},
          {"seconds", seconds},
          {"sentences_per_second", sentences_per_second},
          {"improved", improved}};
}

TranslationEpochStats TranslationEpochStats::from_json(const json& j) {  // what a checkpoint lacks is NaN
  TranslationEpochStats s;
  s.epoch = j.at("epoch").get<int>();
  s.learning_rate = j.value("learning_rate", NAN);
  s.train_loss = j.value("train_loss", NAN);
  s.train_token_accuracy = j.value("train_token_accuracy", NAN);
  s.validation_loss = j.value("validation_loss", NAN);
  s.validation_token_accuracy = j.value("validation_token_accuracy", NAN);
  s.validation_bleu = j.value("validation_bleu", NAN);
  s.seconds = j.value("seconds", NAN);
  s.sentences_per_second = j.value("sentences_per_second", NAN);
  s.improved = j.value("improved", false);
  return s;
}

TranslatorTrainer::TranslatorTrainer(Translator& model, const TrainOptions& options)
    : model_(model), options_(options), optimizer_(Adam::Options{options.learning_rate}) {
  check(options.epochs >= 1, "epochs must be at least 1");
  check(options.batch_size >= 1, "batch size must be at least 1");
  check(options.threads >= 1 && options.threads <= 64, "threads must be between 1 and 64");
  check(options.learning_rate > 0 && std::isfinite(options.learning_rate), "learning rate must be positive");
  for (int i = 1; i < options.threads; ++i) replicas_.push_back(model_);
}

Translator::Stats TranslatorTrainer::run_batch(const TranslationCorpus& corpus, const std::vector<size_t>& batch,
                                                bool training, uint64_t dropout_seed) {
  const size_t shards = std::min(batch.size(), replicas_.size() + 1);
  std::vector<Translator::Stats> results(shards);
  int64_t batch_tokens = 0;
  for (size_t i : batch) batch_tokens += static_cast<int64_t>(corpus.target[i].size()) + 1;
  parallel_ranges(batch.size(), static_cast<int>(shards), [&](size_t shard, size_t begin, size_t end) {
    Translator& model = shard == 0 ? model_ : replicas_[shard - 1];
    const std::vector<size_t> indices(batch.begin() + static_cast<std::ptrdiff_t>(begin),
                                      batch.begin() + static_cast<std::ptrdiff_t>(end));
    Rng dropout_rng(dropout_seed * 1000003ull + shard);
    results[shard] = model.forward(make_translation_batch(corpus, indices), training ? &dropout_rng : nullptr);
    if (training) {
      for (Parameter* p : model.parameters()) p->zero_grad();
      model.backward(1.0 / static_cast<double>(batch_tokens));  // the batch's mean loss per target token
    }
  });
  Translator::Stats total;
  for (const auto& r : results) {
    total.loss_sum += r.loss_sum;
    total.tokens += r.tokens;
    total.correct += r.correct;
  }
  if (training) apply_gradients(model_, replicas_, shards, optimizer_, options_.clip_norm);
  return total;
}

namespace {

std::vector<Example> length_keys(const TranslationCorpus& corpus) {
  std::vector<Example> examples(corpus.source.size());
  for (size_t i = 0; i < examples.size(); ++i) examples[i].ids = corpus.source[i];
  return examples;
}

}  // namespace

Translator::Stats TranslatorTrainer::evaluate_loss(const TranslationCorpus& corpus, const std::vector<size_t>& indices) {
  sync_replicas(model_, replicas_);
  Translator::Stats total;
  for (const auto& batch : length_bucketed_batches(length_keys(corpus), indices, options_.batch_size, nullptr)) {
    const auto r = run_batch(corpus, batch, false, 0);
    total.loss_sum += r.loss_sum;
    total.tokens += r.tokens;
    total.correct += r.correct;
  }
  return total;
}

std::vector<TranslationEpochStats> TranslatorTrainer::fit(const TranslationCorpus& corpus, const std::vector<size_t>& train,
                                                           const std::vector<size_t>& validation,
                                                           const Vocabulary& target_vocabulary,
                                                           const std::function<void(const TranslationEpochStats&)>& on_epoch,
                                                           const std::function<void(const Progress&)>& on_progress,
                                                           const Checkpointing& checkpointing) {
  const std::vector<Example> keys = length_keys(corpus);
  const auto per_token = [](double value, int64_t tokens) { return value / static_cast<double>(std::max<int64_t>(1, tokens)); };
  return run_epochs<Translator, TranslationEpochStats>(
      model_, replicas_, optimizer_, options_, train.size(),
      [&](Rng& order) { return length_bucketed_batches(keys, train, options_.batch_size, &order); },
      [&](const std::vector<size_t>& batch, uint64_t number) {
        const auto r = run_batch(corpus, batch, true, options_.seed * 7919ull + number);
        check(std::isfinite(r.loss_sum),
              "training diverged: the loss became " + std::to_string(r.loss_sum) + " (try a lower learning rate)");
        return BatchTotals{r.loss_sum, r.correct, r.tokens};
      },
      [&](TranslationEpochStats& stats, const BatchTotals& sum, double train_seconds) {
        stats.train_loss = per_token(sum.loss_sum, sum.count);
        stats.train_token_accuracy = per_token(static_cast<double>(sum.correct), sum.count);
        stats.sentences_per_second = static_cast<double>(train.size()) / train_seconds;
        const std::vector<size_t>& held_out = validation.empty() ? train : validation;
        const auto v = evaluate_loss(corpus, held_out);
        stats.validation_loss = per_token(v.loss_sum, v.tokens);
        stats.validation_token_accuracy = per_token(static_cast<double>(v.correct), v.tokens);
        stats.validation_bleu =
            evaluate_bleu(model_, corpus, held_out, target_vocabulary, DecodeOptions{}, options_.threads).overall.score();
        return EpochScore{stats.validation_bleu, stats.validation_loss};
      },
      on_epoch, on_progress, checkpointing);
}

}  // namespace attnlens
