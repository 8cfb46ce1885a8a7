#include "train/session.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.hpp"
#include "text/ngram_list.hpp"

namespace attnlens {

namespace {

std::vector<float> labels_of(const std::vector<LabelledText>& data) {
  std::vector<float> labels;
  labels.reserve(data.size());
  for (const auto& d : data) {
    check(d.label == 0.f || d.label == 1.f, "labels must be 0 or 1");
    labels.push_back(d.label);
  }
  return labels;
}

}  // namespace

void naive_bayes_init(Classifier& model, const std::vector<Example>& examples, const std::vector<size_t>& train) {
  const bool path = model.config().ngram_path > 0;
  check(model.config().ngram_order > 0 || path, "naive_bayes_init: neither an n-gram model nor one with an n-gram path");
  const std::string table = path ? "ngrams.weight" : "embedding.weight", gain = path ? "ngrams.gain" : "fc.weight";
  const size_t features = static_cast<size_t>(model.config().vocab_size);
  std::vector<double> in_positive(features, 0), in_negative(features, 0);
  double positives = 0, negatives = 0;
  for (size_t i : train) {
    const bool positive = examples[i].label > 0.5f;
    (positive ? positives : negatives) += 1;
    for (int32_t row : model.ngram_features(examples[i].ids)) (positive ? in_positive : in_negative)[static_cast<size_t>(row)] += 1;
  }
  double positive_total = 0, negative_total = 0;
  for (size_t f = 0; f < features; ++f) {
    in_positive[f] += 1;  // add-one smoothing (alpha = 1, as Wang & Manning)
    in_negative[f] += 1;
    positive_total += in_positive[f];
    negative_total += in_negative[f];
  }
  for (Parameter* p : model.parameters()) {
    if (p->name == table) {
      for (size_t f = 0; f < features; ++f)
        p->value(static_cast<Eigen::Index>(f), 0) =
            static_cast<Scalar>(std::log(in_positive[f] / positive_total) - std::log(in_negative[f] / negative_total));
      p->value.row(Vocabulary::kPad).setZero();
    } else if (p->name == gain) {
      // The naive Bayes logit shrunk tenfold: a prior the logistic regression then corrects. Chosen on
      // IMDB's validation part (models/ngram.json, 10 epochs): 1 → 90.40 %, 0.3 → 90.90 %, 0.1 → 91.04 %,
      // 0.05 → 91.08 % after 13.
      p->value.setConstant(Scalar(0.1));
    } else if (p->name == "fc.bias" && !path) {
      p->value.setConstant(static_cast<Scalar>(std::log((positives + 1) / (negatives + 1))));
    }
  }
}

PreparedTraining prepare_training(ClassifierConfig config, const std::vector<LabelledText>& data,
                                  const DatasetOptions& options, const TokenizerOptions& tokenizer) {
  check(!data.empty(), "no training examples");
  check(options.vocab_size >= 3, "the vocabulary size must be at least 3");
  check(options.min_count >= 1, "the minimum word count must be at least 1");
  const std::vector<float> labels = labels_of(data);
  PreparedTraining prepared;
  prepared.split = stratified_split(labels, options.validation_fraction, options.seed);
  check(!prepared.split.train.empty(), "no examples left for training after the validation split");
  std::vector<std::vector<Token>> tokenized(data.size());
  for (size_t i = 0; i < data.size(); ++i) tokenized[i] = tokenize(data[i].text, tokenizer);
  {
    std::vector<std::vector<Token>> train_tokens;  // the vocabulary sees the training part only
    train_tokens.reserve(prepared.split.train.size());
    for (size_t i : prepared.split.train) train_tokens.push_back(tokenized[i]);
    prepared.bundle.vocabulary =
        config.ngram_order > 0 ? Vocabulary::build_ngrams(train_tokens, config.ngram_order, options.vocab_size, options.min_count)
                               : Vocabulary::build(train_tokens, options.vocab_size, options.min_count);
    if (config.ngram_path > 0) {  // the network's words, then the path's other features
      check(options.ngram_features >= 3 && options.ngram_min_count >= 1,
            "the n-gram path needs at least 3 features and a minimum count of at least 1");
      config.embedding_words = prepared.bundle.vocabulary.size();
      std::vector<std::string> words = prepared.bundle.vocabulary.words();
      const Vocabulary features =
          Vocabulary::build_ngrams(train_tokens, config.ngram_path, options.ngram_features, options.ngram_min_count);
      for (int32_t id = 2; id < features.size(); ++id)
        if (prepared.bundle.vocabulary.id(features.word(id)) == Vocabulary::kUnk) words.emplace_back(features.word(id));
      check(words.size() <= (size_t{1} << 20), "the network's words and the n-gram features together exceed 2^20 entries");
      prepared.bundle.vocabulary = Vocabulary(words);
    }
    // Words first, then the n-grams in order: the layout a file stores compactly (a network's
    // words stay first, so keep their ids).
    const int order = config.ngram_order > 0 ? config.ngram_order : config.ngram_path;
    if (order >= 2) prepared.bundle.vocabulary = ngram_layout(prepared.bundle.vocabulary, order).vocabulary;
  }
  prepared.bundle.tokenizer = tokenizer;
  config.vocab_size = prepared.bundle.vocabulary.size();
  prepared.examples.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    prepared.examples.push_back({encode(tokenized[i], prepared.bundle.vocabulary), labels[i]});
    tokenized[i] = {};
  }
  prepared.bundle.model = std::make_unique<Classifier>(config);
  prepared.bundle.model->bind_vocabulary(prepared.bundle.vocabulary);
  Rng init_rng(options.seed);
  prepared.bundle.model->init(init_rng);
  if (config.ngram_order > 0 || config.ngram_path > 0) naive_bayes_init(*prepared.bundle.model, prepared.examples, prepared.split.train);
  return prepared;
}

PreparedTraining prepare_fine_tuning(ClassifierBundle bundle, const std::vector<LabelledText>& data,
                                     const DatasetOptions& options) {
  check(!data.empty(), "no training examples");
  check(bundle.model != nullptr, "no model to fine-tune");
  const std::vector<float> labels = labels_of(data);
  PreparedTraining prepared;
  prepared.split = stratified_split(labels, options.validation_fraction, options.seed);
  check(!prepared.split.train.empty(), "no examples left for training after the validation split");
  for (size_t i = 0; i < data.size(); ++i)
    prepared.examples.push_back({encode(tokenize(data[i].text, bundle.tokenizer), bundle.vocabulary), labels[i]});
  prepared.bundle = std::move(bundle);
  return prepared;
}

TrainingSession::TrainingSession(PreparedTraining prepared, const TrainOptions& options)
    : prepared_(std::move(prepared)), trainer_(*prepared_.bundle.model, options) {}

TrainingSession::Step TrainingSession::step() {
  using clock = std::chrono::steady_clock;
  if (next_batch_ == batches_.size()) {  // a new epoch
    epoch_start_order_ = trainer_.order_rng();
    batches_ = trainer_.epoch_batches(prepared_.examples, prepared_.split.train);
    next_batch_ = done_ = 0;
    loss_sum_ = seconds_ = 0;
    correct_ = 0;
  }
  const std::vector<size_t>& batch = batches_[next_batch_++];
  const auto started = clock::now();
  const Trainer::BatchResult r = trainer_.train_batch(prepared_.examples, batch);
  seconds_ += std::chrono::duration<double>(clock::now() - started).count();
  loss_sum_ += r.loss_sum;
  correct_ += r.correct;
  done_ += batch.size();

  Step s;
  s.epoch = completed_epochs_ + 1;
  s.batch = next_batch_;
  s.batches = batches_.size();
  s.done = done_;
  s.total = prepared_.split.train.size();
  s.loss = loss_sum_ / static_cast<double>(done_);
  s.accuracy = static_cast<double>(correct_) / static_cast<double>(done_);
  s.examples_per_second = seconds_ > 0 ? static_cast<double>(done_) / seconds_ : 0;
  if (next_batch_ == batches_.size()) {
    s.epoch_done = true;
    ++completed_epochs_;
    if (!prepared_.split.validation.empty())
      s.validation = trainer_.evaluate(prepared_.examples, prepared_.split.validation,
                                       static_cast<size_t>(trainer_.options().max_length));
    trainer_.end_epoch();
  }
  return s;
}

EvalResult TrainingSession::evaluate(const std::vector<LabelledText>& data) {
  std::vector<Example> examples;
  std::vector<size_t> indices;
  for (const auto& d : data) {
    check(d.label == 0.f || d.label == 1.f, "labels must be 0 or 1");
    indices.push_back(examples.size());
    examples.push_back({encode(tokenize(d.text, bundle().tokenizer), bundle().vocabulary), d.label});
  }
  return trainer_.evaluate(examples, indices);
}

CheckpointIdentity classifier_checkpoint_identity(const PreparedTraining& prepared, const TrainOptions& options) {
  Fingerprint data;
  data.add(prepared.bundle.vocabulary.words()).add(tokenizer_to_json(prepared.bundle.tokenizer).dump());
  for (const Example& e : prepared.examples) data.add(e.ids).add(e.label);
  data.add(prepared.split.train).add(prepared.split.validation);
  return {"classifier", prepared.bundle.model->config().to_json(), checkpoint_training(options), data.hex()};
}

std::vector<uint8_t> TrainingSession::checkpoint(const nlohmann::json& history) {
  EpochLoopState state;
  const bool between_epochs = next_batch_ == batches_.size();
  state.epoch = completed_epochs_ + 1;
  state.next_batch = between_epochs ? 0 : next_batch_;
  if (!between_epochs) state.sum = {loss_sum_, correct_, static_cast<int64_t>(done_)};
  state.done = between_epochs ? 0 : done_;
  state.seconds = between_epochs ? 0 : seconds_;
  state.batches_trained = trainer_.batches_trained();
  state.order_rng = between_epochs ? trainer_.order_rng() : epoch_start_order_;
  state.history = history.is_array() && history.size() == static_cast<size_t>(completed_epochs_)
                      ? history
                      : nlohmann::json::array();
  for (size_t e = state.history.size(); e < static_cast<size_t>(completed_epochs_); ++e)
    state.history.push_back({{"epoch", e + 1}});  // epochs the caller kept no record of
  return serialize_checkpoint(classifier_checkpoint_identity(prepared_, trainer_.options()), *prepared_.bundle.model,
                              trainer_.optimizer(), state, nlohmann::json::object());
}

nlohmann::json TrainingSession::resume(const uint8_t* bytes, size_t size, const std::string& source) {
  EpochLoopState state;
  load_checkpoint(bytes, size, source, classifier_checkpoint_identity(prepared_, trainer_.options()), *prepared_.bundle.model,
                  trainer_.optimizer(), state);
  completed_epochs_ = state.epoch - 1;
  trainer_.set_batches_trained(state.batches_trained);
  trainer_.order_rng() = state.order_rng;
  batches_.clear();
  next_batch_ = done_ = 0;
  loss_sum_ = seconds_ = 0;
  correct_ = 0;
  if (state.next_batch > 0) {  // inside an epoch: draw its batches again, continue after those done
    epoch_start_order_ = trainer_.order_rng();
    batches_ = trainer_.epoch_batches(prepared_.examples, prepared_.split.train);
    check(state.next_batch < batches_.size(), source + ": its batch position is past its epoch's end");
    next_batch_ = state.next_batch;
    done_ = state.done;
    loss_sum_ = state.sum.loss_sum;
    correct_ = state.sum.correct;
    seconds_ = state.seconds;
  }
  return state.history;
}

nlohmann::json training_provenance(const std::string& data, const Split& split, const TrainOptions& training) {
  return {{"data", data},
          {"train_examples", split.train.size()},
          {"validation_examples", split.validation.size()},
          {"seed", training.seed},
          {"training", training.to_json()}};
}

}  // namespace attnlens
