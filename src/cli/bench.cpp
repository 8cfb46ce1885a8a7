#include "cli/bench.hpp"

#include <fstream>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "cli/common.hpp"
#include "io/model_file.hpp"
#include "pipeline/classify.hpp"
#include "train/trainer.hpp"

namespace attnlens::cli {

namespace {

json timing_json(const bench::Timing& t) { return {{"median_ms", t.median_ms}, {"p95_ms", t.p95_ms}, {"runs", t.runs}}; }

// The process's peak resident set so far (VmHWM), in bytes; 0 where /proc is missing.
double peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return 1024.0 * std::stod(line.substr(6));
  return 0;
}

// Resets VmHWM to the current resident set (writing 5 to /proc/self/clear_refs, Linux ≥ 4.0), so
// the next peak_rss_bytes() is the peak of what runs after; false where that is not possible.
bool reset_peak_rss() {
#ifdef __GLIBC__
  malloc_trim(0);  // hand back what the batch inference freed, or glibc keeps it resident and it counts
#endif
  std::ofstream clear("/proc/self/clear_refs");
  if (!clear) return false;
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, BenchArgs& args) {
  auto* cmd = app.add_subcommand("bench", "Time a classifier natively (one thread): latency, batch throughput, training "
                                          "throughput, GFLOP/s and peak memory, as JSON");
  cmd->add_option("--model", args.model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--tokens", args.tokens, "Review lengths to time")->delimiter(',')->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--warmup", args.warmup, "Seconds of untimed calls before each series")->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  cmd->add_option("--runs", args.runs, "Timed calls per series")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--batch", args.batch, "Reviews per batch for the throughput figures")->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--train-tokens", args.train_tokens, "Review length of the training figure")->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--train-batches", args.train_batches, "Timed training batches (0: skip training)")
      ->check(CLI::Range(0, 100000))->capture_default_str();
  cmd->add_flag("--peak", args.peak, "Also measure this machine's single-thread GEMM/GEMV peak");
  return cmd;
}

int run_bench(const BenchArgs& args) {
  ClassifierBundle bundle = load_classifier(args.model);
  const ClassifierConfig config = bundle.model->config();  // a copy: the bundle is reloaded before training
  json out = {{"model", args.model},
              {"architecture", config.architecture},
              {"parameters", bundle.model->parameter_count()},
              {"machine", machine_description()},
              {"threads", 1}};
  if (args.peak) {
    const bench::Peak peak = bench::measure_peak(std::max(1.0, args.warmup));
    out["peak"] = {{"gemm_gflops", peak.gemm_gflops}, {"gemv_gflops", peak.gemv_gflops},
                   {"packed_gemm_gflops", peak.packed_gemm_gflops},
                   {"gemm_size", peak.gemm_size}, {"gemv_size", peak.gemv_size}};
  }
  json rows = json::array();
  for (const int n : args.tokens) {
    const std::string text = bench::synthetic_review(bundle.vocabulary, n);
    const Prediction check_tokens = classify(bundle, text);
    check(static_cast<int>(check_tokens.tokens.size()) == n, "bench: the synthetic review has " +
                                                               std::to_string(check_tokens.tokens.size()) + " tokens, not " + std::to_string(n));
    const std::vector<std::string> one = {text};
    const bench::Timing forward = bench::time_calls([&] { attnlens::predict(bundle, one); }, args.warmup, args.runs);
    const bench::Timing explain = bench::time_calls([&] { classify(bundle, text); }, args.warmup, args.runs);
    std::vector<std::string> batch;
    for (int b = 0; b < args.batch; ++b) batch.push_back(bench::synthetic_review(bundle.vocabulary, n, b));
    const int batch_runs = std::max(3, std::min(args.runs, static_cast<int>(2000.0 / n)));
    const bench::Timing batched = bench::time_calls([&] { attnlens::predict(bundle, batch); }, args.warmup, batch_runs);
    const double flops = bench::forward_flops(config, n);
    json row = {{"tokens", n},
                {"forward_flops", flops},
                {"predict", timing_json(forward)},
                {"classify", timing_json(explain)},
                {"batch", {{"size", args.batch}, {"timing", timing_json(batched)},
                           {"reviews_per_second", 1000.0 * args.batch / batched.median_ms}}},
                {"predict_gflops", flops / (forward.median_ms * 1e6)},
                {"batch_gflops", flops * args.batch / (batched.median_ms * 1e6)}};
    rows.push_back(row);
    std::cerr << config.architecture << " " << n << " tokens: predict " << forward.median_ms << " ms, classify "
              << explain.median_ms << " ms, batch of " << args.batch << " " << batched.median_ms << " ms" << std::endl;
  }
  out["rows"] = rows;
  out["peak_rss_bytes"] = peak_rss_bytes();  // loading and inference (before the training below)
  if (args.train_batches > 0) {
    // Training: batches of `batch` reviews of train_tokens tokens with alternating labels, one thread.
    // From a freshly loaded model: the one above still holds its layers' caches of the largest batch.
    bundle = load_classifier(args.model);
    std::vector<Example> examples(static_cast<size_t>(args.batch));
    std::vector<size_t> indices(examples.size());
    for (size_t i = 0; i < examples.size(); ++i) {
      examples[i].ids = encode(tokenize(bench::synthetic_review(bundle.vocabulary, args.train_tokens, static_cast<int>(i)),
                                        bundle.tokenizer), bundle.vocabulary);
      examples[i].label = static_cast<float>(i % 2);
      indices[i] = i;
    }
    Classifier model(config);
    model = *bundle.model;
    TrainOptions options;
    options.threads = 1;
    options.batch_size = args.batch;
    options.max_length = args.train_tokens;
    Trainer trainer(model, options);
    const bool peak_reset = reset_peak_rss();  // the training peak alone, not the batch inference above
    const bench::Timing step = bench::time_calls([&] { trainer.train_batch(examples, indices); }, args.warmup, args.train_batches);
    const double flops = 3 * bench::forward_flops(config, args.train_tokens) * args.batch;
    out["training"] = {{"batch", args.batch},
                       {"tokens", args.train_tokens},
                       {"timing", timing_json(step)},
                       {"reviews_per_second", 1000.0 * args.batch / step.median_ms},
                       {"flops_per_batch", flops},
                       {"gflops", flops / (step.median_ms * 1e6)},
                       {"peak_rss_bytes", peak_reset ? json(peak_rss_bytes()) : json(nullptr)}};
    std::cerr << config.architecture << " training: " << 1000.0 * args.batch / step.median_ms << " reviews/s" << std::endl;
  }
  std::cout << out.dump(2) << std::endl;
  return 0;
}

}  // namespace attnlens::cli
