#include "bench/bench.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/error.hpp"
#include "core/kernels.hpp"
#include "core/tensor.hpp"

namespace attnlens::bench {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }
}  // namespace

Timing time_calls(const std::function<void()>& fn, double warmup_seconds, int runs) {
  check(runs >= 1, "bench: runs must be at least 1");
  const auto warmup_start = Clock::now();
  do fn();
  while (seconds_since(warmup_start) < warmup_seconds);
  std::vector<double> ms(static_cast<size_t>(runs));
  for (double& t : ms) {
    const auto start = Clock::now();
    fn();
    t = 1000 * seconds_since(start);
  }
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))]; };
  return {at(0.5), at(0.95), runs};
}

Peak measure_peak(double seconds_each) {
  // Sizes that fit the cache hierarchy the way the models' products do: GEMM big enough for
  // Eigen's blocked kernel to reach its peak, GEMV with the matrix (1 MB) in L2.
  Peak peak;
  peak.gemm_size = 256;
  peak.gemv_size = 512;
  const Eigen::Index n = peak.gemm_size, m = peak.gemv_size;
  const Matrix a = Matrix::Random(n, n), b = Matrix::Random(n, n);
  Matrix c(n, n);
  // Each timed call repeats the product so it lasts well over a browser's coarse timer (0.1 ms).
  constexpr int kGemmRepeats = 4, kGemvRepeats = 256;
  const Timing gemm = time_calls([&] { for (int r = 0; r < kGemmRepeats; ++r) c.noalias() = a * b; }, seconds_each / 2,
                                 std::max(5, static_cast<int>(10 * seconds_each)));
  peak.gemm_gflops = kGemmRepeats * 2.0 * static_cast<double>(n * n * n) / (gemm.median_ms * 1e6);
  const ParamMatrix w = ParamMatrix::Random(m, m);  // row-major, as the engine stores weights
  const Vector x = Vector::Random(m);
  Vector y(m);
  const Timing gemv = time_calls([&] { for (int r = 0; r < kGemvRepeats; ++r) y.noalias() = w * x; }, seconds_each / 2,
                                 std::max(5, static_cast<int>(10 * seconds_each)));
  peak.gemv_gflops = kGemvRepeats * 2.0 * static_cast<double>(m * m) / (gemv.median_ms * 1e6);
  // The packed GEMM on the same size: W packed once, as a layer's weights are at load.
  kernels::PackedWeights packed;
  packed.repack(a);
  Matrix packed_out(n, n);
  const Timing packed_gemm = time_calls(
      [&] {
        for (int r = 0; r < kGemmRepeats; ++r)
          kernels::gemm(packed, nullptr, b.data(), n, static_cast<int>(n), packed_out.data());
      },
      seconds_each / 2, std::max(5, static_cast<int>(10 * seconds_each)));
  peak.packed_gemm_gflops = kGemmRepeats * 2.0 * static_cast<double>(n * n * n) / (packed_gemm.median_ms * 1e6);
  check(std::isfinite(c.sum()) && std::isfinite(y.sum()) && std::isfinite(packed_out.sum()),
        "bench: peak products are not finite");  // keeps them live
  return peak;
}

double forward_flops(const ClassifierConfig& config, int tokens) {
  double flops = 0, channels = config.embedding_dim, steps = tokens;
  for (const LayerSpec& s : config.encoder_layers()) {
    if (s.type == "lstm" || s.type == "gru") {
      const double gates = s.type == "lstm" ? 4 : 3, h = s.size, directions = s.bidirectional ? 2 : 1;
      flops += directions * steps * (2 * gates * h * (channels + h) + 10 * h);
      channels = directions * h;
    } else if (s.type == "conv1d") {
      const double out_steps = s.padding == "valid" ? std::max(0.0, steps - s.kernel_size + 1) : steps;
      flops += 2 * s.size * channels * s.kernel_size * out_steps;
      channels = s.size;
      steps = out_steps;
    } else if (s.type == "relu") {
      flops += channels * steps;
    } else if (s.type == "maxpool1d") {
      flops += channels * steps;
      steps = std::ceil(steps / s.pool_size);
    } else if (s.type == "transformer") {
      const double d = channels, f = s.feedforward;
      const double per_layer = 2 * 4 * d * d * steps      // Q, K, V and output projections
                               + 2 * 2 * steps * steps * d  // scores and the weighted sum, over all heads
                               + 3 * s.heads * steps * steps  // softmax
                               + 2 * 2 * d * f * steps       // feed-forward
                               + 2 * 8 * d * steps;          // two layer norms
      flops += s.layers * per_layer + 8 * d * steps;         // and the final layer norm
    }
  }
  if (config.pooling == "attention") flops += 4 * channels * steps + 3 * steps;
  else if (config.pooling != "last") flops += channels * steps;
  for (int units : config.dense) {
    flops += 2 * channels * units;
    channels = units;
  }
  return flops + 2 * channels;
}

std::string synthetic_review(const Vocabulary& vocabulary, int tokens, int offset) {
  std::vector<std::string_view> words;
  for (int32_t id = 2; id < std::min(vocabulary.size(), 502); ++id) {
    const std::string_view w = vocabulary.word(id);
    if (!w.empty() && std::all_of(w.begin(), w.end(), [](unsigned char c) { return c >= 'a' && c <= 'z'; })) words.push_back(w);
  }
  check(!words.empty(), "bench: the vocabulary has no alphabetic words among its first 500");
  std::string text;
  for (int i = 0; i < tokens; ++i) {
    if (i) text += ' ';
    text += words[static_cast<size_t>(i + offset) % words.size()];
  }
  return text;
}

}  // namespace attnlens::bench
