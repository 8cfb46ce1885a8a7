// `attnlens join`: a trained network and a trained n-gram model as one classifier with an n-gram
// path (train/ngram_path.hpp), their logits averaged with the weight given.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace attnlens::cli {

struct JoinArgs {
  std::string network, ngrams, out, data_dir;
  double ngram_weight = 0.5;
  bool eval_test = false;
  int threads = 2;
};

CLI::App* add_join_command(CLI::App& app, JoinArgs& args);
int run_join(const JoinArgs& args, const std::string& command_line);

}  // namespace attnlens::cli
