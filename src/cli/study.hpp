// The CLI's studies: faithfulness-study (how faithful each explanation method is to each model,
// on IMDB test reviews; issue 17's study).
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "data/imdb.hpp"

namespace attnlens::cli {

struct FaithfulnessStudyArgs {
  std::vector<std::string> models;
  std::vector<std::string> methods = {"attention", "attention-rollout", "gradient", "gradient-x-input", "integrated-gradients", "occlusion", "random",
                                      "contribution"};
  std::string data_dir = default_data_directory(), out;
  size_t reviews = 1000, max_tokens = 400;
  int threads = 1;
  uint64_t seed = 1;
  int steps = 50;
};

CLI::App* add_faithfulness_study_command(CLI::App& app, FaithfulnessStudyArgs& args);
int run_faithfulness_study(const FaithfulnessStudyArgs& args);

}  // namespace attnlens::cli
