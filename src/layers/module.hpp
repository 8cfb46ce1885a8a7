// Base interfaces for layers. A layer owns its Parameters as members, so copying a
// layer (e.g. to give each training thread a replica) copies its weights and caches.
#pragma once
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"

// An engine built with ATTNLENS_GRADIENTS=0 (core/tensor.hpp) has no backward passes: the page's
// inference module (web/dist/attnlens.wasm), which explains by attention and needs none. Each
// backward pass begins with ATTNLENS_REQUIRE_GRADIENTS; in such a build that throws, and the
// compiler drops the rest of the pass and every product only it used (103 KB of wasm).
namespace attnlens {

[[noreturn]] inline void no_gradients(const char* layer) {
  throw Error(std::string(layer) +
              " backward: this build of attnlens has no gradients (training and gradient explanations need the full "
              "engine, e.g. web/dist/attnlens-train.js)");
}

#define ATTNLENS_REQUIRE_GRADIENTS(layer) \
  do {                                    \
    if constexpr (!::attnlens::kHasGradients) ::attnlens::no_gradients(layer); \
  } while (0)

// While an InputGradientsOnly guard lives, backward passes on this thread leave parameter
// gradients alone and compute only dL/d(input): what input attributions (gradient × input,
// and later integrated gradients) need, at a fraction of a training backward pass.
class InputGradientsOnly {
 public:
  InputGradientsOnly() : previous_(active_) { active_ = true; }
  ~InputGradientsOnly() { active_ = previous_; }
  InputGradientsOnly(const InputGradientsOnly&) = delete;
  InputGradientsOnly& operator=(const InputGradientsOnly&) = delete;
  static bool active() { return active_; }

 private:
  static inline thread_local bool active_ = false;
  bool previous_;
};

class Module {
 public:
  virtual ~Module() = default;
  // Pointers into this object; recomputed on every call, never stored across copies.
  virtual std::vector<Parameter*> parameters() = 0;
};

// Zeroes the columns of padding steps (t ≥ length) of a time-major [rows, T*B] matrix.
inline void zero_padding_columns(Matrix& values, int steps, int batch, const std::vector<int>& lengths) {
  for (int t = 0; t < steps; ++t)
    for (int b = 0; b < batch; ++b)
      if (t >= lengths[b]) values.col(static_cast<Eigen::Index>(t) * batch + b).setZero();
}

// A layer from a sequence batch to a sequence batch with the same steps and lengths.
// backward() accumulates parameter gradients (unless InputGradientsOnly is active) and, when
// grad_in is non-null, writes the gradient with respect to the input (used by the layer below
// and by input attributions).
class SequenceLayer : public Module {
 public:
  virtual int output_channels() const = 0;
  virtual void forward(const SequenceBatch& in, SequenceBatch& out) = 0;
  virtual void backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) = 0;
  virtual void init(Rng& rng) = 0;
};

}  // namespace attnlens
