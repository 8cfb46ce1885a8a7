// `attnlens bench`: the native side of the benchmark suite (bench/run.mjs runs it once per
// model and puts its JSON beside the wasm, ONNX Runtime and TF.js figures).
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace attnlens::cli {

struct BenchArgs {
  std::string model;
  std::vector<int> tokens = {50, 200, 1000};
  double warmup = 1.0;        // seconds before each timed series
  int runs = 50;              // timed calls per series
  int batch = 128;            // batch size of the throughput figures
  int train_tokens = 200;     // review length of the training figure
  int train_batches = 8;      // timed training batches
  bool peak = false;          // also measure the GEMM/GEMV peak
};

CLI::App* add_bench_command(CLI::App& app, BenchArgs& args);
int run_bench(const BenchArgs& args);

}  // namespace attnlens::cli
