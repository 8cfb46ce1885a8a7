// The one random-number generator of a run. Distributions are implemented here,
// not taken from <random>, whose normal/uniform distributions differ between
// standard libraries: the same seed must give the same weights natively and in wasm.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnlens {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : engine_(seed), seed_(seed) {}
  void seed(uint64_t seed) {
    engine_.seed(seed);
    seed_ = seed;
    draws_ = 0;
    has_spare_ = false;
  }

  uint64_t next_u64() { return draw(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(draw() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal via Box-Muller.
  double normal() {
    if (has_spare_) { has_spare_ = false; return spare_; }
    double u1 = uniform();
    while (u1 <= 1e-300) u1 = uniform();
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586 * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return n == 0 ? 0 : draw() % n; }

  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

  // The whole state as text, for checkpoints: the seed, how many numbers have been drawn since,
  // and the spare normal. set_state() takes it back (replaying the draws, at most 2^32: seconds) or throws
  // std::invalid_argument. (Not the engine's own textual form: iostreams would add 100 KB to
  // the wasm trainer.)
  std::string state() const {
    char text[96];
    std::snprintf(text, sizeof text, "%llu %llu %d %a", static_cast<unsigned long long>(seed_),
                  static_cast<unsigned long long>(draws_), has_spare_ ? 1 : 0, spare_);
    return text;
  }
  void set_state(const std::string& text) {
    unsigned long long seed = 0, draws = 0;
    int has_spare = 0, used = 0;
    double spare = 0;
    if (std::sscanf(text.c_str(), "%llu %llu %d %la%n", &seed, &draws, &has_spare, &spare, &used) != 4 ||
        static_cast<size_t>(used) != text.size() || (has_spare != 0 && has_spare != 1) || draws > (1ull << 32))
      throw std::invalid_argument("not a random-number generator's state");
    engine_.seed(seed);
    engine_.discard(draws);
    seed_ = seed;
    draws_ = draws;
    has_spare_ = has_spare == 1;
    spare_ = spare;
  }

 private:
  uint64_t draw() {
    ++draws_;
    return engine_();
  }

  std::mt19937_64 engine_;
  uint64_t seed_ = 0, draws_ = 0;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace attnlens
