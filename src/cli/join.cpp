#include "cli/join.hpp"

#include <filesystem>
#include <iomanip>
#include <iostream>

#include "cli/classify.hpp"
#include "cli/common.hpp"
#include "cli/convert.hpp"
#include "data/imdb.hpp"

#include "io/model_file.hpp"
#include "train/ngram_path.hpp"

namespace attnlens::cli {

CLI::App* add_join_command(CLI::App& app, JoinArgs& args) {
  auto* cmd = app.add_subcommand(
      "join", "Join a trained network and a trained n-gram model into one classifier with an n-gram path: its logit "
              "is (1 - w) x the network's + w x the n-gram model's, each token's n-gram share exact");
  cmd->add_option("--network", args.network, "The neural classifier (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--ngrams", args.ngrams, "The n-gram model (architecture ngram), trained on the same training part")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--ngram-weight", args.ngram_weight, "w, the n-gram model's weight in the average")
      ->check(CLI::Range(0.01, 0.99))->capture_default_str();
  cmd->add_option("--out", args.out, "Where to write the joined model")->required();
  cmd->add_flag("--eval-test", args.eval_test,
                "Measure the joined model (as stored) on its validation reviews, whole, and on the test split, and record both");
  cmd->add_option("--data", args.data_dir, "Data directory (for --eval-test)");
  cmd->add_option("--threads", args.threads, "Worker threads for --eval-test")->check(CLI::Range(1, 64))->capture_default_str();
  return cmd;
}

int run_join(const JoinArgs& args, const std::string& command_line) {
  const ClassifierBundle network = load_classifier(args.network);
  const ClassifierBundle ngrams = load_classifier(args.ngrams);
  ClassifierBundle joined = join_ngram_path(network, ngrams, args.ngram_weight,
                                            std::filesystem::path(args.ngrams).filename().string(), command_line);
  if (args.eval_test) {  // the weights as stored: the bytes, loaded back
    const std::vector<uint8_t> bytes = serialize_classifier(joined);
    ClassifierBundle stored = load_classifier(bytes.data(), bytes.size(), args.out);
    const std::string data = args.data_dir.empty() ? default_data_directory() : args.data_dir;
    std::cerr << "evaluating the joined model on its validation reviews (whole) and the official test split..." << std::endl;
    const EvalResult v = evaluate_reviews(stored, validation_reviews(joined.provenance, data), args.threads);
    joined.provenance["validation_accuracy"] = v.accuracy;
    joined.provenance["validation_loss"] = v.loss;
    const EvalResult r = record_test_figures(stored, joined.provenance, data, args.threads);
    std::cerr << "validation accuracy " << std::fixed << std::setprecision(2) << 100 * v.accuracy << "%, test accuracy "
              << 100 * r.accuracy << "%" << std::endl;
  }
  save_classifier(args.out, joined);
  std::cerr << "wrote " << args.out << ": " << joined.model->config().embedding_words << " network words and "
            << joined.vocabulary.size() - joined.model->config().embedding_words << " more n-gram features, "
            << std::filesystem::file_size(args.out) << " bytes" << std::endl;
  return 0;
}

}  // namespace attnlens::cli
