#include "cli/train.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/reviews.hpp"
#include "core/error.hpp"
#include "data/labelled.hpp"
#include "io/model_file.hpp"
#include "train/checkpoint.hpp"
#include "train/distillation.hpp"
#include "train/session.hpp"

namespace attnlens::cli {

void apply_config_file(TrainArgs& args, const CLI::App& cmd) {
  if (args.config_path.empty()) return;
  const json config = read_config(args.config_path, {"model", "training", "vocabulary", "pretraining", "distillation"});
  const auto set = [&](const json& section, const char* key, const char* flag, auto& target) {
    set_from_config(args.config_path, section, key, cmd, flag, target);
  };
  if (config.contains("model")) {
    json model = config["model"];
    if (cmd.count("--embedding-dim")) model["embedding_dim"] = args.model.embedding_dim;
    if (cmd.count("--hidden-size")) {
      model["hidden_size"] = args.model.hidden_size;
      if (model.contains("encoder") && model["encoder"].is_array())  // every recurrent layer of an explicit encoder
        for (auto& layer : model["encoder"])
          if (layer.value("type", "") == "lstm" || layer.value("type", "") == "gru") layer["size"] = args.model.hidden_size;
    }
    if (cmd.count("--dropout")) model["dropout"] = args.model.dropout;
    if (cmd.count("--embedding-dropout")) model["embedding_dropout"] = args.model.embedding_dropout;
    if (cmd.count("--pooling")) model["pooling"] = args.model.pooling;
    if (cmd.count("--ngram-path")) model["ngram_path"] = args.model.ngram_path;
    model["vocab_size"] = args.model.vocab_size;
    if (model.value("ngram_path", 0) != 0) model["embedding_words"] = args.model.vocab_size;  // prepare_training sets both
    args.model = ClassifierConfig::from_json(model);
  }
  read_training_section(args.config_path, config, cmd, args.training);
  const json training = config.value("training", json::object());
  set(training, "max_length", "--max-length", args.training.max_length);
  set(training, "adversarial_epsilon", "--adversarial", args.training.adversarial_epsilon);
  set(training, "adversarial_warmup", "--adversarial-warmup", args.training.adversarial_warmup);
  set(training, "weight_decay", "--weight-decay", args.training.weight_decay);
  set(training, "ngram_weight_decay", "--ngram-weight-decay", args.training.ngram_weight_decay);
  set(training, "validation_fraction", "--validation-fraction", args.validation_fraction);
  const json vocabulary = config.value("vocabulary", json::object());
  set(vocabulary, "max_size", "--vocab-size", args.vocab_size);
  set(vocabulary, "min_count", "--min-count", args.min_count);
  set(vocabulary, "ngram_features", "--ngram-features", args.ngram_features);
  set(vocabulary, "ngram_min_count", "--ngram-min-count", args.ngram_min_count);
  const json pretraining = config.value("pretraining", json::object());
  set(pretraining, "epochs", "--pretrain-epochs", args.pretraining.epochs);
  set(pretraining, "window", "--pretrain-window", args.pretraining.window);
  set(pretraining, "negatives", "--pretrain-negatives", args.pretraining.negatives);
  set(pretraining, "unlabelled_reviews", "--pretrain-unlabelled", args.pretrain_unlabelled);
  const json distillation = config.value("distillation", json::object());
  if (cmd.count("--teacher") == 0)  // (each file is checked as it is read)
    set_from_config(args.config_path, distillation, "teachers", cmd, nullptr, args.teachers);
}

namespace {

// Initialises the embedding with skip-gram word2vec vectors learnt from the training part
// and (optionally) the unlabelled reviews; never from validation or test reviews. `unlabelled`:
// the unlabelled reviews already encoded (distillation's), else they are read here.
json pretrain_embedding(TrainArgs& args, ClassifierBundle& bundle, const std::vector<std::vector<int32_t>>& train_ids,
                        const std::vector<std::vector<int32_t>>& unlabelled) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> corpus = train_ids;
  if (args.pretrain_unlabelled && !unlabelled.empty()) {
    corpus.insert(corpus.end(), unlabelled.begin(), unlabelled.end());
  } else if (args.pretrain_unlabelled) {
    std::cerr << "reading unlabelled reviews from " << locate_imdb_unlabelled(args.data_dir) << std::endl;
    for (const Review& r : subsample(load_imdb(args.data_dir, "unsup"), args.limit ? args.limit * 2 : 0))
      corpus.push_back(encode(tokenize(r.text, bundle.tokenizer), bundle.vocabulary));
  }
  size_t tokens = 0;
  for (const auto& s : corpus) tokens += s.size();
  const int rows = bundle.model->config().embedding_rows();  // with an n-gram path, the network's words; the rest are <unk>
  if (rows < bundle.vocabulary.size())
    for (auto& s : corpus)
      for (int32_t& id : s)
        if (id >= rows) id = Vocabulary::kUnk;
  args.pretraining.dim = args.model.embedding_dim;
  args.pretraining.seed = args.training.seed;
  int last_percent = -1;
  ParamMatrix vectors = train_word2vec(corpus, rows, args.pretraining, [&](int epoch, double done) {
    const int percent = static_cast<int>(100 * done);
    if (percent / 25 == last_percent / 25 && percent != 100) return;
    last_percent = percent;
    std::cerr << "word2vec epoch " << epoch << '/' << args.pretraining.epochs << ": " << percent << "%" << std::endl;
  });
  // word2vec norms grow with word frequency and share a common direction; centre the
  // vectors and give every row unit norm, the scale of the default initialisation.
  const Eigen::Matrix<Scalar, 1, Eigen::Dynamic> mean = vectors.bottomRows(vectors.rows() - 2).colwise().mean();
  vectors.rowwise() -= mean;
  vectors.rowwise().normalize();
  for (Parameter* p : bundle.model->parameters()) {
    if (p->name != "embedding.weight") continue;
    p->value = vectors;
    p->value.row(Vocabulary::kPad).setZero();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cerr << "word2vec: " << corpus.size() << " reviews, " << tokens << " tokens, " << std::fixed << std::setprecision(0)
            << seconds << " s" << std::endl;
  return {{"method", "skip-gram with negative sampling (Mikolov et al. 2013)"},
          {"epochs", args.pretraining.epochs},
          {"window", args.pretraining.window},
          {"negatives", args.pretraining.negatives},
          {"corpus", args.pretrain_unlabelled ? "training part + IMDB unlabelled reviews (train/unsup)" : "training part"},
          {"reviews", corpus.size()},
          {"tokens", tokens},
          {"seconds", seconds}};
}

// The prepared data as JSON Lines, for training elsewhere (tools/pytorch/train.py): a first
// line describing it (the resolved model config, tokenizer, vocabulary, training options --
// the adversarial step among them -- and provenance, as `train` would record them, with the
// word2vec and distillation records), then one line per review, the training part in split
// order and then the validation part: {"part": "train"|"validation", "label": ..., "ids": [...]}.
// A gold label is 0 or 1; a review the teachers labelled (--teacher) is in the training part
// with their soft label, a probability, and "teachers": true. With word2vec pretraining the
// header's "initial_embedding" holds the vectors the engine would start from ({"shape": [V, E],
// "values": row-major}). The ids are whole reviews; max_length is a training option, applied by
// the trainer. Format version 2 (1: gold labels only, no initial embedding).
void write_dataset(const TrainArgs& args, const PreparedTraining& prepared, size_t gold_train, json provenance) {
  const ClassifierBundle& bundle = prepared.bundle;
  json header = {{"format", "attnlens.dataset"},
                 {"format_version", "2"},
                 {"config", bundle.model->config().to_json()},
                 {"tokenizer", tokenizer_to_json(bundle.tokenizer)},
                 {"vocabulary", bundle.vocabulary.words()},
                 {"training", args.training.to_json()},
                 {"provenance", std::move(provenance)}};
  if (args.pretraining.epochs > 0)
    for (Parameter* p : bundle.model->parameters()) {
      if (p->name != "embedding.weight") continue;
      const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = p->value;
      header["initial_embedding"] = {{"shape", {rows.rows(), rows.cols()}},
                                     {"values", std::vector<Scalar>(rows.data(), rows.data() + rows.size())}};
    }
  std::string out = header.dump() + "\n";
  const auto write_part = [&](const char* part, const std::vector<size_t>& indices, size_t gold) {
    for (size_t k = 0; k < indices.size(); ++k) {
      const Example& e = prepared.examples[indices[k]];
      json row = {{"part", part}, {"ids", e.ids}};
      if (k < gold) {
        row["label"] = e.label > 0.5f ? 1 : 0;
      } else {
        row["label"] = e.label;
        row["teachers"] = true;
      }
      out += row.dump();
      out += '\n';
    }
  };
  write_part("train", prepared.split.train, gold_train);
  write_part("validation", prepared.split.validation, prepared.split.validation.size());
  write_text_file(args.write_dataset, out);
  std::cerr << "wrote " << args.write_dataset << ": " << prepared.split.train.size() << " training ("
            << prepared.split.train.size() - gold_train << " labelled by the teachers) and "
            << prepared.split.validation.size() << " validation reviews, vocabulary " << bundle.vocabulary.size()
            << (header.contains("initial_embedding") ? ", word2vec's embedding" : "") << ", " << out.size() << " bytes"
            << std::endl;
}

// Distillation: the teachers (checked to share this run's split) label IMDB's unlabelled reviews,
// which join the training part with those soft labels. Returns the record for the provenance.
json add_teacher_labels(const TrainArgs& args, PreparedTraining& prepared, const json& student) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<ClassifierBundle> teachers;
  json described = json::array();
  for (const std::string& path : args.teachers) {
    std::error_code same_error;
    check(!std::filesystem::equivalent(path, args.out, same_error),
          "--teacher " + path + " is the file this run writes (--out): a teacher must be a finished model");
    teachers.push_back(load_classifier(path));
    const ClassifierBundle& t = teachers.back();
    check_teacher_split(t.provenance, student, path);
    json d = {{"file", std::filesystem::path(path).filename().string()}, {"architecture", t.model->config().architecture}};
    if (t.provenance.contains("validation_accuracy")) d["validation_accuracy"] = t.provenance["validation_accuracy"];
    described.push_back(d);
  }
  std::cerr << "reading unlabelled reviews from " << locate_imdb_unlabelled(args.data_dir) << std::endl;
  std::vector<std::string> texts;
  for (Review& r : subsample(load_imdb(args.data_dir, "unsup"), args.limit ? args.limit * 2 : 0)) texts.push_back(std::move(r.text));
  std::cerr << "labelling " << texts.size() << " unlabelled reviews with " << teachers.size() << " teachers..." << std::endl;
  const std::vector<float> labels = teacher_labels(teachers, texts, args.training.threads, [&](size_t done) {
    std::cerr << "teacher " << done << '/' << teachers.size() << " (" << args.teachers[done - 1] << ") done" << std::endl;
  });
  double positive = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    prepared.split.train.push_back(prepared.examples.size());
    prepared.examples.push_back({encode(tokenize(texts[i], prepared.bundle.tokenizer), prepared.bundle.vocabulary), labels[i]});
    positive += labels[i];
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cerr << "distillation: " << texts.size() << " reviews labelled in " << std::fixed << std::setprecision(0) << seconds
            << " s" << std::endl;
  return {{"method", "soft labels σ(mean of the teachers' logits) on unlabelled reviews, beside the gold labels (Hinton et al. 2015)"},
          {"teachers", described},
          {"reviews", texts.size()},
          {"corpus", "IMDB unlabelled reviews (train/unsup)"},
          {"mean_label", texts.empty() ? 0.0 : positive / static_cast<double>(texts.size())},
          {"seconds", seconds}};
}

}  // namespace

int run_train(TrainArgs& args, const CLI::App& cmd, const std::string& command_line) {
  apply_config_file(args, cmd);
  check(args.model.ngram_order == 0 || args.pretraining.epochs == 0,
        "an n-gram model starts from naive Bayes weights, not word2vec: set --pretrain-epochs 0 (or pretraining.epochs 0)");
  check(args.model.ngram_order == 0 || args.write_dataset.empty(),
        "--write-dataset: tools/pytorch/train.py trains the neural architectures; an n-gram model trains here, in seconds");
  check(args.model.ngram_path == 0 || args.write_dataset.empty(),
        "--write-dataset: tools/pytorch/train.py has no n-gram path yet; a model with one (--ngram-path) trains here");
  check(args.model.ngram_path == 0 || args.model.ngram_order == 0,
        "--ngram-path: an n-gram model (ngram_order) is all n-grams; the path is for the neural architectures");
  if (args.model.ngram_path > 0 && args.model.embedding_words == 0) args.model.embedding_words = args.model.vocab_size;
  check(args.training.ngram_weight_decay < 0 || args.model.ngram_path > 0,
        "--ngram-weight-decay: the model has no n-gram path (--ngram-path)");
  const auto started = std::chrono::steady_clock::now();
  const bool imdb = args.train_file.empty();
  check(args.teachers.empty() || imdb,
        "--teacher: distillation labels IMDB's unlabelled reviews; it needs IMDB training data, not --train-file");
  check(args.write_dataset.empty() ||
            (args.resume.empty() && args.checkpoint.empty() && !args.eval_test && args.test_file.empty()),
        "--write-dataset writes the prepared data and trains nothing: leave out --resume, --checkpoint, --eval-test "
        "and --test-file");
  if (!args.write_dataset.empty()) {  // said now, not after minutes of word2vec and labelling
    const std::filesystem::path folder = std::filesystem::path(args.write_dataset).parent_path();
    check(folder.empty() || std::filesystem::is_directory(folder),
          "--write-dataset " + args.write_dataset + ": there is no folder " + folder.string());
    for (const std::string& teacher : args.teachers) {
      std::error_code same_error;
      check(!std::filesystem::equivalent(teacher, args.write_dataset, same_error),
            "--teacher " + teacher + " is the file --write-dataset would replace");
    }
  }
  if (!args.resume.empty() && args.write_dataset.empty()) {  // the same teachers, said before the minutes of labelling (the data's fingerprint checks it again)
    const json extra = checkpoint_extra(args.resume);
    json recorded = json::array(), given = json::array();
    if (extra.is_object())
      for (const json& t : extra.value(json::json_pointer("/provenance/distillation/teachers"), json::array()))
        recorded.push_back(t.is_object() ? t.value("file", json()) : json());
    for (const std::string& path : args.teachers) given.push_back(std::filesystem::path(path).filename().string());
    check(recorded == given, "--resume " + args.resume + ": that run's teachers were " + recorded.dump() + ", this run's are " +
                                 given.dump() + "; give the same --teacher files to continue it");
  }
  std::vector<LabelledText> data;
  size_t source_examples = 0;  // before --limit
  if (imdb) {
    std::cerr << "reading IMDB training reviews from " << locate_imdb(args.data_dir) << std::endl;
    std::vector<Review> all = load_imdb(args.data_dir, "train");
    source_examples = all.size();
    for (Review& r : subsample(std::move(all), args.limit)) data.push_back({std::move(r.text), static_cast<float>(r.label)});
  } else {
    data = load_labelled_texts(args.train_file);
    source_examples = data.size();
    if (args.limit && args.limit < data.size()) data.resize(args.limit);
    check(args.pretraining.epochs == 0 || !args.pretrain_unlabelled,
          "--pretrain-unlabelled reads IMDB's unlabelled reviews; with --train-file set --pretrain-unlabelled false");
  }
  PreparedTraining prepared = prepare_training(
      args.model, data,
      DatasetOptions{args.vocab_size, args.min_count, args.validation_fraction, args.training.seed, args.ngram_features,
                     args.ngram_min_count});
  data.clear();
  data.shrink_to_fit();
  ClassifierBundle& bundle = prepared.bundle;
  args.model = bundle.model->config();
  const std::vector<Example>& examples = prepared.examples;
  const Split& split = prepared.split;
  const size_t gold_train = split.train.size();  // the labelled training part (distillation appends more)
  const auto data_provenance = [&]() {
    json p = training_provenance(
        (imdb ? std::string("IMDB (Maas et al. 2011), official train split")
              : std::filesystem::path(args.train_file).filename().string() + " (labelled texts)") +
            "; stratified " + std::to_string(static_cast<int>(std::lround(100 * (1 - args.validation_fraction)))) + "/" +
            std::to_string(static_cast<int>(std::lround(100 * args.validation_fraction))) + " train/validation",
        split, args.training);
    p["vocabulary"] = {{"max_size", args.vocab_size}, {"min_count", args.min_count}};
    if (args.model.ngram_path > 0) {
      p["vocabulary"]["ngram_features"] = args.ngram_features;
      p["vocabulary"]["ngram_min_count"] = args.ngram_min_count;
    }
    p["train_examples"] = gold_train;
    // What rebuilds the validation part (eval --split validation), kept apart from the training
    // seed a later trainer may change (tools/pytorch/train.py --seed).
    p["split"] = {{"seed", args.training.seed},
                  {"validation_fraction", args.validation_fraction},
                  {"source_examples", source_examples},
                  {"limit", args.limit},
                  {"train_examples", gold_train},
                  {"validation_examples", split.validation.size()}};
    return p;
  };
  json distillation_record;
  if (!args.teachers.empty()) {
    distillation_record = add_teacher_labels(args, prepared, data_provenance());
  }
  // A checkpoint belongs to this run only if it has the same model, arithmetic, data, vocabulary and split.
  const CheckpointIdentity identity = classifier_checkpoint_identity(prepared, args.training);
  Trainer trainer(*bundle.model, args.training);
  EpochLoopState loop(args.training.seed);
  json resumed = json::object();  // the provenance the interrupted run was building
  if (!args.resume.empty()) {
    const json extra = load_checkpoint(args.resume, identity, *bundle.model, trainer.optimizer(), loop);
    if (extra.is_object() && extra.value("provenance", json()).is_object()) resumed = extra["provenance"];
    std::cerr << "resuming " << args.resume << ": epoch " << loop.epoch << ", " << loop.next_batch << " batches into it"
              << std::endl;
  }
  json pretraining_record = resumed.value("pretraining", json());
  if (args.pretraining.epochs > 0 && args.resume.empty()) {
    std::vector<std::vector<int32_t>> train_ids, unlabelled_ids;
    for (size_t k = 0; k < gold_train; ++k) train_ids.push_back(examples[split.train[k]].ids);
    for (size_t k = gold_train; k < split.train.size(); ++k) unlabelled_ids.push_back(examples[split.train[k]].ids);
    pretraining_record = pretrain_embedding(args, bundle, train_ids, unlabelled_ids);
  }
  if (!args.write_dataset.empty()) {  // the recipe's data, word2vec's vectors and soft labels, for tools/pytorch/train.py
    json provenance = data_provenance();
    provenance["command"] = command_line;
    provenance["pretraining"] = pretraining_record;
    if (!distillation_record.is_null()) provenance["distillation"] = distillation_record;
    write_dataset(args, prepared, gold_train, provenance);
    return 0;
  }
  std::cerr << "training " << args.model.architecture << " (" << bundle.model->parameter_count() << " parameters, vocabulary "
            << bundle.vocabulary.size() << ") on " << split.train.size() << " reviews, validating on "
            << split.validation.size() << ", " << args.training.threads << " threads" << std::endl;

  const std::string history_prefix =
      args.history.empty() ? args.out.substr(0, args.out.rfind(".safetensors")) + ".history" : args.history;
  json provenance = data_provenance();
  provenance["command"] = command_line;
  provenance["pretraining"] = pretraining_record;
  if (!distillation_record.is_null()) provenance["distillation"] = distillation_record;
  if (args.model.ngram_order > 0)
    provenance["initialisation"] = "naive Bayes log-count ratios (Wang & Manning 2012), the output weight 0.1";
  if (args.model.ngram_path > 0)
    provenance["initialisation"] = "the n-gram path: naive Bayes log-count ratios (Wang & Manning 2012), its gain 0.1";
  provenance["machine"] = machine_description();
  if (!args.resume.empty()) provenance["resumed"] = true;
  ProgressBar bar;
  json history = loop.history;
  const auto save_history = [&]() {
    write_text_file(history_prefix + ".json", history.dump(2) + "\n");
    std::ostringstream csv;
    csv << "epoch,learning_rate,train_loss,train_accuracy,validation_loss,validation_accuracy,seconds,examples_per_second\n";
    for (const auto& e : history)
      csv << e["epoch"] << ',' << e["learning_rate"] << ',' << e["train_loss"] << ',' << e["train_accuracy"] << ','
          << e["validation_loss"] << ',' << e["validation_accuracy"] << ',' << e["seconds"] << ','
          << e["examples_per_second"] << '\n';
    write_text_file(history_prefix + ".csv", csv.str());
  };
  const auto finalize_provenance = [&](const EpochStats& best) {
    provenance["best_epoch"] = best.epoch;
    provenance["epochs_run"] = history.size();
    provenance["validation_accuracy"] = best.validation_accuracy;
    provenance["validation_loss"] = best.validation_loss;
    provenance["training_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    provenance["date"] = now_iso8601();
    bundle.provenance = provenance;
  };
  EpochStats best;
  for (const json& e : history)
    if (e.value("improved", false)) best = EpochStats::from_json(e);
  const std::string checkpoint_path = args.checkpoint.empty() ? args.resume : args.checkpoint;
  Checkpointing checkpointing{&loop, nullptr, args.checkpoint_every};
  if (!checkpoint_path.empty())
    checkpointing.save = [&](const EpochLoopState& state) {
      save_checkpoint(checkpoint_path, identity, *bundle.model, trainer.optimizer(), state, {{"provenance", provenance}});
    };
  trainer.fit(
      examples, split.train, split.validation,
      [&](const EpochStats& s) {
        bar.finish_epoch(s);
        history.push_back(s.to_json());
        if (s.improved) {
          best = s;
          finalize_provenance(best);
          save_classifier(args.out, bundle);  // atomic: a killed run keeps the last best model
        }
        save_history();
      },
      [&](const Progress& p) { bar.update(p); }, checkpointing);
  finalize_provenance(best);
  if (args.eval_test || !args.test_file.empty()) {
    std::vector<Example> test_examples;
    if (args.test_file.empty()) {
      std::cerr << "evaluating on the official test split..." << std::endl;
      test_examples = encode_reviews(load_imdb(args.data_dir, "test"), bundle.vocabulary, bundle.tokenizer);
    } else {
      for (const LabelledText& t : load_labelled_texts(args.test_file))
        test_examples.push_back({encode(tokenize(t.text, bundle.tokenizer), bundle.vocabulary), t.label});
    }
    const EvalResult r = trainer.evaluate(test_examples, all_indices(test_examples.size()));
    bundle.provenance["test_accuracy"] = r.accuracy;
    bundle.provenance["test_loss"] = r.loss;
    bundle.provenance["test_count"] = r.count;
    std::cerr << "test accuracy " << std::fixed << std::setprecision(2) << 100 * r.accuracy << "% loss "
              << std::setprecision(4) << r.loss << " on " << r.count << " reviews" << std::endl;
  }
  save_classifier(args.out, bundle);
  std::cerr << "saved " << args.out << " (best epoch " << best.epoch << ", validation accuracy " << std::fixed
            << std::setprecision(2) << 100 * best.validation_accuracy << "%); history in " << history_prefix
            << ".{json,csv}" << std::endl;
  return 0;
}

CLI::App* add_train_command(CLI::App& app, TrainArgs& args) {
  CLI::App* cmd = app.add_subcommand("train", "Train a classifier on IMDB and save the best model (by validation accuracy)");
  cmd->add_option("--config", args.config_path, "JSON config with 'model', 'training' and 'vocabulary' sections (flags override it)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", args.data_dir, "Data directory holding IMDB (aclImdb/ or imdb/aclImdb-labeled.tar.gz)")
      ->capture_default_str();
  cmd->add_option("--train-file", args.train_file,
                        "Train on these labelled texts (text<TAB>label per line, plain or .gz) instead of IMDB")
      ->check(CLI::ExistingFile);
  cmd->add_option("--test-file", args.test_file, "After training, evaluate on these labelled texts and record it")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args.out, "Where to save the model (.safetensors)")->capture_default_str();
  cmd->add_option("--history", args.history, "Prefix for the per-epoch history (.json and .csv); default: next to --out");
  add_training_options(cmd, args.training, "Reviews", "validation accuracy");
  cmd->add_option("--max-length", args.training.max_length, "Cut training reviews to this many tokens (0: whole reviews)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--adversarial", args.training.adversarial_epsilon,
                  "Adversarial training on the embeddings (Miyato et al. 2017): each batch also learns from its reviews "
                  "with the embedded tokens moved by this L2 distance per review, along the loss's gradient (0: off; "
                  "about 1.5 times the training time)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--adversarial-warmup", args.training.adversarial_warmup,
                  "Ramp the adversarial perturbation up linearly from 0 over this many epochs (0: full size from the "
                  "first batch); a model that cannot classify yet may otherwise settle on a constant output")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--weight-decay", args.training.weight_decay,
                  "Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): every step first shrinks each weight by "
                  "the factor 1 - learning rate x this (0: off)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--ngram-path", args.model.ngram_path,
                  "Add an n-gram path to a neural model: a linear bag of words and n-grams up to this length (1-3), "
                  "started from naive Bayes weights and trained with the network, its logit added to the network's "
                  "(0: none)")
      ->check(CLI::Range(0, 3))->capture_default_str();
  cmd->add_option("--ngram-features", args.ngram_features,
                  "The n-gram path's features: this many words and n-grams, most common first (the network's words "
                  "stay in the vocabulary too)")
      ->check(CLI::Range(3, 1 << 20))->capture_default_str();
  cmd->add_option("--ngram-min-count", args.ngram_min_count, "The n-gram path's features appear in at least this many training reviews")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--ngram-weight-decay", args.training.ngram_weight_decay,
                  "The n-gram path's weight decay, in place of --weight-decay for its table and gain (the trigram baseline's is 0.6)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--vocab-size", args.vocab_size, "Vocabulary size including <pad> and <unk>")
      ->check(CLI::Range(2, 1 << 20))->capture_default_str();
  cmd->add_option("--min-count", args.min_count, "Minimum count for a word to enter the vocabulary")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--embedding-dim", args.model.embedding_dim, "Embedding size")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--hidden-size", args.model.hidden_size, "Recurrent layer size per direction (all recurrent layers of the config)")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--dropout", args.model.dropout, "Dropout on the pooled vector")->check(CLI::Range(0.0, 0.95))->capture_default_str();
  cmd->add_option("--embedding-dropout", args.model.embedding_dropout, "Dropout on the embedded tokens")
      ->check(CLI::Range(0.0, 0.95))->capture_default_str();
  cmd->add_option("--pooling", args.model.pooling,
                  "How the encoded tokens become the review's vector: attention (a weight per token, the highlights), "
                  "mean, max, sum or last (the config's otherwise)")
      ->check(CLI::IsMember({"attention", "mean", "max", "sum", "last"}))->capture_default_str();
  cmd->add_option("--validation-fraction", args.validation_fraction,
                        "Fraction of the training data held out, stratified (0: none; the best epoch is then chosen by training accuracy)")
      ->check(CLI::Range(0.0, 0.9))->capture_default_str();
  cmd->add_option("--limit", args.limit, "Use only this many training reviews (quick runs)");
  cmd->add_option("--pretrain-epochs", args.pretraining.epochs,
                        "Initialise the embedding with this many epochs of skip-gram word2vec (0: off)")
      ->check(CLI::Range(0, 100))->capture_default_str();
  cmd->add_option("--pretrain-window", args.pretraining.window, "word2vec context window")->check(CLI::Range(1, 50))->capture_default_str();
  cmd->add_option("--pretrain-negatives", args.pretraining.negatives, "word2vec negative samples")->check(CLI::Range(1, 50))->capture_default_str();
  cmd->add_option("--pretrain-unlabelled", args.pretrain_unlabelled,
                        "Also learn word2vec from IMDB's 50,000 unlabelled reviews (true/false)")->capture_default_str();
  cmd->add_option("--teacher", args.teachers,
                  "Distillation (repeatable): these models, trained on this run's training part, label IMDB's unlabelled "
                  "reviews (the mean of their logits, through the sigmoid; a file given twice counts twice), which join "
                  "the training part with those soft labels")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--eval-test", args.eval_test, "After training, evaluate on the official test split and record it in the model file");
  add_checkpoint_options(cmd, args.checkpoint, args.checkpoint_every, args.resume);
  cmd->add_option("--write-dataset", args.write_dataset,
                  "Train nothing: write the prepared data (model config, tokenizer, vocabulary, training options, "
                  "word2vec's embedding when pretraining is on, and each review's token ids, label and part, train or "
                  "validation; with --teacher the unlabelled reviews and their soft labels too) as JSON Lines for "
                  "tools/pytorch/train.py, and exit");
  return cmd;
}

CLI::App* add_cue_task_command(CLI::App& app, CueTaskOptions& args) {
  CLI::App* cmd = app.add_subcommand(
      "cue-task", "Write the Train view's synthetic task as labelled texts (text<TAB>label): filler words with one "
                  "sentiment cue word, sometimes negated, at a random place");
  cmd->add_option("--count", args.count, "Texts")->check(CLI::Range(1, 1000000))->capture_default_str();
  cmd->add_option("--length", args.length, "Words per text")->check(CLI::Range(2, 10000))->capture_default_str();
  cmd->add_option("--fillers", args.fillers, "Distinct filler words")->check(CLI::Range(1, 4900))->capture_default_str();
  cmd->add_option("--negation", args.negation, "Probability that the cue is negated by \"not\"")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--seed", args.seed, "Random seed")->capture_default_str();
  return cmd;
}

int run_cue_task(const CueTaskOptions& options) {
  for (const CueText& t : make_cue_task(options)) std::cout << t.text << '\t' << (t.label == 1.f ? 1 : 0) << '\n';
  return std::cout.flush() ? 0 : 1;
}

}  // namespace attnlens::cli
