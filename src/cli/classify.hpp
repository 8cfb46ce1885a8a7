// The CLI's classifier commands for trained models: classify (a text's label and each token's
// weight in the explanation chosen), explain (one explanation method's signed token scores,
// pipeline/explain.hpp) and eval (accuracy and confusion matrix on an IMDB split;
// a translator file's BLEU instead).
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "data/imdb.hpp"

namespace attnlens::cli {

struct EvalArgs {
  std::string model, data_dir = default_data_directory(), split = "test";
  bool json_output = false;
  size_t limit = 0, max_length = 0;
  int threads = 2, batch_size = 64, beam = 1;
  bool record = false;
  bool short_reviews = false;  // classifiers: the short-review check (data/short_reviews.hpp) instead of whole reviews
  std::string logits;          // classifiers: also write each review's logit here (CSV)
};

struct ClassifyArgs {
  std::string model, text, input, explanation = "auto";
  int layer = -1, head = -1;
  bool json_output = false, batch = false;
};

struct ExplainArgs {
  std::string model, text, input, method = "attention", baseline = "zero", rule = "gauss-legendre", occlude = "delete";
  int steps = 50, window = 1, layer = -1, head = -1;
  uint64_t seed = 1;
  bool json_output = false, batch = false, faithfulness = false, attention_experiments = false;
};

// The IMDB validation part a classifier was trained beside, rebuilt from its provenance (whole
// reviews); throws an Error saying why when the provenance cannot rebuild it.
std::vector<Review> validation_reviews(const nlohmann::json& provenance, const std::string& data_dir);

CLI::App* add_eval_command(CLI::App& app, EvalArgs& args);
int run_eval(const EvalArgs& args);

CLI::App* add_classify_command(CLI::App& app, ClassifyArgs& args);
int run_classify(const ClassifyArgs& args, const CLI::App& cmd);

CLI::App* add_explain_command(CLI::App& app, ExplainArgs& args);
int run_explain(const ExplainArgs& args, const CLI::App& cmd);

}  // namespace attnlens::cli
