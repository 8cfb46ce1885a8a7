// Mini-batch training and evaluation of a Classifier, data-parallel over threads:
// each thread runs a replica of the model on its share of the batch, the gradients are
// summed into the main model, clipped, and applied by Adam; the replicas then take the
// new weights. Dropout masks are drawn from per-(epoch, batch, shard) seeds, so a run is
// reproducible for a given seed and thread count.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "models/classifier.hpp"
#include "train/adam.hpp"
#include "train/data_parallel.hpp"
#include "train/dataset.hpp"
#include "train/epoch_state.hpp"

namespace attnlens {

struct TrainOptions {
  int epochs = 5;
  int batch_size = 64;
  double learning_rate = 1e-3;
  double learning_rate_decay = 1.0;  // multiplied into the learning rate after each epoch
  double clip_norm = 5.0;            // ≤ 0: no clipping
  int max_length = 400;              // training reviews are cut to this many tokens (0: none)
  uint64_t seed = 1;
  int patience = 0;                  // early stopping after this many epochs without improvement (0: off)
  int threads = 2;
  // Adversarial training on the embeddings (Miyato et al. 2017, issue 18's third way): each batch
  // also learns from its reviews with every embedded token moved by r = ε·g/‖g‖, g being the
  // gradient of the clean loss by the review's embedded tokens (‖·‖ over the whole review), the
  // direction that raises the loss fastest. 0: off. Costs a second forward and backward pass.
  double adversarial_epsilon = 0.0;
  // ε ramps up linearly from 0 over this many epochs' worth of examples (0: full ε from the first
  // batch). A model that cannot yet classify can escape the adversary by outputting a constant
  // (no gradient by its input, nor any to leave it): it learns first, then defends.
  double adversarial_warmup = 0.0;
  // Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): each step first shrinks every
  // weight by the factor 1 − learning rate · λ. 0: off.
  double weight_decay = 0.0;
  // With an n-gram path (ClassifierConfig::ngram_path): the decay of its table and gain instead,
  // so the sparse linear part can be held back as an n-gram model is while the network is not.
  // Negative: weight_decay.
  double ngram_weight_decay = -1.0;

  nlohmann::json to_json() const;
};

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  int64_t count = 0;
  int64_t true_positive = 0, true_negative = 0, false_positive = 0, false_negative = 0;
  nlohmann::json to_json() const;
};

struct EpochStats {
  int epoch = 0;
  double learning_rate = 0;
  double train_loss = 0, train_accuracy = 0;
  double validation_loss = 0, validation_accuracy = 0;
  double seconds = 0, examples_per_second = 0;
  bool improved = false;
  nlohmann::json to_json() const;
  static EpochStats from_json(const nlohmann::json& j);
};

// Miyato et al.'s adversarial perturbation of embedded tokens [E, steps*batch]: each review's
// gradient scaled to L2 norm ε over all its tokens (zero where the gradient is).
Matrix adversarial_perturbation(const SequenceBatch& gradient, double epsilon);

// The perturbation's size for the run's `batch_number`-th batch (1-based) of a training part of
// `train_size` reviews: ε · min(1, batch_number · batch_size / (adversarial_warmup · train_size)),
// ε itself without a warm-up.
double adversarial_epsilon_at(const TrainOptions& options, uint64_t batch_number, size_t train_size);

// The adversarial half of a training step, after the clean pass's backward on `tokens`: the same
// tokens through `model` again, with the dropout masks `masks` draws (a copy of the generator as
// the clean pass began, so the same masks) and each embedded token moved by
// adversarial_perturbation(model.grad_embedded(), ε), before the embedding dropout (whose 1/(1−p)
// scales it on the tokens kept). That loss's gradients, times `share`, add to the parameters'.
// Returns the perturbed loss.
double adversarial_pass(Classifier& model, const TokenBatch& tokens, const std::vector<float>& targets, Rng masks,
                        double epsilon, Scalar share);

class Trainer {
 public:
  Trainer(Classifier& model, const TrainOptions& options);

  // Runs the epochs; after each one calls on_epoch (e.g. to save the best model and the
  // history). At the end the model holds the best weights by validation accuracy.
  std::vector<EpochStats> fit(const std::vector<Example>& examples, const std::vector<size_t>& train,
                              const std::vector<size_t>& validation,
                              const std::function<void(const EpochStats&)>& on_epoch = {},
                              const std::function<void(const Progress&)>& on_progress = {},
                              const Checkpointing& checkpointing = {});

  // Loss, accuracy and confusion matrix; max_length 0 reads whole examples.
  EvalResult evaluate(const std::vector<Example>& examples, const std::vector<size_t>& indices, size_t max_length = 0);

  // What fit() is made of, for callers that train one batch at a time (the page's trainer):
  // one epoch's batches in training order, then one Adam step per batch. fit() with one
  // thread and the same calls give the same weights.
  struct BatchResult {
    double loss_sum = 0;  // summed over the batch's examples
    int64_t correct = 0;
  };
  std::vector<std::vector<size_t>> epoch_batches(const std::vector<Example>& examples, const std::vector<size_t>& train);
  BatchResult train_batch(const std::vector<Example>& examples, const std::vector<size_t>& batch);
  // Applies the learning-rate decay; call after each epoch.
  void end_epoch() { optimizer_.set_learning_rate(optimizer_.learning_rate() * options_.learning_rate_decay); }
  double learning_rate() const { return optimizer_.learning_rate(); }
  const TrainOptions& options() const { return options_; }
  Adam& optimizer() { return optimizer_; }
  // The batch order's generator and the count of batches train_batch() has trained (their dropout
  // seeds), which TrainingSession's checkpoints keep.
  Rng& order_rng() { return order_rng_; }
  uint64_t batches_trained() const { return batch_counter_; }
  void set_batches_trained(uint64_t count) { batch_counter_ = count; }

 private:
  using ShardResult = BatchResult;
  // The run's `number`-th batch (1-based; it seeds the batch's dropout masks).
  BatchResult train_batch(const std::vector<Example>& examples, const std::vector<size_t>& batch, uint64_t number);
  ShardResult run_batch(const std::vector<Example>& examples, const std::vector<size_t>& batch, bool training,
                        uint64_t dropout_seed, size_t max_length, EvalResult* confusion, double epsilon = 0);

  Classifier& model_;
  TrainOptions options_;
  Adam optimizer_;
  std::vector<Classifier> replicas_;  // threads − 1 copies
  Rng order_rng_;                     // the order of the training examples
  uint64_t batch_counter_ = 0;        // seeds each batch's dropout masks
  size_t train_size_ = 0;             // fit()'s or epoch_batches()'s training part (the adversarial warm-up's epoch)
};

}  // namespace attnlens
