// What the shared epoch loop (train/epochs.hpp) adds up and where it stands: a batch's totals, an
// epoch's score, and the loop's whole state between two batches, which a checkpoint keeps
// (train/checkpoint.hpp). Apart from epochs.hpp so the trainers' headers can name it.
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/rng.hpp"
#include "train/data_parallel.hpp"

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

// Where the epoch loop stands between two batches. With the model's weights and the optimiser's
// state it is all a run needs to go on exactly as if it had not stopped (train/checkpoint.hpp
// writes it to a file and reads it back).
struct EpochLoopState {
  explicit EpochLoopState(uint64_t seed = 1) : order_rng(seed ^ 0x5eed0fba7c4e5ull) {}
  int epoch = 1;                 // the epoch in progress (1-based); epochs + 1 when all are done
  size_t next_batch = 0;         // its batches trained so far
  BatchTotals sum;               // their totals
  size_t done = 0;               // the examples they held
  double seconds = 0;            // the time they took (reported only; no number depends on it)
  uint64_t batches_trained = 0;  // in the whole run: seeds each batch's dropout masks
  Rng order_rng;                 // the batch order's generator as the epoch in progress began
  nlohmann::json history = nlohmann::json::array();  // the finished epochs' Stats::to_json()
  EpochScore best_score{-1, INFINITY};
  BestWeights best;
};

// Checkpointing an epoch loop: `state` (when set) is where it starts and what it keeps up to date;
// save(state) is called after every epoch and, with every > 0, after every `every` batches.
struct Checkpointing {
  EpochLoopState* state = nullptr;
  std::function<void(const EpochLoopState&)> save;
  size_t every = 0;
};

}  // namespace attnlens
