#include "train/data_parallel.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include "core/error.hpp"

namespace attnlens {

void parallel_ranges(size_t n, int threads, const std::function<void(size_t, size_t, size_t)>& work) {
  const size_t parts = std::max<size_t>(1, std::min<size_t>(n, static_cast<size_t>(std::max(1, threads))));
  std::vector<std::string> errors(parts);
  const auto run = [&](size_t part) {
    try {
      work(part, n * part / parts, n * (part + 1) / parts);
    } catch (const std::exception& e) {
      errors[part] = e.what();
    }
  };
  std::vector<std::thread> pool;
  for (size_t part = 1; part < parts; ++part) pool.emplace_back(run, part);
  run(0);
  for (auto& t : pool) t.join();
  for (const auto& e : errors) check(e.empty(), e);
}

void BestWeights::record(bool improved, Module& model) {
  if (!improved) {
    ++stale_epochs_;
    return;
  }
  stale_epochs_ = 0;
  weights_.clear();
  for (Parameter* p : model.parameters()) weights_.push_back(p->value);
}

void BestWeights::restore(Module& model) const {
  auto params = model.parameters();
  for (size_t k = 0; k < weights_.size(); ++k) params[k]->value = weights_[k];
}

void ProgressReporter::update(size_t done, double mean_loss, double accuracy) {
  if (!callback_) return;
  const auto now = Clock::now();
  if (now - last_ <= std::chrono::milliseconds(250) && done != total_) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - started_).count();
  Progress p{epoch_, epochs_, done, total_, mean_loss, accuracy, static_cast<double>(done) / std::max(elapsed, 1e-9), 0};
  p.eta_seconds = static_cast<double>(total_ - done) / std::max(p.examples_per_second, 1e-9);
  callback_(p);
}

}  // namespace attnlens
