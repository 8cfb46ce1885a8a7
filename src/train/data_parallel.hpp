// The pieces every trainer shares: data-parallel shards over threads, replica weights,
// the gradient step, the best epoch's weights and throttled progress reports. (Used by
// the classifier's Trainer and the TranslatorTrainer.)
#pragma once
#include <chrono>
#include <functional>
#include <vector>

#include "layers/module.hpp"
#include "train/adam.hpp"

namespace attnlens {

struct Progress {
  int epoch = 0, epochs = 0;
  size_t done = 0, total = 0;  // examples
  double loss = 0, accuracy = 0, examples_per_second = 0, eta_seconds = 0;
};

// Runs work(part, begin, end) over [0, n) split into min(n, threads) contiguous parts, part 0
// on the calling thread; once all have finished, rethrows the first error as an Error.
void parallel_ranges(size_t n, int threads, const std::function<void(size_t part, size_t begin, size_t end)>& work);

// Copies the main model's weights into every replica.
template <class Model>
void sync_replicas(Model& main, std::vector<Model>& replicas) {
  auto source = main.parameters();
  for (auto& replica : replicas) {
    auto target = replica.parameters();
    for (size_t k = 0; k < source.size(); ++k) target[k]->value = source[k]->value;
  }
}

// Adds the gradients of the replicas that ran a shard (the first shards − 1) to the main
// model's, clips the global norm, takes an Adam step and hands the new weights to the replicas.
template <class Model>
void apply_gradients(Model& main, std::vector<Model>& replicas, size_t shards, Adam& optimizer, double clip_norm) {
  auto params = main.parameters();
  for (size_t shard = 1; shard < shards; ++shard) {
    auto replica_params = replicas[shard - 1].parameters();
    for (size_t k = 0; k < params.size(); ++k) params[k]->grad += replica_params[k]->grad;
  }
  clip_gradient_norm(params, clip_norm);
  optimizer.step(params);
  sync_replicas(main, replicas);
}

// The weights of the best epoch so far, and how many epochs have passed without a better one.
class BestWeights {
 public:
  // Call once per epoch; keeps a copy of the weights when `improved`.
  void record(bool improved, Module& model);
  int epochs_without_improvement() const { return stale_epochs_; }
  // Puts the best weights back (no-op before the first improvement).
  void restore(Module& model) const;
  // For checkpoints: the kept weights (empty before the first improvement), and setting both back.
  const std::vector<ParamMatrix>& weights() const { return weights_; }
  void set(std::vector<ParamMatrix> weights, int epochs_without_improvement) {
    weights_ = std::move(weights);
    stale_epochs_ = epochs_without_improvement;
  }

 private:
  std::vector<ParamMatrix> weights_;
  int stale_epochs_ = 0;
};

// Calls the progress callback at most every 250 ms, and always when the epoch is done.
class ProgressReporter {
 public:
  ProgressReporter(const std::function<void(const Progress&)>& callback, int epoch, int epochs, size_t total)
      : callback_(callback), epoch_(epoch), epochs_(epochs), total_(total) {}
  void update(size_t done, double mean_loss, double accuracy);

 private:
  using Clock = std::chrono::steady_clock;
  const std::function<void(const Progress&)>& callback_;
  int epoch_, epochs_;
  size_t total_;
  Clock::time_point started_ = Clock::now(), last_ = Clock::now();
};

}  // namespace attnlens
