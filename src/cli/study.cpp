#include "cli/study.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
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

// One review's figures for one method.
struct MethodResult {
  Faithfulness faithfulness;
  std::optional<double> tau_gradient_x_input, completeness_gap;
  // Jain & Wallace's measure: τ with the magnitudes |leave-one-out| and |gradient × input|.
  std::optional<double> tau_abs_loo, tau_abs_gradient_x_input;
};

std::vector<double> magnitudes(std::vector<double> v) {
  for (double& x : v) x = std::abs(x);
  return v;
}

// One review's figures for one model.
struct ReviewResult {
  std::map<std::string, MethodResult> methods;
  std::optional<AttentionExperiments> experiments;
};

ReviewResult study_review(ClassifierBundle& bundle, const std::string& text, const FaithfulnessStudyArgs& args, uint64_t seed) {
  const bool attention = bundle.model->config().has_attention();
  ReviewResult result;
  ExplainRequest gxi_request;
  gxi_request.method = ExplainRequest::Method::GradientXInput;
  const Explanation gxi_explanation = explain(bundle, text, gxi_request);
  const std::vector<double> gxi = scores_of(gxi_explanation);
  FaithfulnessOptions options;
  options.seed = seed;
  const FaithfulnessReference reference = faithfulness_reference(bundle, text, options);  // shared by the methods
  const std::vector<double> abs_gxi = magnitudes(gxi), abs_loo = magnitudes(reference.leave_one_out);
  for (const std::string& method : args.methods) {
    ExplainRequest request;
    request.method = explain_request_method(method);
    request.steps = args.steps;
    request.seed = seed;
    if (request.method == ExplainRequest::Method::Attention && !attention && !bundle.model->transformer()) continue;
    if (request.method == ExplainRequest::Method::AttentionRollout && !bundle.model->transformer()) continue;
    if (request.method == ExplainRequest::Method::Contribution && !attention) continue;
    // gradient × input was computed above (every method is compared with it): not again.
    const Explanation e = request.method == ExplainRequest::Method::GradientXInput ? gxi_explanation : explain(bundle, text, request);
    const std::vector<double> scores = scores_of(e);
    MethodResult& m = result.methods[method];
    m.faithfulness = faithfulness(bundle, text, scores, options, &reference);
    if (method != "gradient-x-input") m.tau_gradient_x_input = kendall_tau(scores, gxi);
    m.tau_abs_loo = kendall_tau(scores, abs_loo);
    m.tau_abs_gradient_x_input = kendall_tau(scores, abs_gxi);
    m.completeness_gap = e.completeness_gap;
  }
  if (attention) {
    AttentionExperimentOptions settings;
    settings.seed = seed;
    result.experiments = attention_experiments(bundle, text, settings);
  }
  return result;
}

// Per-review figures to six decimals (they feed histograms; the summaries keep full precision).
double rounded(double x) { return std::round(x * 1e6) / 1e6; }
json rounded_all(const std::vector<double>& v) {
  json out = json::array();
  for (double x : v) out.push_back(rounded(x));
  return out;
}
json optional_json(const std::optional<double>& x) { return x ? json(rounded(*x)) : json(); }

// The summary of one model × method over the reviews, and its per-review figures.
json method_summary(const std::vector<ReviewResult>& reviews, const std::string& method) {
  std::vector<double> aopc_c, aopc_s, random_c, random_s, flip_top1, flip_fraction, tau_loo, tau_gxi, tau_abs_loo, tau_abs_gxi, gap;
  json per_review_tau_loo = json::array(), per_review_tau_gxi = json::array(), per_review_aopc = json::array(),
       per_review_tau_abs_loo = json::array();
  std::array<double, 21> curve{};
  size_t never_flipped = 0;
  for (const ReviewResult& review : reviews) {
    const MethodResult& m = review.methods.at(method);
    const Faithfulness& f = m.faithfulness;
    aopc_c.push_back(f.aopc_comprehensiveness);
    aopc_s.push_back(f.aopc_sufficiency);
    random_c.push_back(f.random_aopc_comprehensiveness);
    random_s.push_back(f.random_aopc_sufficiency);
    flip_top1.push_back(f.decision_flip_top1 ? 1 : 0);
    if (f.decision_flip_fraction) flip_fraction.push_back(*f.decision_flip_fraction);
    else ++never_flipped;
    if (f.kendall_tau_loo) tau_loo.push_back(*f.kendall_tau_loo);
    if (m.tau_gradient_x_input) tau_gxi.push_back(*m.tau_gradient_x_input);
    if (m.completeness_gap) gap.push_back(*m.completeness_gap);
    if (m.tau_abs_loo) tau_abs_loo.push_back(*m.tau_abs_loo);
    if (m.tau_abs_gradient_x_input) tau_abs_gxi.push_back(*m.tau_abs_gradient_x_input);
    per_review_tau_abs_loo.push_back(optional_json(m.tau_abs_loo));
    for (size_t i = 0; i < curve.size(); ++i) curve[i] += f.deletion_curve[i].second / static_cast<double>(reviews.size());
    per_review_tau_loo.push_back(optional_json(f.kendall_tau_loo));
    per_review_tau_gxi.push_back(optional_json(m.tau_gradient_x_input));
    per_review_aopc.push_back(rounded(f.aopc_comprehensiveness));
  }
  json mean_curve = json::array();
  for (size_t i = 0; i < curve.size(); ++i) mean_curve.push_back({static_cast<double>(i) / 20.0, curve[i]});
  return {{"aopc_comprehensiveness", number_or_null(mean_of(aopc_c))},
          {"aopc_sufficiency", number_or_null(mean_of(aopc_s))},
          {"random_aopc_comprehensiveness", number_or_null(mean_of(random_c))},
          {"random_aopc_sufficiency", number_or_null(mean_of(random_s))},
          {"decision_flip_top1_rate", number_or_null(mean_of(flip_top1))},
          {"decision_flip_fraction_mean", number_or_null(mean_of(flip_fraction))},
          {"decision_flip_fraction_median", number_or_null(median_of(flip_fraction))},
          {"never_flipped", never_flipped},
          {"kendall_tau_loo_mean", number_or_null(mean_of(tau_loo))},
          {"kendall_tau_loo_sd", number_or_null(sd_of(tau_loo))},
          {"kendall_tau_gradient_x_input_mean", number_or_null(mean_of(tau_gxi))},
          {"kendall_tau_gradient_x_input_sd", number_or_null(sd_of(tau_gxi))},
          {"kendall_tau_abs_loo_mean", number_or_null(mean_of(tau_abs_loo))},
          {"kendall_tau_abs_loo_sd", number_or_null(sd_of(tau_abs_loo))},
          {"kendall_tau_abs_gradient_x_input_mean", number_or_null(mean_of(tau_abs_gxi))},
          {"kendall_tau_abs_gradient_x_input_sd", number_or_null(sd_of(tau_abs_gxi))},
          {"completeness_gap_mean", number_or_null(mean_of(gap))},
          {"deletion_curve_mean", mean_curve},
          {"reviews", reviews.size()},
          {"per_review",
           {{"kendall_tau_loo", per_review_tau_loo},
            {"kendall_tau_abs_loo", per_review_tau_abs_loo},
            {"kendall_tau_gradient_x_input", per_review_tau_gxi},
            {"aopc_comprehensiveness", per_review_aopc}}}};
}

json experiments_summary(const std::vector<ReviewResult>& reviews) {
  std::vector<double> permuted, uniform, jsd, change;
  for (const ReviewResult& review : reviews) {
    permuted.push_back(review.experiments->permuted_median_change);
    uniform.push_back(review.experiments->uniform_change);
    jsd.push_back(review.experiments->adversarial_jsd);
    change.push_back(review.experiments->adversarial_change);
  }
  return {{"permuted_median_abs_change_median", number_or_null(median_of(permuted))},
          {"uniform_abs_change_median", number_or_null(median_of(uniform))},
          {"adversarial_jsd_mean", number_or_null(mean_of(jsd))},
          {"adversarial_jsd_median", number_or_null(median_of(jsd))},
          {"adversarial_abs_change_max", change.empty() ? json() : json(*std::max_element(change.begin(), change.end()))},
          {"per_review", {{"permuted_median_abs_change", rounded_all(permuted)}, {"adversarial_jsd", rounded_all(jsd)}}}};
}

// The evenly spaced sample of test reviews of at most `max_tokens` tokens (0: any length).
std::vector<Review> study_sample(std::vector<Review> all, const FaithfulnessStudyArgs& args, const TokenizerOptions& tokenizer) {
  if (args.max_tokens > 0)
    all.erase(std::remove_if(all.begin(), all.end(),
                             [&](const Review& r) { return tokenize(r.text, tokenizer).size() > args.max_tokens; }),
              all.end());
  return subsample(std::move(all), args.reviews);
}

}  // namespace

int run_faithfulness_study(const FaithfulnessStudyArgs& args) {
  check(!args.models.empty(), "faithfulness-study: name at least one model with --models");
  check(args.reviews > 0, "faithfulness-study: --reviews must be at least 1");
  check(args.threads >= 1 && args.threads <= 64, "faithfulness-study: --threads must be 1 to 64");
  std::cerr << "reading IMDB test reviews from " << locate_imdb(args.data_dir) << std::endl;
  const TokenizerOptions tokenizer = load_classifier(args.models.front()).tokenizer;
  const std::vector<Review> reviews = study_sample(load_imdb(args.data_dir, "test"), args, tokenizer);
  check(!reviews.empty(), "faithfulness-study: no test review has at most " + std::to_string(args.max_tokens) + " tokens");
  size_t tokens = 0;
  for (const Review& r : reviews) tokens += tokenize(r.text, tokenizer).size();
  // Each model's results under its architecture, or under its path when another file given has
  // the same architecture (a network and the same network joined with an n-gram path).
  std::map<std::string, std::string> key_of;
  {
    std::map<std::string, std::vector<std::string>> by_architecture;
    for (const std::string& path : args.models) {
      check(key_of.emplace(path, "").second, "faithfulness-study: " + path + " is named twice in --models");
      by_architecture[load_classifier(path).model->config().architecture].push_back(path);
    }
    for (const auto& [architecture, paths] : by_architecture)
      for (const std::string& path : paths) key_of[path] = paths.size() == 1 ? architecture : path;
  }
  const auto started = std::chrono::steady_clock::now();
  json models = json::object();
  for (const std::string& path : args.models) {
    const auto model_started = std::chrono::steady_clock::now();
    std::vector<ReviewResult> results(reviews.size());
    std::string name;
    bool attention = false;
    std::atomic<size_t> next{0}, done{0};
    std::mutex report;
    std::exception_ptr failure;
    // Each thread its own copy of the model (models keep their activations); reviews are handed
    // out one at a time and every review is computed alone, so the figures do not depend on
    // the number of threads.
    const auto work = [&]() {
      try {
        ClassifierBundle bundle = load_classifier(path);
        for (size_t r; (r = next++) < reviews.size();) {
          results[r] = study_review(bundle, reviews[r].text, args, args.seed + r);
          const size_t finished = ++done;
          if (finished % 50 == 0 || finished == reviews.size()) {
            std::lock_guard<std::mutex> lock(report);
            std::cerr << path << ": " << finished << '/' << reviews.size() << " reviews" << std::endl;
          }
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(report);
        if (!failure) failure = std::current_exception();
        next = reviews.size();
      }
    };
    std::string architecture;
    {
      const ClassifierBundle bundle = load_classifier(path);
      architecture = bundle.model->config().architecture;
      name = key_of.at(path);
      attention = bundle.model->config().has_attention();
    }
    std::vector<std::thread> pool;
    for (int t = 1; t < args.threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    if (failure) std::rethrow_exception(failure);
    json methods = json::object();
    for (const auto& entry : results.front().methods) methods[entry.first] = method_summary(results, entry.first);
    json model = {{"file", path},
                  {"architecture", architecture},
                  {"methods", methods},
                  {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - model_started).count()}};
    if (attention) model["attention_experiments"] = experiments_summary(results);
    models[name] = model;
  }
  const std::string length = args.max_tokens > 0 ? " of at most " + std::to_string(args.max_tokens) + " tokens" : "";
  const json result = {
      {"reviews", reviews.size()},
      {"tokens_mean", reviews.empty() ? json() : json(static_cast<double>(tokens) / static_cast<double>(reviews.size()))},
      {"max_tokens", args.max_tokens},
      {"sample", "IMDB test split (Maas et al. 2011): " + std::to_string(reviews.size()) + " whole reviews" + length +
                     ", evenly spaced over the sorted file list (both classes)"},
      {"seed", args.seed},
      {"integrated_gradients_steps", args.steps},
      {"removal", "delete"},
      {"decision_flip_grid", Faithfulness::kFlipGrid},
      {"threads", args.threads},
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
  cmd->add_option("--models", args.models,
                  "Classifier model files (results under each one's architecture, or under its path when another file "
                  "given has the same architecture)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--methods", args.methods, "Explanation methods")
      ->check(CLI::IsMember({"attention", "attention-rollout", "gradient", "gradient-x-input", "integrated-gradients", "occlusion", "random",
                             "contribution"}));
  cmd->add_option("--reviews", args.reviews, "Test reviews, evenly spaced")->capture_default_str();
  cmd->add_option("--max-tokens", args.max_tokens,
                  "Only reviews of at most this many tokens (0: any length; leave-one-out costs a copy per token)")
      ->capture_default_str();
  cmd->add_option("--threads", args.threads, "Reviews computed at once (the figures do not depend on it)")
      ->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--steps", args.steps, "Integrated gradients: quadrature points")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--seed", args.seed, "Seed of the random method, the random baseline and the attention experiments")->capture_default_str();
  cmd->add_option("--data", args.data_dir, "Data directory holding IMDB")->capture_default_str();
  cmd->add_option("--out", args.out, "Write the results JSON here (default: standard output)");
  return cmd;
}

}  // namespace attnlens::cli
