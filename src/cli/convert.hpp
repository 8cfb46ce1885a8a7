// `attnlens convert`: a model file with its weights stored as float32, float16 or int8
// (per-row scales), optionally re-measured on the test split; the card then shows both.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "data/imdb.hpp"
#include "io/model_file.hpp"
#include "train/trainer.hpp"

namespace attnlens::cli {

struct ConvertArgs {
  std::string model, out, weights = "int8", data_dir;
  bool eval_test = false;
  int threads = 2;
};

CLI::App* add_convert_command(CLI::App& app, ConvertArgs& args);
int run_convert(const ConvertArgs& args, const std::string& command_line);

// Accuracy and loss of `model` on `reviews`, each read whole, by `threads` copies of it.
EvalResult evaluate_reviews(ClassifierBundle& model, const std::vector<Review>& reviews, int threads);

// `model` (as it will be stored) on IMDB's official test split, into provenance's test_accuracy,
// test_loss and test_count.
EvalResult record_test_figures(ClassifierBundle& model, nlohmann::json& provenance, const std::string& data_dir, int threads);

// The model card's row about how the weights are stored (and what a conversion cost).
std::string weights_card_row(const nlohmann::json& provenance, const std::string& storage);

}  // namespace attnlens::cli
