// The epoch loop both trainers share (train/trainer.hpp for classifiers, train/translator_trainer.hpp
// for translators): each epoch trains on its batches with progress reports, then the trainer
// scores it on held-out data; the loop keeps the best weights (higher score, ties to the lower
// loss), stops early after `patience` epochs without improvement, decays the learning rate,
// and leaves the model (and its replicas) holding the best epoch's weights.
#pragma once
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "train/adam.hpp"
#include "train/data_parallel.hpp"
#include "train/trainer.hpp"  // TrainOptions

namespace attnlens {

// What a training batch (or an epoch of them) adds up to; `count` is what loss and accuracy
// are averaged over: examples for a classifier, target tokens for a translator.
struct BatchTotals {
  double loss_sum = 0;
  int64_t correct = 0;
  int64_t count = 0;
  BatchTotals& operator+=(const BatchTotals& other) {
    loss_sum += other.loss_sum;
    correct += other.correct;
    count += other.count;
    return *this;
  }
};

// An epoch's score on held-out data: higher is better; the loss breaks ties.
struct EpochScore {
  double score = 0, loss = 0;
};

// Stats is the trainer's per-epoch record, with at least epoch, learning_rate, seconds and
// improved. `evaluate` fills the rest from the epoch's training totals and time, and scores it.
template <class Model, class Stats>
std::vector<Stats> run_epochs(Model& model, std::vector<Model>& replicas, Adam& optimizer, const TrainOptions& options,
                              size_t train_size, const std::function<std::vector<std::vector<size_t>>()>& epoch_batches,
                              const std::function<BatchTotals(const std::vector<size_t>&)>& train_batch,
                              const std::function<EpochScore(Stats&, const BatchTotals&, double)>& evaluate,
                              const std::function<void(const Stats&)>& on_epoch,
                              const std::function<void(const Progress&)>& on_progress) {
  check(train_size > 0, "training set is empty");
  using clock = std::chrono::steady_clock;
  std::vector<Stats> history;
  BestWeights best;
  EpochScore best_score{-1, INFINITY};
  sync_replicas(model, replicas);
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto started = clock::now();
    Stats stats;
    stats.epoch = epoch;
    stats.learning_rate = optimizer.learning_rate();
    BatchTotals sum;
    size_t done = 0;
    ProgressReporter progress(on_progress, epoch, options.epochs, train_size);
    for (const auto& batch : epoch_batches()) {
      BatchTotals r;
      try {
        r = train_batch(batch);
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + " in epoch " + std::to_string(epoch));
      }
      sum += r;
      done += batch.size();
      const double count = static_cast<double>(std::max<int64_t>(1, sum.count));
      progress.update(done, sum.loss_sum / count, static_cast<double>(sum.correct) / count);
    }
    const EpochScore score = evaluate(stats, sum, std::chrono::duration<double>(clock::now() - started).count());
    stats.seconds = std::chrono::duration<double>(clock::now() - started).count();
    stats.improved = score.score > best_score.score || (score.score == best_score.score && score.loss < best_score.loss);
    if (stats.improved) best_score = score;
    best.record(stats.improved, model);
    history.push_back(stats);
    if (on_epoch) on_epoch(stats);
    if (options.patience > 0 && best.epochs_without_improvement() >= options.patience) break;
    optimizer.set_learning_rate(optimizer.learning_rate() * options.learning_rate_decay);
  }
  best.restore(model);
  sync_replicas(model, replicas);
  return history;
}

}  // namespace attnlens
