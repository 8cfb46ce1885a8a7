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
#include "train/epoch_state.hpp"
#include "train/trainer.hpp"  // TrainOptions

namespace attnlens {

// Stats is the trainer's per-epoch record, with at least epoch, learning_rate, seconds, improved,
// to_json() and from_json(). `epoch_batches` draws an epoch's batches from the order generator,
// `train_batch(batch, n)` trains the run's n-th batch, `evaluate` fills the rest of the record
// from the epoch's training totals and time, and scores it.
template <class Model, class Stats>
std::vector<Stats> run_epochs(Model& model, std::vector<Model>& replicas, Adam& optimizer, const TrainOptions& options,
                              size_t train_size, const std::function<std::vector<std::vector<size_t>>(Rng&)>& epoch_batches,
                              const std::function<BatchTotals(const std::vector<size_t>&, uint64_t)>& train_batch,
                              const std::function<EpochScore(Stats&, const BatchTotals&, double)>& evaluate,
                              const std::function<void(const Stats&)>& on_epoch,
                              const std::function<void(const Progress&)>& on_progress, const Checkpointing& checkpointing = {}) {
  check(train_size > 0, "training set is empty");
  using clock = std::chrono::steady_clock;
  EpochLoopState fresh(options.seed);
  EpochLoopState& state = checkpointing.state ? *checkpointing.state : fresh;
  std::vector<Stats> history;
  for (const auto& stats : state.history) {
    try {
      history.push_back(Stats::from_json(stats));
    } catch (const std::exception& e) {
      throw Error(std::string("the checkpoint's history is damaged (") + e.what() + ")");
    }
  }
  sync_replicas(model, replicas);
  while (state.epoch <= options.epochs &&
         !(options.patience > 0 && state.best.epochs_without_improvement() >= options.patience)) {
    Rng order = state.order_rng;
    const std::vector<std::vector<size_t>> batches = epoch_batches(order);
    check(state.next_batch <= batches.size(), "the checkpoint's batch position is past its epoch's end");
    ProgressReporter progress(on_progress, state.epoch, options.epochs, train_size);
    for (size_t b = state.next_batch; b < batches.size(); ++b) {
      const auto started = clock::now();
      BatchTotals r;
      try {
        r = train_batch(batches[b], ++state.batches_trained);
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + " in epoch " + std::to_string(state.epoch));
      }
      state.sum += r;
      state.done += batches[b].size();
      state.next_batch = b + 1;
      state.seconds += std::chrono::duration<double>(clock::now() - started).count();
      const double count = static_cast<double>(std::max<int64_t>(1, state.sum.count));
      progress.update(state.done, state.sum.loss_sum / count, static_cast<double>(state.sum.correct) / count);
      if (checkpointing.save && checkpointing.every > 0 && state.next_batch % checkpointing.every == 0 &&
          state.next_batch < batches.size())
        checkpointing.save(state);
    }
    const auto evaluation_started = clock::now();
    Stats stats;
    stats.epoch = state.epoch;
    stats.learning_rate = optimizer.learning_rate();
    const EpochScore score = evaluate(stats, state.sum, state.seconds);
    stats.seconds = state.seconds + std::chrono::duration<double>(clock::now() - evaluation_started).count();
    stats.improved = score.score > state.best_score.score ||
                     (score.score == state.best_score.score && score.loss < state.best_score.loss);
    if (stats.improved) state.best_score = score;
    state.best.record(stats.improved, model);
    history.push_back(stats);
    state.history.push_back(stats.to_json());
    if (on_epoch) on_epoch(stats);
    optimizer.set_learning_rate(optimizer.learning_rate() * options.learning_rate_decay);
    // The next epoch, not yet begun.
    ++state.epoch;
    state.next_batch = state.done = 0;
    state.sum = {};
    state.seconds = 0;
    state.order_rng = order;
    if (checkpointing.save) checkpointing.save(state);
  }
  state.best.restore(model);
  sync_replicas(model, replicas);
  return history;
}

}  // namespace attnlens
