#include "cli/study.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <numeric>

#include "cli/reviews.hpp"
#include "core/error.hpp"
#include "io/model_file.hpp"
#include "pipeline/attention_experiments.hpp"
#include "pipeline/explain.hpp"
#include "pipeline/faithfulness.hpp"

namespace attnlens::cli {

namespace {

double mean_of(const std::vector<double>& v) {
  return v.empty() ? NAN : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double median_of(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
double sd_of(const std::vector<double>& v) {
  if (v.size() < 2) return NAN;
  const double m = mean_of(v);
  double total = 0;
  for (double x : v) total += (x - m) * (x - m);
  return std::sqrt(total / static_cast<double>(v.size() - 1));
}
json number_or_null(double x) { return std::isfinite(x) ? json(x) : json(); }

std::vector<double> scores_of(const Explanation& e) {
  std::vector<double> scores;
  for (const TokenScore& t : e.tokens) scores.push_back(t.weight);
  return scores;
}

// The summary of one model × method over the reviews.
struct Column {
  std::vector<double> aopc_comprehensiveness, aopc_sufficiency, random_comprehensiveness, random_sufficiency;
  std::vector<double> flip_top1, flip_fraction, tau_loo, tau_gradient_x_input, completeness_gap;
  size_t never_flipped = 0;
  json summary() const {
    return {{"aopc_comprehensiveness", number_or_null(mean_of(aopc_comprehensiveness))},
            {"aopc_sufficiency", number_or_null(mean_of(aopc_sufficiency))},
            {"random_aopc_comprehensiveness", number_or_null(mean_of(random_comprehensiveness))},
            {"random_aopc_sufficiency", number_or_null(mean_of(random_sufficiency))},
            {"decision_flip_top1_rate", number_or_null(mean_of(flip_top1))},
            {"decision_flip_fraction_mean", number_or_null(mean_of(flip_fraction))},
            {"never_flipped", never_flipped},
            {"kendall_tau_loo_mean", number_or_null(mean_of(tau_loo))},
            {"kendall_tau_loo_sd", number_or_null(sd_of(tau_loo))},
            {"kendall_tau_gradient_x_input_mean", number_or_null(mean_of(tau_gradient_x_input))},
            {"kendall_tau_gradient_x_input_sd", number_or_null(sd_of(tau_gradient_x_input))},
            {"completeness_gap_mean", number_or_null(mean_of(completeness_gap))},
            {"reviews", aopc_comprehensiveness.size()}};
  }
};

}  // namespace

int run_faithfulness_study(const FaithfulnessStudyArgs& args) {
  check(!args.models.empty(), "faithfulness-study: name at least one model with --models");
  check(args.reviews > 0, "faithfulness-study: --reviews must be at least 1");
  std::cerr << "reading IMDB test reviews from " << locate_imdb(args.data_dir) << std::endl;
  const std::vector<Review> reviews = subsample(load_imdb(args.data_dir, "test"), args.reviews);
  const auto started = std::chrono::steady_clock::now();
  json models = json::object();
  for (const std::string& path : args.models) {
    ClassifierBundle bundle = load_classifier(path);
    const std::string name = bundle.model->config().architecture;
    const bool attention = bundle.model->config().has_attention();
    std::map<std::string, Column> columns;
    std::vector<double> permuted, uniform, adversarial_jsd, adversarial_change;
    for (size_t r = 0; r < reviews.size(); ++r) {
      const std::string& text = reviews[r].text;
      ExplainRequest gxi_request;
      gxi_request.method = ExplainRequest::Method::GradientXInput;
      const std::vector<double> gxi = scores_of(explain(bundle, text, gxi_request));
      FaithfulnessOptions options;
      options.seed = args.seed + r;
      const FaithfulnessReference reference = faithfulness_reference(bundle, text, options);  // shared by the methods
      for (const std::string& method : args.methods) {
        ExplainRequest request;
        request.method = explain_request_method(method);
        request.steps = args.steps;
        request.seed = args.seed + r;
        if (request.method == ExplainRequest::Method::Attention && !attention && !bundle.model->transformer()) continue;
        const Explanation e = explain(bundle, text, request);
        const std::vector<double> scores = scores_of(e);
        const Faithfulness f = faithfulness(bundle, text, scores, options, &reference);
        Column& c = columns[method];
        c.aopc_comprehensiveness.push_back(f.aopc_comprehensiveness);
        c.aopc_sufficiency.push_back(f.aopc_sufficiency);
        c.random_comprehensiveness.push_back(f.random_aopc_comprehensiveness);
        c.random_sufficiency.push_back(f.random_aopc_sufficiency);
        c.flip_top1.push_back(f.decision_flip_top1 ? 1 : 0);
        if (f.decision_flip_fraction) c.flip_fraction.push_back(*f.decision_flip_fraction);
        else ++c.never_flipped;
        if (f.kendall_tau_loo) c.tau_loo.push_back(*f.kendall_tau_loo);
        if (const auto tau = kendall_tau(scores, gxi); tau && method != "gradient-x-input") c.tau_gradient_x_input.push_back(*tau);
        if (e.completeness_gap) c.completeness_gap.push_back(*e.completeness_gap);
      }
      if (attention) {
        AttentionExperimentOptions settings;
        settings.seed = args.seed + r;
        const AttentionExperiments x = attention_experiments(bundle, text, settings);
        permuted.push_back(x.permuted_median_change);
        uniform.push_back(x.uniform_change);
        adversarial_jsd.push_back(x.adversarial_jsd);
        adversarial_change.push_back(x.adversarial_change);
      }
      if ((r + 1) % 50 == 0 || r + 1 == reviews.size())
        std::cerr << name << ": " << r + 1 << '/' << reviews.size() << " reviews" << std::endl;
    }
    json methods = json::object();
    for (const auto& [method, column] : columns) methods[method] = column.summary();
    json entry = {{"file", path}, {"methods", methods}};
    if (attention)
      entry["attention_experiments"] = {{"permuted_median_abs_change_median", number_or_null(median_of(permuted))},
                                        {"uniform_abs_change_median", number_or_null(median_of(uniform))},
                                        {"adversarial_jsd_mean", number_or_null(mean_of(adversarial_jsd))},
                                        {"adversarial_jsd_median", number_or_null(median_of(adversarial_jsd))},
                                        {"adversarial_abs_change_max",
                                         adversarial_change.empty() ? json() : json(*std::max_element(adversarial_change.begin(), adversarial_change.end()))}};
    models[name] = entry;
  }
  const json result = {
      {"reviews", reviews.size()},
      {"sample", "IMDB test split (Maas et al. 2011), " + std::to_string(reviews.size()) +
                     " reviews evenly spaced over the sorted file list (both classes), whole reviews"},
      {"seed", args.seed},
      {"integrated_gradients_steps", args.steps},
      {"removal", "delete"},
      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()},
      {"models", models}};
  if (args.out.empty()) std::cout << result.dump(2) << std::endl;
  else write_text_file(args.out, result.dump(2) + "\n");
  return 0;
}

CLI::App* add_faithfulness_study_command(CLI::App& app, FaithfulnessStudyArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "faithfulness-study",
      "How faithful each explanation method is to each model on IMDB test reviews: AOPCs against a random baseline, "
      "decision flips, Kendall tau with leave-one-out and with gradient x input, the attention experiments");
  cmd->add_option("--models", args.models, "Classifier model files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--methods", args.methods, "Explanation methods")
      ->check(CLI::IsMember({"attention", "gradient", "gradient-x-input", "integrated-gradients", "occlusion", "random"}));
  cmd->add_option("--reviews", args.reviews, "Test reviews, evenly spaced")->capture_default_str();
  cmd->add_option("--steps", args.steps, "Integrated gradients: quadrature points")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--seed", args.seed, "Seed of the random method, the random baseline and the attention experiments")->capture_default_str();
  cmd->add_option("--data", args.data_dir, "Data directory holding IMDB")->capture_default_str();
  cmd->add_option("--out", args.out, "Write the results JSON here (default: standard output)");
  return cmd;
}

}  // namespace attnlens::cli
