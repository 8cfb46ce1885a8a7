// The one random-number generator of a run. Distributions are implemented here,
// not taken from <random>, whose normal/uniform distributions differ between
// standard libraries: the same seed must give the same weights natively and in wasm.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnlens {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : engine_(seed) {}
  void seed(uint64_t seed) { engine_.seed(seed); has_spare_ = false; }

  uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }
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
  uint64_t below(uint64_t n) { return n == 0 ? 0 : engine_() % n; }

  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

  // The whole state as text (the engine's words in the standard's textual form, then the spare
  // normal), for checkpoints; set_state() takes it back or throws std::invalid_argument.
  std::string state() const {
    std::ostringstream out;
    out << engine_ << ' ' << has_spare_ << ' ' << std::hexfloat << spare_;
    return out.str();
  }
  void set_state(const std::string& text) {
    std::istringstream in(text);
    std::mt19937_64 engine;
    bool has_spare = false;
    std::string spare;
    in >> engine >> has_spare >> spare;
    std::string rest;
    if (in.fail() || (in >> rest)) throw std::invalid_argument("not a random-number generator's state");
    engine_ = engine;
    has_spare_ = has_spare;
    spare_ = std::strtod(spare.c_str(), nullptr);
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace attnlens
