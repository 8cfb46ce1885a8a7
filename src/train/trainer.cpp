#include "train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "core/loss.hpp"
#include "train/epochs.hpp"

namespace attnlens {

using nlohmann::json;

json TrainOptions::to_json() const {
  json j = {{"epochs", epochs},       {"batch_size", batch_size}, {"learning_rate", learning_rate},
          {"learning_rate_decay", learning_rate_decay},         {"clip_norm", clip_norm},
          {"max_length", max_length}, {"seed", seed},           {"patience", patience},
          {"threads", threads}};
  if (adversarial_epsilon > 0) j["adversarial_epsilon"] = adversarial_epsilon;  // absent when off: older files' records stay as they were
  if (adversarial_warmup > 0) j["adversarial_warmup"] = adversarial_warmup;     // the same
  if (weight_decay > 0) j["weight_decay"] = weight_decay;                         // the same
  if (ngram_weight_decay >= 0) j["ngram_weight_decay"] = ngram_weight_decay;       // the same
  return j;
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

EpochStats EpochStats::from_json(const json& j) {  // what a checkpoint lacks is NaN
  EpochStats s;
  s.epoch = j.at("epoch").get<int>();
  s.learning_rate = j.value("learning_rate", NAN);
  s.train_loss = j.value("train_loss", NAN);
  s.train_accuracy = j.value("train_accuracy", NAN);
  s.validation_loss = j.value("validation_loss", NAN);
  s.validation_accuracy = j.value("validation_accuracy", NAN);
  s.seconds = j.value("seconds", NAN);
  s.examples_per_second = j.value("examples_per_second", NAN);
  s.improved = j.value("improved", false);
  return s;
}

Trainer::Trainer(Classifier& model, const TrainOptions& options)
    : model_(model),
      options_(options),
      optimizer_(Adam::Options{options.learning_rate, 0.9, 0.999, 1e-8, options.weight_decay}),
      order_rng_(options.seed ^ 0x5eed0fba7c4e5ull) {
  check(options.epochs >= 1, "epochs must be at least 1");
  check(options.batch_size >= 1, "batch size must be at least 1");
  check(options.threads >= 1 && options.threads <= 64, "threads must be between 1 and 64");
  check(options.learning_rate > 0 && std::isfinite(options.learning_rate), "learning rate must be positive");
  check(options.adversarial_warmup >= 0 && std::isfinite(options.adversarial_warmup),
        "the adversarial warm-up must be zero (off) or a positive number of epochs");
  check(options.adversarial_warmup == 0 || options.adversarial_epsilon > 0,
        "an adversarial warm-up needs adversarial training (--adversarial ε) to ramp up");
  check(options.adversarial_epsilon >= 0 && std::isfinite(options.adversarial_epsilon),
        "the adversarial perturbation's size must be zero (off) or positive");
  check(options.weight_decay >= 0 && std::isfinite(options.weight_decay) && options.weight_decay * options.learning_rate < 1,
        "the weight decay must be zero (off) or positive, and below 1 / the learning rate");
  if (options.ngram_weight_decay >= 0) {
    check(std::isfinite(options.ngram_weight_decay) && options.ngram_weight_decay * options.learning_rate < 1,
          "the n-gram path's weight decay must be below 1 / the learning rate");
    check(model.config().ngram_path > 0, "an n-gram weight decay needs a model with an n-gram path (ngram_path)");
    std::vector<double> decays;
    for (const Parameter* p : model_.parameters())
      decays.push_back(p->name.rfind("ngrams.", 0) == 0 ? options.ngram_weight_decay : options.weight_decay);
    optimizer_.set_weight_decays(std::move(decays));
  }
  for (int i = 1; i < options.threads; ++i) replicas_.push_back(model_);
}

double adversarial_epsilon_at(const TrainOptions& options, uint64_t batch_number, size_t train_size) {
  if (options.adversarial_warmup <= 0 || train_size == 0) return options.adversarial_epsilon;
  const double seen = static_cast<double>(batch_number) * options.batch_size;
  return options.adversarial_epsilon * std::min(1.0, seen / (options.adversarial_warmup * static_cast<double>(train_size)));
}

Matrix adversarial_perturbation(const SequenceBatch& gradient, double epsilon) {
  const Eigen::Index batch = gradient.batch;
  std::vector<double> norms(static_cast<size_t>(batch), 0.0);
  for (int t = 0; t < gradient.steps; ++t)
    for (Eigen::Index b = 0; b < batch; ++b)
      norms[static_cast<size_t>(b)] += gradient.step(t).col(b).cast<double>().squaredNorm();
  Matrix r = gradient.values;
  for (int t = 0; t < gradient.steps; ++t)
    for (Eigen::Index b = 0; b < batch; ++b) {
      const double norm = std::sqrt(norms[static_cast<size_t>(b)]);
      // A review whose loss does not move with its embeddings (or underflows) is left as it is.
      r.col(static_cast<Eigen::Index>(t) * batch + b) *= static_cast<Scalar>(norm > 1e-30 ? epsilon / norm : 0.0);
    }
  return r;
}

double adversarial_pass(Classifier& model, const TokenBatch& tokens, const std::vector<float>& targets, Rng masks,
                        double epsilon, Scalar share) {
  const Matrix perturbation = adversarial_perturbation(model.grad_embedded(), epsilon);
  Matrix grad;
  const double loss = bce_with_logits(model.forward(tokens, &masks, &perturbation), targets, &grad);
  grad *= share;
  model.backward(grad);  // adds to the clean pass's gradients (the perturbation is a constant)
  return loss;
}

Trainer::ShardResult Trainer::run_batch(const std::vector<Example>& examples, const std::vector<size_t>& batch,
                                        bool training, uint64_t dropout_seed, size_t max_length, EvalResult* confusion,
                                        double epsilon) {
  const size_t shards = std::min(batch.size(), replicas_.size() + 1);
  std::vector<ShardResult> results(shards);
  std::vector<EvalResult> confusions(shards);
  parallel_ranges(batch.size(), static_cast<int>(shards), [&](size_t shard, size_t begin, size_t end) {
    Classifier& model = shard == 0 ? model_ : replicas_[shard - 1];
    const std::vector<size_t> indices(batch.begin() + static_cast<std::ptrdiff_t>(begin),
                                      batch.begin() + static_cast<std::ptrdiff_t>(end));
    const TokenBatch tokens = make_batch(examples, indices, max_length);
    Rng dropout_rng(dropout_seed * 1000003ull + shard);
    const Rng masks = dropout_rng;  // the adversarial pass draws the same dropout masks again
    std::optional<ForwardOnly> forward_only;  // evaluation: nothing goes backward (a thread's own guard)
    if (!training) forward_only.emplace();
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
      const Scalar share = static_cast<Scalar>(static_cast<double>(indices.size()) / static_cast<double>(batch.size()));
      grad *= share;
      model.backward(grad);
      if (epsilon > 0) adversarial_pass(model, tokens, targets, masks, epsilon, share);
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
  train_size_ = train.size();
  return length_bucketed_batches(examples, train, options_.batch_size, &order_rng_);
}

Trainer::BatchResult Trainer::train_batch(const std::vector<Example>& examples, const std::vector<size_t>& batch) {
  return train_batch(examples, batch, ++batch_counter_);
}

Trainer::BatchResult Trainer::train_batch(const std::vector<Example>& examples, const std::vector<size_t>& batch,
                                          uint64_t number) {
  const BatchResult r = run_batch(examples, batch, true, options_.seed * 7919ull + number,
                                  static_cast<size_t>(options_.max_length), nullptr,
                                  adversarial_epsilon_at(options_, number, train_size_ ? train_size_ : examples.size()));
  check(std::isfinite(r.loss_sum), "training diverged: the loss became " + std::to_string(r.loss_sum) +
                                       " (try a lower learning rate)");
  return r;
}

std::vector<EpochStats> Trainer::fit(const std::vector<Example>& examples, const std::vector<size_t>& train,
                                     const std::vector<size_t>& validation,
                                     const std::function<void(const EpochStats&)>& on_epoch,
                                     const std::function<void(const Progress&)>& on_progress,
                                     const Checkpointing& checkpointing) {
  check(!train.empty(), "training set is empty");
  train_size_ = train.size();
  return run_epochs<Classifier, EpochStats>(
      model_, replicas_, optimizer_, options_, train.size(),
      [&](Rng& order) { return length_bucketed_batches(examples, train, options_.batch_size, &order); },
      [&](const std::vector<size_t>& batch, uint64_t number) {
        const BatchResult r = train_batch(examples, batch, number);
        return BatchTotals{r.loss_sum, r.correct, static_cast<int64_t>(batch.size())};
      },
      [&](EpochStats& stats, const BatchTotals& sum, double train_seconds) {
        stats.train_loss = sum.loss_sum / static_cast<double>(train.size());
        stats.train_accuracy = static_cast<double>(sum.correct) / static_cast<double>(train.size());
        stats.examples_per_second = static_cast<double>(train.size()) / train_seconds;
        if (!validation.empty()) {
          const EvalResult v = evaluate(examples, validation, static_cast<size_t>(options_.max_length));
          stats.validation_loss = v.loss;
          stats.validation_accuracy = v.accuracy;
        } else {
          stats.validation_loss = stats.train_loss;
          stats.validation_accuracy = stats.train_accuracy;
        }
        return EpochScore{stats.validation_accuracy, stats.validation_loss};
      },
      on_epoch, on_progress, checkpointing);
}

}  // namespace attnlens
