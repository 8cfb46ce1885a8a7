// Training a classifier on labelled texts, from a config or from a trained model
// (fine-tuning), one batch at a time. The CLI's `train` and the page's trainer (wasm) both
// start from prepare_training(), so a seed gives the same vocabulary, split, initial
// weights and batch order in both; TrainingSession is what the page steps through.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/labelled.hpp"
#include "io/model_file.hpp"
#include "train/checkpoint.hpp"
#include "train/dataset.hpp"
#include "train/trainer.hpp"

namespace attnlens {

struct DatasetOptions {
  int vocab_size = 20000;  // including <pad> and <unk>; new models only
  int min_count = 1;
  double validation_fraction = 0.2;  // stratified by label; 0: no validation part
  uint64_t seed = 1;                 // the split and the initial weights
  // A model with an n-gram path (ClassifierConfig::ngram_path): vocab_size and min_count choose the
  // network's words; these the path's features (words and n-grams, ranked as an n-gram model's),
  // which the vocabulary adds after them.
  int ngram_features = 200000;
  int ngram_min_count = 2;
};

struct PreparedTraining {
  ClassifierBundle bundle;  // the model to train (initialised or loaded), its vocabulary and tokenizer
  std::vector<Example> examples;
  Split split;
};

// A new model: the vocabulary comes from the training part only, the weights from the seed.
PreparedTraining prepare_training(ClassifierConfig config, const std::vector<LabelledText>& data,
                                  const DatasetOptions& options, const TokenizerOptions& tokenizer = {});
// An n-gram model's weights from naive Bayes (Wang & Manning 2012): each feature's log-count
// ratio r = log(p / |p|1) − log(q / |q|1), where p and q count the training texts of each class
// containing it (plus one), the output weight 0.1 (the NB logit shrunk) and the bias
// log((positives + 1) / (negatives + 1)), over whole texts. prepare_training calls it for
// n-gram models; training then fits the weights as a logistic regression started there. With an
// n-gram path it sets the path's table and gain the same way and leaves the network as it is.
void naive_bayes_init(Classifier& model, const std::vector<Example>& examples, const std::vector<size_t>& train);
// Fine-tuning: keeps the bundle's vocabulary (new words are <unk>), tokenizer and weights.
PreparedTraining prepare_fine_tuning(ClassifierBundle bundle, const std::vector<LabelledText>& data,
                                     const DatasetOptions& options);

// What every trained classifier file records of its training (provenance): its data, the
// split's sizes, the seed and the training options. The CLI and the page's trainer add what
// each knows besides (command line, machine, date, results).
nlohmann::json training_provenance(const std::string& data, const Split& split, const TrainOptions& training);

// What a checkpoint of training `prepared` with `options` must match: kind "classifier", the
// model's config, the arithmetic's options and a fingerprint of vocabulary, tokenizer, examples and
// split. The CLI's `train` and the page's sessions share it, so either can resume the other's.
CheckpointIdentity classifier_checkpoint_identity(const PreparedTraining& prepared, const TrainOptions& options);

class TrainingSession {
 public:
  TrainingSession(PreparedTraining prepared, const TrainOptions& options);

  struct Step {
    int epoch = 0;               // 1-based: the epoch this batch belongs to
    size_t batch = 0, batches = 0;
    size_t done = 0, total = 0;  // training examples seen this epoch / in an epoch
    double loss = 0, accuracy = 0, examples_per_second = 0;  // over the epoch so far
    bool epoch_done = false;
    std::optional<EvalResult> validation;  // at the end of an epoch, when there is a validation part
  };
  // Trains on the next batch (starting a new epoch when the last one is done).
  Step step();
  int completed_epochs() const { return completed_epochs_; }

  // Whole texts, no cut (labels as given).
  EvalResult evaluate(const std::vector<LabelledText>& data);
  ClassifierBundle& bundle() { return prepared_.bundle; }
  // A checkpoint of the session as it stands (train/checkpoint.hpp), and taking one back: the
  // steps after resume() are exactly those the checkpointed session would have taken. `history`
  // is the caller's record of finished epochs, kept in the checkpoint and given back by resume().
  std::vector<uint8_t> checkpoint(const nlohmann::json& history = nlohmann::json::array());
  nlohmann::json resume(const uint8_t* bytes, size_t size, const std::string& source);
  const Split& split() const { return prepared_.split; }
  Trainer& trainer() { return trainer_; }

 private:
  PreparedTraining prepared_;
  Trainer trainer_;
  std::vector<std::vector<size_t>> batches_;
  Rng epoch_start_order_;  // the order generator as the epoch in progress began
  size_t next_batch_ = 0, done_ = 0;
  int completed_epochs_ = 0;
  double loss_sum_ = 0, seconds_ = 0;
  int64_t correct_ = 0;
};

}  // namespace attnlens
