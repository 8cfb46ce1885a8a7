// The CLI's translation commands: train-translator, translate, and the translator forms
// of eval, info and card.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "models/decoding.hpp"
#include "train/trainer.hpp"

namespace attnlens::cli {

struct TrainTranslatorArgs {
  std::string config_path, data_dir, out = "models/translate-eng-fra.safetensors", history;
  TranslatorConfig model;
  TrainOptions training;
  int source_vocab_size = 6000, target_vocab_size = 8000, min_count = 2;
  double validation_fraction = 0.1, test_fraction = 0.1;
  uint64_t split_seed = 1;
  size_t limit = 0;
  bool eval_test = false;
  int test_beam = 5;
  std::string checkpoint, resume;  // checkpoint file to keep; one to continue from
  size_t checkpoint_every = 0;     // batches between checkpoints (0: after every epoch only)
};

struct TranslateArgs {
  std::string model, text, input;
  bool json_output = false, batch = false;
  DecodeOptions decode;
};

struct TranslatorEvalArgs {
  std::string model, data_dir, split = "test";
  bool json_output = false;
  bool record = false;  // store the test result in the model file's provenance (test_greedy / test_beam)
  int threads = 2;
  DecodeOptions decode;
};

CLI::App* add_train_translator_command(CLI::App& app, TrainTranslatorArgs& args);
CLI::App* add_translate_command(CLI::App& app, TranslateArgs& args);

int run_train_translator(TrainTranslatorArgs& args, const CLI::App& cmd, const std::string& command_line);
// Reads args.config_path (if set) into args; flags given on `cmd`'s command line win.
void apply_config_file(TrainTranslatorArgs& args, const CLI::App& cmd);
int run_translate(const TranslateArgs& args, const CLI::App& cmd);
int run_eval_translator(const TranslatorEvalArgs& args);
nlohmann::json translator_info(const std::string& path);
void print_translator_card(const std::string& path);

}  // namespace attnlens::cli
