// attnlens command-line tool: train | eval | predict | info.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/common.hpp"
#include "cli/bench.hpp"
#include "cli/convert.hpp"
#include "cli/translation.hpp"
#include "core/error.hpp"
#include "data/imdb.hpp"
#include "data/labelled.hpp"
#include "io/model_file.hpp"
#include "io/translator_file.hpp"
#include "io/safetensors.hpp"
#include "onnx/export.hpp"
#include "models/predict.hpp"
#include "train/session.hpp"
#include "train/synthetic.hpp"
#include "train/trainer.hpp"
#include "train/word2vec.hpp"

using namespace attnlens;
using nlohmann::json;

using namespace attnlens::cli;

namespace {

std::vector<Example> encode_reviews(const std::vector<Review>& reviews, const Vocabulary& vocabulary,
                                    const TokenizerOptions& tokenizer, size_t max_length = 0) {
  std::vector<Example> examples;
  examples.reserve(reviews.size());
  for (const Review& r : reviews)
    examples.push_back({encode(tokenize(r.text, tokenizer), vocabulary, max_length), static_cast<float>(r.label)});
  return examples;
}

std::vector<size_t> all_indices(size_t count) {
  std::vector<size_t> indices(count);
  for (size_t i = 0; i < count; ++i) indices[i] = i;
  return indices;
}

// Evenly spaced subset that keeps both classes (reviews are sorted by label).
std::vector<Review> subsample(std::vector<Review> reviews, size_t limit) {
  if (limit == 0 || limit >= reviews.size()) return reviews;
  std::vector<Review> kept;
  for (size_t k = 0; k < limit; ++k) kept.push_back(std::move(reviews[k * reviews.size() / limit]));
  return kept;
}

json token_json(const TokenScore& t) {
  return {{"text", t.text}, {"start", t.start}, {"end", t.end}, {"weight", t.weight}, {"oov", t.oov}};
}

json prediction_json(const Prediction& p) {
  json tokens = json::array();
  for (const auto& t : p.tokens) tokens.push_back(token_json(t));
  json out = {{"label", p.label}, {"probability", p.probability}, {"logit", p.logit}, {"explanation", p.explanation},
              {"tokens", tokens}};
  if (p.explanation == "self-attention") {
    out["attention_layer"] = p.attention_layer;
    out["attention_head"] = p.attention_head;
  }
  return out;
}

void print_prediction(const Prediction& p, std::ostream& out) {
  out << p.label << " (probability of positive " << std::fixed << std::setprecision(4) << p.probability << ")\n"
      << "token weights: "
      << (p.explanation == "attention"        ? std::string("attention")
          : p.explanation == "self-attention" ? "self-attention received, layer " + std::to_string(p.attention_layer + 1) +
                                                    (p.attention_head < 0 ? ", mean over heads"
                                                                          : ", head " + std::to_string(p.attention_head + 1))
                                              : std::string("gradient × input saliency"))
      << "\n";
  double max_weight = 0;
  for (const auto& t : p.tokens) max_weight = std::max(max_weight, t.weight);
  for (const auto& t : p.tokens) {
    const int bar = max_weight > 0 ? static_cast<int>(std::lround(20 * t.weight / max_weight)) : 0;
    out << "  " << std::left << std::setw(16) << t.text << std::right << std::setprecision(4) << t.weight << ' '
        << std::string(bar, '#') << (t.oov ? "  (unknown word)" : "") << '\n';
  }
}

// ---------------------------------------------------------------- train
struct TrainArgs {
  std::string config_path, data_dir = default_data_directory(), out = "models/bilstm-attention.safetensors", history;
  ClassifierConfig model;
  TrainOptions training;
  int vocab_size = 20000, min_count = 1;
  double validation_fraction = 0.2;
  size_t limit = 0;
  bool eval_test = false;
  std::string train_file, test_file;  // labelled texts instead of IMDB
  Word2VecOptions pretraining{64, 5, 5, 0};  // epochs 0: no pretraining
  bool pretrain_unlabelled = true;
};

void apply_config_file(TrainArgs& args, const CLI::App& cmd) {
  if (args.config_path.empty()) return;
  const json config = read_config(args.config_path, {"model", "training", "vocabulary", "pretraining"});
  const auto set = [&](const json& section, const char* key, const char* flag, auto& target) {
    set_from_config(args.config_path, section, key, flag && cmd.count(flag), target);
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
    model["vocab_size"] = args.model.vocab_size;
    args.model = ClassifierConfig::from_json(model);
  }
  const json training = config.value("training", json::object());
  set(training, "epochs", "--epochs", args.training.epochs);
  set(training, "batch_size", "--batch-size", args.training.batch_size);
  set(training, "learning_rate", "--lr", args.training.learning_rate);
  set(training, "learning_rate_decay", "--lr-decay", args.training.learning_rate_decay);
  set(training, "clip_norm", "--clip-norm", args.training.clip_norm);
  set(training, "max_length", "--max-length", args.training.max_length);
  set(training, "seed", "--seed", args.training.seed);
  set(training, "patience", "--patience", args.training.patience);
  set(training, "validation_fraction", "--validation-fraction", args.validation_fraction);
  const json vocabulary = config.value("vocabulary", json::object());
  set(vocabulary, "max_size", "--vocab-size", args.vocab_size);
  set(vocabulary, "min_count", "--min-count", args.min_count);
  const json pretraining = config.value("pretraining", json::object());
  set(pretraining, "epochs", "--pretrain-epochs", args.pretraining.epochs);
  set(pretraining, "window", "--pretrain-window", args.pretraining.window);
  set(pretraining, "negatives", "--pretrain-negatives", args.pretraining.negatives);
  set(pretraining, "unlabelled_reviews", "--pretrain-unlabelled", args.pretrain_unlabelled);
}

// Initialises the embedding with skip-gram word2vec vectors learnt from the training part
// and (optionally) the unlabelled reviews; never from validation or test reviews.
json pretrain_embedding(TrainArgs& args, ClassifierBundle& bundle, const std::vector<std::vector<int32_t>>& train_ids) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> corpus = train_ids;
  if (args.pretrain_unlabelled) {
    std::cerr << "reading unlabelled reviews from " << locate_imdb_unlabelled(args.data_dir) << std::endl;
    for (const Review& r : subsample(load_imdb(args.data_dir, "unsup"), args.limit ? args.limit * 2 : 0))
      corpus.push_back(encode(tokenize(r.text, bundle.tokenizer), bundle.vocabulary));
  }
  size_t tokens = 0;
  for (const auto& s : corpus) tokens += s.size();
  args.pretraining.dim = args.model.embedding_dim;
  args.pretraining.seed = args.training.seed;
  int last_percent = -1;
  ParamMatrix vectors = train_word2vec(corpus, bundle.vocabulary.size(), args.pretraining, [&](int epoch, double done) {
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

int run_train(TrainArgs& args, const CLI::App& cmd, const std::string& command_line) {
  apply_config_file(args, cmd);
  const auto started = std::chrono::steady_clock::now();
  const bool imdb = args.train_file.empty();
  std::vector<LabelledText> data;
  if (imdb) {
    std::cerr << "reading IMDB training reviews from " << locate_imdb(args.data_dir) << std::endl;
    for (Review& r : subsample(load_imdb(args.data_dir, "train"), args.limit))
      data.push_back({std::move(r.text), static_cast<float>(r.label)});
  } else {
    data = load_labelled_texts(args.train_file);
    if (args.limit && args.limit < data.size()) data.resize(args.limit);
    check(args.pretraining.epochs == 0 || !args.pretrain_unlabelled,
          "--pretrain-unlabelled reads IMDB's unlabelled reviews; with --train-file set --pretrain-unlabelled false");
  }
  PreparedTraining prepared = prepare_training(
      args.model, data, DatasetOptions{args.vocab_size, args.min_count, args.validation_fraction, args.training.seed});
  data.clear();
  data.shrink_to_fit();
  ClassifierBundle& bundle = prepared.bundle;
  args.model = bundle.model->config();
  const std::vector<Example>& examples = prepared.examples;
  const Split& split = prepared.split;
  json pretraining_record;
  if (args.pretraining.epochs > 0) {
    std::vector<std::vector<int32_t>> train_ids;
    for (size_t i : split.train) train_ids.push_back(examples[i].ids);
    pretraining_record = pretrain_embedding(args, bundle, train_ids);
  }
  std::cerr << "training " << args.model.architecture << " (" << bundle.model->parameter_count() << " parameters, vocabulary "
            << bundle.vocabulary.size() << ") on " << split.train.size() << " reviews, validating on "
            << split.validation.size() << ", " << args.training.threads << " threads" << std::endl;

  const std::string history_prefix =
      args.history.empty() ? args.out.substr(0, args.out.rfind(".safetensors")) + ".history" : args.history;
  json provenance = {
      {"data", (imdb ? std::string("IMDB (Maas et al. 2011), official train split")
                     : std::filesystem::path(args.train_file).filename().string() + " (labelled texts)") +
                   "; stratified " + std::to_string(static_cast<int>(std::lround(100 * (1 - args.validation_fraction)))) +
                   "/" + std::to_string(static_cast<int>(std::lround(100 * args.validation_fraction))) +
                   " train/validation"},
      {"train_examples", split.train.size()},
      {"validation_examples", split.validation.size()},
      {"seed", args.training.seed},
      {"training", args.training.to_json()},
      {"vocabulary", {{"max_size", args.vocab_size}, {"min_count", args.min_count}}},
      {"command", command_line},
      {"pretraining", pretraining_record},
      {"machine", machine_description()},
  };
  Trainer trainer(*bundle.model, args.training);
  ProgressBar bar;
  json history = json::array();
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
      [&](const Progress& p) { bar.update(p); });
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

// ---------------------------------------------------------------- eval
struct EvalArgs {
  std::string model, data_dir = default_data_directory(), split = "test";
  bool json_output = false;
  size_t limit = 0, max_length = 0;
  int threads = 2, batch_size = 64, beam = 1;
  bool record = false;
};

int run_eval(const EvalArgs& args) {
  if (model_format(args.model) == kTranslatorFormat) {
    TranslatorEvalArgs translator{args.model, args.data_dir, args.split, args.json_output, args.record, args.threads, DecodeOptions{}};
    translator.decode.beam = args.beam;
    return run_eval_translator(translator);
  }
  check(args.split != "validation", "--split validation: classifiers are evaluated on IMDB's train or test split");
  check(!args.record, "--record is for translators");
  ClassifierBundle bundle = load_classifier(args.model);
  const std::vector<Review> reviews = subsample(load_imdb(args.data_dir, args.split), args.limit);
  const std::vector<Example> examples = encode_reviews(reviews, bundle.vocabulary, bundle.tokenizer);
  TrainOptions options;
  options.threads = args.threads;
  options.batch_size = args.batch_size;
  Trainer evaluator(*bundle.model, options);
  const auto started = std::chrono::steady_clock::now();
  const EvalResult r = evaluator.evaluate(examples, all_indices(examples.size()), args.max_length);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  json result = r.to_json();
  result["split"] = args.split;
  result["model"] = args.model;
  result["seconds"] = seconds;
  result["reviews_per_second"] = r.count / std::max(seconds, 1e-9);
  if (args.json_output) {
    std::cout << result.dump() << std::endl;
  } else {
    std::cout << "IMDB " << args.split << ": accuracy " << std::fixed << std::setprecision(2) << 100 * r.accuracy
              << "%  loss " << std::setprecision(4) << r.loss << "  on " << r.count << " reviews (" << std::setprecision(1)
              << seconds << " s)\n"
              << "confusion matrix (rows: actual, columns: predicted)\n"
              << "              positive  negative\n"
              << "  positive  " << std::setw(10) << r.true_positive << std::setw(10) << r.false_negative << "\n"
              << "  negative  " << std::setw(10) << r.false_positive << std::setw(10) << r.true_negative << "\n";
  }
  return 0;
}

// ---------------------------------------------------------------- predict
struct PredictArgs {
  std::string model, text, input, explanation = "auto";
  int layer = -1, head = -1;
  bool json_output = false, batch = false;
};

int run_predict(const PredictArgs& args, const CLI::App& cmd) {
  const ExplainOptions explain{explain_method(args.explanation), args.layer, args.head};
  ClassifierBundle bundle = load_classifier(args.model);
  std::ifstream file;
  if (!args.input.empty()) {
    file.open(args.input, std::ios::binary);
    check(file.good(), args.input + ": cannot open");
  }
  std::istream& in = args.input.empty() ? std::cin : file;
  if (args.batch) {
    check(!cmd.count("text"), "--batch reads reviews from stdin or --input, one per line; do not also pass TEXT");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const Prediction p = classify(bundle, line, explain);
      if (args.json_output) std::cout << prediction_json(p).dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
      else std::cout << p.label << '\t' << std::fixed << std::setprecision(6) << p.probability << '\n';
    }
    std::cout.flush();
    return 0;
  }
  std::string text = args.text;
  if (!cmd.count("text")) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const Prediction p = classify(bundle, text, explain);
  if (args.json_output) std::cout << prediction_json(p).dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
  else print_prediction(p, std::cout);
  return 0;
}

// ---------------------------------------------------------------- card
// A Markdown model card made only from what the model files record about themselves.
std::string percent(const json& value) {
  if (!value.is_number()) return "not recorded";
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << 100 * value.get<double>() << " %";
  return out.str();
}

std::string number(const json& value, int precision) {
  if (!value.is_number()) return "not recorded";
  std::ostringstream out;
  out << std::fixed << std::setprecision(precision) << value.get<double>();
  return out.str();
}

std::string pretraining_summary(const json& pretraining) {
  if (!pretraining.is_object()) return "random (N(0, 1/dim))";
  std::ostringstream out;
  out << pretraining.value("method", std::string("word2vec")) << ", " << pretraining.value("epochs", json()).dump()
      << " epochs, window " << pretraining.value("window", json()).dump() << ", " << pretraining.value("negatives", json()).dump()
      << " negatives, on the " << pretraining.value("corpus", std::string("training part")) << " ("
      << pretraining.value("reviews", json()).dump() << " reviews, " << pretraining.value("tokens", json()).dump()
      << " tokens, " << number(pretraining.value("seconds", json()), 0) << " s); vectors centred and scaled to unit norm";
  return out.str();
}

int run_card(const std::vector<std::string>& models) {
  std::cout << "# Model cards\n\n"
               "Generated by `attnlens card` from the provenance each model file records about itself "
               "(`attnlens card --model models/*.safetensors > models/README.md`); a test checks that this file is current.\n";
  for (const std::string& path : models) {
    if (model_format(path) == kTranslatorFormat) {
      print_translator_card(path);
      continue;
    }
    ClassifierBundle bundle = load_classifier(path);
    const json& p = bundle.provenance;
    const ClassifierConfig& c = bundle.model->config();
    const std::string name = std::filesystem::path(path).filename().string();
    const auto size = std::filesystem::file_size(path);
    std::cout << "\n## " << name << "\n\n"
              << "| | |\n|---|---|\n"
              << "| architecture | " << c.architecture << ": " << c.describe() << " |\n"
              << "| parameters | " << bundle.model->parameter_count() << " |\n"
              << "| vocabulary | " << bundle.vocabulary.size() << " words (PAD = 0, UNK = 1), from the training part of the split only |\n"
              << "| file size | " << size << " bytes |\n"
              << weights_card_row(p, safetensors::storage_name(bundle.storage))
              << "| embedding initialisation | " << pretraining_summary(p.value("pretraining", json())) << " |\n"
              << "| dropout | embeddings " << c.embedding_dropout << ", pooled vector " << c.dropout << " |\n"
              << "| data | " << p.value("data", std::string("not recorded")) << " |\n"
              << "| **IMDB test accuracy** (25,000 reviews, whole reviews) | **" << percent(p.value("test_accuracy", json())) << "** (loss "
              << number(p.value("test_loss", json()), 4) << ", " << p.value("test_count", json()).dump() << " reviews) |\n"
              << "| validation accuracy | " << percent(p.value("validation_accuracy", json())) << " (loss "
              << number(p.value("validation_loss", json()), 4)
              << "; held-out training reviews, which share movies with the training part, so it reads higher than test) |\n"
              << "| best epoch / epochs run | " << p.value("best_epoch", json()).dump() << " / " << p.value("epochs_run", json()).dump() << " |\n"
              << "| training time | " << number(p.value("training_seconds", json()), 0)
              << " s (reading and tokenizing the data, word2vec and all epochs; not the test evaluation) |\n"
              << "| machine | " << p.value("machine", std::string("not recorded")) << " |\n"
              << "| seed | " << p.value("seed", json()).dump() << " |\n"
              << "| trained | " << p.value("date", std::string("not recorded")) << " |\n"
              << "| training options | `" << p.value("training", json()).dump() << "` |\n\n"
              << "Reproduce (from the repository root, with the IMDB data in `../shared/data/imdb/`):\n\n"
              << "```sh\n./build/release/" << p.value("command", std::string("attnlens train")) << "\n```\n\n"
              << "Check the test accuracy:\n\n"
              << "```sh\n./build/release/attnlens eval --model models/" << name << " --split test\n```\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command_line = "attnlens";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];

  CLI::App app{"attnlens: small sequence models (BiLSTM + attention) that train and explain, natively and in the browser"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "attnlens 0.1.0");

  TrainArgs train;
  auto* train_cmd = app.add_subcommand("train", "Train a classifier on IMDB and save the best model (by validation accuracy)");
  train_cmd->add_option("--config", train.config_path, "JSON config with 'model', 'training' and 'vocabulary' sections (flags override it)")
      ->check(CLI::ExistingFile);
  train_cmd->add_option("--data", train.data_dir, "Data directory holding IMDB (aclImdb/ or imdb/aclImdb-labeled.tar.gz)")
      ->capture_default_str();
  train_cmd->add_option("--train-file", train.train_file,
                        "Train on these labelled texts (text<TAB>label per line, plain or .gz) instead of IMDB")
      ->check(CLI::ExistingFile);
  train_cmd->add_option("--test-file", train.test_file, "After training, evaluate on these labelled texts and record it")
      ->check(CLI::ExistingFile);
  train_cmd->add_option("--out", train.out, "Where to save the model (.safetensors)")->capture_default_str();
  train_cmd->add_option("--history", train.history, "Prefix for the per-epoch history (.json and .csv); default: next to --out");
  add_training_options(train_cmd, train.training, "Reviews", "validation accuracy");
  train_cmd->add_option("--max-length", train.training.max_length, "Cut training reviews to this many tokens (0: whole reviews)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  train_cmd->add_option("--vocab-size", train.vocab_size, "Vocabulary size including <pad> and <unk>")
      ->check(CLI::Range(2, 5000000))->capture_default_str();
  train_cmd->add_option("--min-count", train.min_count, "Minimum count for a word to enter the vocabulary")->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--embedding-dim", train.model.embedding_dim, "Embedding size")->check(CLI::Range(1, 4096))->capture_default_str();
  train_cmd->add_option("--hidden-size", train.model.hidden_size, "Recurrent layer size per direction (all recurrent layers of the config)")->check(CLI::Range(1, 4096))->capture_default_str();
  train_cmd->add_option("--dropout", train.model.dropout, "Dropout on the pooled vector")->check(CLI::Range(0.0, 0.95))->capture_default_str();
  train_cmd->add_option("--embedding-dropout", train.model.embedding_dropout, "Dropout on the embedded tokens")
      ->check(CLI::Range(0.0, 0.95))->capture_default_str();
  train_cmd->add_option("--validation-fraction", train.validation_fraction,
                        "Fraction of the training data held out, stratified (0: none; the best epoch is then chosen by training accuracy)")
      ->check(CLI::Range(0.0, 0.9))->capture_default_str();
  train_cmd->add_option("--limit", train.limit, "Use only this many training reviews (quick runs)");
  train_cmd->add_option("--pretrain-epochs", train.pretraining.epochs,
                        "Initialise the embedding with this many epochs of skip-gram word2vec (0: off)")
      ->check(CLI::Range(0, 100))->capture_default_str();
  train_cmd->add_option("--pretrain-window", train.pretraining.window, "word2vec context window")->check(CLI::Range(1, 50))->capture_default_str();
  train_cmd->add_option("--pretrain-negatives", train.pretraining.negatives, "word2vec negative samples")->check(CLI::Range(1, 50))->capture_default_str();
  train_cmd->add_option("--pretrain-unlabelled", train.pretrain_unlabelled,
                        "Also learn word2vec from IMDB's 50,000 unlabelled reviews (true/false)")->capture_default_str();
  train_cmd->add_flag("--eval-test", train.eval_test, "After training, evaluate on the official test split and record it in the model file");

  EvalArgs eval;
  auto* eval_cmd = app.add_subcommand("eval", "Accuracy, loss and confusion matrix of a model on an IMDB split");
  eval_cmd->add_option("--model", eval.model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  eval_cmd->add_option("--data", eval.data_dir, "Data directory holding IMDB")->capture_default_str();
  eval_cmd->add_option("--split", eval.split, "Split (validation: translators only)")
      ->check(CLI::IsMember({"train", "validation", "test"}))->capture_default_str();
  eval_cmd->add_option("--beam", eval.beam, "Translators: beam width (1: greedy)")->check(CLI::Range(1, 64))->capture_default_str();
  eval_cmd->add_flag("--record", eval.record, "Translators: store the test BLEU in the model file's provenance (as train-translator --eval-test does)");
  eval_cmd->add_flag("--json", eval.json_output, "Print one JSON object");
  eval_cmd->add_option("--limit", eval.limit, "Evaluate an evenly spaced subset of this many reviews (0: all)");
  eval_cmd->add_option("--max-length", eval.max_length, "Cut reviews to this many tokens (0: whole reviews, as predict does)");
  eval_cmd->add_option("--threads", eval.threads, "Worker threads")->check(CLI::Range(1, 64))->capture_default_str();
  eval_cmd->add_option("--batch-size", eval.batch_size, "Reviews per batch")->check(CLI::Range(1, 65536))->capture_default_str();

  PredictArgs predict;
  auto* predict_cmd = app.add_subcommand("predict", "Classify text and show each token's attention weight");
  predict_cmd->add_option("--model", predict.model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  predict_cmd->add_option("text", predict.text, "Review text (default: read from stdin or --input)");
  predict_cmd->add_option("--input", predict.input, "Read from this file instead of stdin")->check(CLI::ExistingFile);
  predict_cmd->add_flag("--json", predict.json_output, "Print JSON: {label, probability, logit, tokens: [{text, start, end, weight, oov}]}");
  predict_cmd->add_option("--explanation", predict.explanation,
                          "Token weights: auto (attention pooling's weights, else gradient × input), attention (a Transformer: "
                          "the self-attention each token receives), gradient-x-input")
      ->check(CLI::IsMember({"auto", "attention", "gradient-x-input"}));
  predict_cmd->add_option("--layer", predict.layer, "With --explanation attention on a Transformer: the layer, from 0 (-1: the last)");
  predict_cmd->add_option("--head", predict.head, "With --explanation attention on a Transformer: the head, from 0 (-1: the mean)");
  predict_cmd->add_flag("--batch", predict.batch, "One review per input line, one result per output line (model loaded once)");

  std::string info_model;
  auto* info_cmd = app.add_subcommand("info", "Print a model file's config, vocabulary size and provenance as JSON");
  info_cmd->add_option("--model", info_model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);

  TrainTranslatorArgs train_translator;
  auto* train_translator_cmd = add_train_translator_command(app, train_translator);
  TranslateArgs translate;
  auto* translate_cmd = add_translate_command(app, translate);

  std::vector<std::string> card_models;
  auto* card_cmd = app.add_subcommand("card", "Print Markdown model cards made from the model files' own provenance");
  card_cmd->add_option("--model", card_models, "Model file(s)")->required()->check(CLI::ExistingFile);

  std::string export_model, export_out, export_format = "onnx";
  auto* export_cmd = app.add_subcommand(
      "export", "Write a classifier as an ONNX graph (token ids in; logit, probability and attention out)");
  export_cmd->add_option("--model", export_model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  export_cmd->add_option("--out", export_out, "Where to write the graph (.onnx)")->required();
  export_cmd->add_option("--format", export_format, "Output format")->check(CLI::IsMember({"onnx"}))->capture_default_str();

  ConvertArgs convert;
  auto* convert_cmd = add_convert_command(app, convert);

  BenchArgs bench;
  auto* bench_cmd = add_bench_command(app, bench);

  CueTaskOptions cue;
  auto* cue_cmd = app.add_subcommand(
      "cue-task", "Write the Train view's synthetic task as labelled texts (text<TAB>label): filler words with one "
                  "sentiment cue word, sometimes negated, at a random place");
  cue_cmd->add_option("--count", cue.count, "Texts")->check(CLI::Range(1, 1000000))->capture_default_str();
  cue_cmd->add_option("--length", cue.length, "Words per text")->check(CLI::Range(2, 10000))->capture_default_str();
  cue_cmd->add_option("--fillers", cue.fillers, "Distinct filler words")->check(CLI::Range(1, 4900))->capture_default_str();
  cue_cmd->add_option("--negation", cue.negation, "Probability that the cue is negated by \"not\"")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cue_cmd->add_option("--seed", cue.seed, "Random seed")->capture_default_str();

  if (argc > 1 && argv[1][0] != '-') {  // a clearer message than CLI11's for a mistyped command
    std::string names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      known = known || sub->get_name() == argv[1];
    }
    if (!known) {
      std::cerr << "attnlens: unknown command '" << argv[1] << "' (commands: " << names << "; see --help)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*train_cmd) return run_train(train, *train_cmd, command_line);
    if (*eval_cmd) return run_eval(eval);
    if (*predict_cmd) return run_predict(predict, *predict_cmd);
    if (*card_cmd) return run_card(card_models);
    if (*convert_cmd) return run_convert(convert, command_line);
    if (*bench_cmd) return run_bench(bench);
    if (*export_cmd) {
      check(model_format(export_model) == kClassifierFormat, export_model + ": only classifiers can be exported to ONNX");
      ClassifierBundle bundle = load_classifier(export_model);
      const std::string bytes = export_onnx(bundle);
      safetensors::write_file_atomic(export_out, std::vector<uint8_t>(bytes.begin(), bytes.end()));
      std::cerr << "wrote " << export_out << " (ONNX opset " << kOnnxOpset << ", " << bytes.size() << " bytes)" << std::endl;
      return 0;
    }
    if (*cue_cmd) {
      for (const CueText& t : make_cue_task(cue)) std::cout << t.text << '\t' << (t.label == 1.f ? 1 : 0) << '\n';
      return std::cout.flush() ? 0 : 1;
    }
    if (*train_translator_cmd) return run_train_translator(train_translator, *train_translator_cmd, command_line);
    if (*translate_cmd) return run_translate(translate, *translate_cmd);
    if (*info_cmd) {
      if (model_format(info_model) == kTranslatorFormat) {
        std::cout << translator_info(info_model).dump(2) << std::endl;
        return 0;
      }
      ClassifierBundle bundle = load_classifier(info_model);
      json info = {{"config", bundle.model->config().to_json()},
                   {"tokenizer", tokenizer_to_json(bundle.tokenizer)},
                   {"vocabulary_size", bundle.vocabulary.size()},
                   {"parameters", bundle.model->parameter_count()},
                   {"provenance", bundle.provenance}};
      std::cout << info.dump(2) << std::endl;
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "attnlens: error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
