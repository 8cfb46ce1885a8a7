// Measurement helpers shared by `attnlens bench` (native) and the training module's wasm
// bindings (wasm in node and Chromium), so both sides time and count work the same way.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "models/classifier.hpp"
#include "text/vocabulary.hpp"

namespace attnlens::bench {

struct Timing {
  double median_ms = 0, p95_ms = 0;
  int runs = 0;
};

// Calls fn for warmup_seconds (caches, branch predictors, V8's optimising tier), then times
// `runs` calls one by one.
Timing time_calls(const std::function<void()>& fn, double warmup_seconds, int runs);

// This machine's single-thread peak on the engine's own float kernels, in GFLOP/s (2 per
// multiply-add): Eigen's GEMM of two size × size matrices and GEMV of a size × size matrix by a
// vector, and the packed GEMM the models' layers run (kernels::gemm: in wasm the loaded kernel
// module's, so SIMD128 or relaxed SIMD as loaded) of a packed size × size W by size columns.
struct Peak {
  double gemm_gflops = 0, gemv_gflops = 0, packed_gemm_gflops = 0;
  int gemm_size = 0, gemv_size = 0;
};
Peak measure_peak(double seconds_each);

// FLOPs (2 per multiply-add, plus the softmax/nonlinearity work of attention and gates counted
// as one per element) of one forward pass over one review of `tokens` tokens. Training is
// counted as three times this (forward, and a backward that costs two).
double forward_flops(const ClassifierConfig& config, int tokens);

// A review of exactly `tokens` tokens made of the vocabulary's common alphabetic words
// (ids 2…501), starting `offset` words in: the same text the JS benchmarks build.
std::string synthetic_review(const Vocabulary& vocabulary, int tokens, int offset = 0);

}  // namespace attnlens::bench
