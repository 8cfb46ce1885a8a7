#include "train/trainer.hpp"

#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "core/loss.hpp"

namespace attnlens {

using nlohmann::json;

json TrainOptions::to_json() const {
  return {{"epochs", epochs},       {"batch_size", batch_size}, {"learning_rate", learning_rate},
          {"learning_rate_decay", learning_rate_decay},         {"clip_norm", clip_norm},
          {"max_length", max_length}, {"seed", seed},           {"patience", patience},
          {"threads", threads}};
}

json EvalResult::to_json() const {
  return {{"loss", loss},
          {"accuracy", accuracy},
          {"count", count},
          {"confusion_matrix",
           {{"true_positive", true_positive}, {"false_negative", false_negative},
            {"false_positive", false_positive}, {"true_negative", true_negative}}}};
}

json EpochStats::to_json() const {
  return {{"epoch", epoch},
          {"learning_rate", learning_rate},
          {"train_loss", train_loss},
          {"train_accuracy", train_accuracy},
          {"validation_loss", validation_loss},
          {"validation_accuracy", validation_accuracy},
          {"seconds", seconds},
          {"examples_per_second", examples_per_second},
          {"improved", improved}};
}

Trainer::Trainer(Classifier& model, const TrainOptions& options)
    : model_(model),
      options_(options),
      optimizer_(Adam::Options{options.learning_rate}),
      order_rng_(options.seed ^ 0x5eed0fba7c4e5ull) {
  check(options.epochs >= 1, "epochs must be at least 1");
  check(options.batch_size >= 1, "batch size must be at least 1");
  check(options.threads >= 1 && options.threads <= 64, "threads must be between 1 and 64");
  check(options.learning_rate > 0 && std::isfinite(options.learning_rate), "learning rate must be positive");
  for (int i = 1; i < options.threads; ++i) replicas_.push_back(model_);
}

Trainer::ShardResult Trainer::run_batch(const std::vector<Example>& examples, const std::vector<size_t>& batch,
                                        bool training, uint64_t dropout_seed, size_t max_length, EvalResult* confusion) {
  const size_t shards = std::min(batch.size(), replicas_.size() + 1);
  std::vector<ShardResult> results(shards);
  std::vector<EvalResult> confusions(shards);
  parallel_ranges(batch.size(), static_cast<int>(shards), [&](size_t shard, size_t begin, size_t end) {
    Classifier& model = shard == 0 ? model_ : replicas_[shard - 1];
    const std::vector<size_t> indices(batch.begin() + static_cast<std::ptrdiff_t>(begin),
                                      batch.begin() + static_cast<std::ptrdiff_t>(end));
    const TokenBatch tokens = make_batch(examples, indices, max_length);
    Rng dropout_rng(dropout_seed * 1000003ull + shard);
    const Matrix& logits = model.forward(tokens, training ? &dropout_rng : nullptr);
    std::vector<float> targets;
    for (size_t i : indices) targets.push_back(examples[i].label);
    Matrix grad;
    const double loss = bce_with_logits(logits, targets, training ? &grad : nullptr);
    results[shard].loss_sum = loss * static_cast<double>(indices.size());
    for (size_t b = 0; b < indices.size(); ++b) {
      const bool predicted = logits(0, static_cast<Eigen::Index>(b)) > 0, actual = targets[b] > 0.5f;
      results[shard].correct += predicted == actual;
      EvalResult& c = confusions[shard];
      (predicted ? (actual ? c.true_positive : c.false_positive) : (actual ? c.false_negative : c.true_negative))++;
    }
    if (training) {
      for (Parameter* p : model.parameters()) p->zero_grad();
      // The shard's loss is a mean over its examples; rescale so the sum over shards is the batch mean.
      grad *= static_cast<Scalar>(static_cast<double>(indices.size()) / static_cast<double>(batch.size()));
      model.backward(grad);
    }
  });

  ShardResult total;
  for (size_t shard = 0; shard < shards; ++shard) {
    total.loss_sum += results[shard].loss_sum;
    total.correct += results[shard].correct;
    if (confusion) {
      confusion->true_positive += confusions[shard].true_positive;
      confusion->true_negative += confusions[shard].true_negative;
      confusion->false_positive += confusions[shard].false_positive;
      confusion->false_negative += confusions[shard].false_negative;
    }
  }
  if (training) apply_gradients(model_, replicas_, shards, optimizer_, options_.clip_norm);
  return total;
}

EvalResult Trainer::evaluate(const std::vector<Example>& examples, const std::vector<size_t>& indices, size_t max_length) {
  sync_replicas(model_, replicas_);
  EvalResult result;
  double loss_sum = 0;
  // At most 16,384 tokens a batch (e.g. 6 reviews of 2,500 tokens): bounded memory for any architecture.
  for (const auto& batch : length_bucketed_batches(examples, indices, options_.batch_size, nullptr, 16384)) {
    const ShardResult r = run_batch(examples, batch, false, 0, max_length, &result);
    loss_sum += r.loss_sum;
  }
  result.count = static_cast<int64_t>(indices.size());
  result.loss = result.count ? loss_sum / static_cast<double>(result.count) : 0;
  result.accuracy = result.count ? static_cast<double>(result.true_positive + result.true_negative) / result.count : 0;
  return result;
}

std::vector<std::vector<size_t>> Trainer::epoch_batches(const std::vector<Example>& examples,
                                                         const std::vector<size_t>& train) {
  check(!train.empty(), "training set is empty");
  return length_bucketed_batches(examples, train, options_.batch_size, &order_rng_);
}

Trainer::BatchResult Trainer::train_batch(const std::vector<Example>& examples, const std::vector<size_t>& batch) {
  const BatchResult r = run_batch(examples, batch, true, options_.seed * 7919ull + (++batch_counter_),
                                  static_cast<size_t>(options_.max_length), nullptr);
  check(std::isfinite(r.loss_sum), "training diverged: the loss became " + std::to_string(r.loss_sum) +
                                       " (try a lower learning rate)");
  return r;
}

std::vector<EpochStats> Trainer::fit(const std::vector<Example>& examples, const std::vector<size_t>& train,
                                     const std::vector<size_t>& validation,
                                     const std::function<void(const EpochStats&)>& on_epoch,
                                     const std::function<void(const Progress&)>& on_progress) {
  check(!train.empty(), "training set is empty");
  using clock = std::chrono::steady_clock;
  std::vector<EpochStats> history;
  BestWeights best;
  double best_accuracy = -1, best_loss = INFINITY;
  sync_replicas(model_, replicas_);
  for (int epoch = 1; epoch <= options_.epochs; ++epoch) {
    const auto started = clock::now();
    EpochStats stats;
    stats.epoch = epoch;
    stats.learning_rate = optimizer_.learning_rate();
    double loss_sum = 0;
    int64_t correct = 0;
    size_t done = 0;
    ProgressReporter progress(on_progress, epoch, options_.epochs, train.size());
    for (const auto& batch : epoch_batches(examples, train)) {
      BatchResult r;
      try {
        r = train_batch(examples, batch);
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + " in epoch " + std::to_string(epoch));
      }
      loss_sum += r.loss_sum;
      correct += r.correct;
      done += batch.size();
      progress.update(done, loss_sum / static_cast<double>(done), static_cast<double>(correct) / static_cast<double>(done));
    }
    const double train_seconds = std::chrono::duration<double>(clock::now() - started).count();
    stats.train_loss = loss_sum / static_cast<double>(train.size());
    stats.train_accuracy = static_cast<double>(correct) / static_cast<double>(train.size());
    stats.examples_per_second = static_cast<double>(train.size()) / train_seconds;
    if (!validation.empty()) {
      const EvalResult v = evaluate(examples, validation, static_cast<size_t>(options_.max_length));
      stats.validation_loss = v.loss;
      stats.validation_accuracy = v.accuracy;
    } else {
      stats.validation_loss = stats.train_loss;
      stats.validation_accuracy = stats.train_accuracy;
    }
    stats.seconds = std::chrono::duration<double>(clock::now() - started).count();
    stats.improved = stats.validation_accuracy > best_accuracy ||
                     (stats.validation_accuracy == best_accuracy && stats.validation_loss < best_loss);
    if (stats.improved) {
      best_accuracy = stats.validation_accuracy;
      best_loss = stats.validation_loss;
    }
    best.record(stats.improved, model_);
    history.push_back(stats);
    if (on_epoch) on_epoch(stats);
    if (options_.patience > 0 && best.epochs_without_improvement() >= options_.patience) break;
    end_epoch();
  }
  best.restore(model_);
  sync_replicas(model_, replicas_);
  return history;
}

}  // namespace attnlens
