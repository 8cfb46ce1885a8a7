// Base interfaces for layers. A layer owns its Parameters as members, so copying a
// layer (e.g. to give each training thread a replica) copies its weights and caches.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace attnlens {

// What a backward pass throws in a build without gradients.
[[noreturn]] void no_gradients(const std::string& layer);


// A flag of this thread, set while a guard of it lives (guards nest: each restores what it
// found). Each guard class is its own flag: class Guard : public ThreadFlag<Guard> {}.
template <class Guard>
class ThreadFlag {
 public:
  ThreadFlag() : previous_(active_) { active_ = true; }
  ~ThreadFlag() { active_ = previous_; }
  ThreadFlag(const ThreadFlag&) = delete;
  ThreadFlag& operator=(const ThreadFlag&) = delete;
  static bool active() { return active_; }

 private:
  static inline thread_local bool active_ = false;
  bool previous_;
};

// While an InputGradientsOnly guard lives, backward passes on this thread leave parameter
// gradients alone and compute only dL/d(input): what input attributions (gradient × input,
// and later integrated gradients) need, at a fraction of a training backward pass.
class InputGradientsOnly : public ThreadFlag<InputGradientsOnly> {};

// While a ForwardOnly guard lives, no backward pass follows the forward passes on this thread, so
// layers need not keep what one would need: the self-attention then keeps, of its L × L attention
// matrices, only what each key receives (memory linear in the text's length).
class ForwardOnly : public ThreadFlag<ForwardOnly> {};

class Module {
 public:
  virtual ~Module() = default;
  // Pointers into this object; recomputed on every call, never stored across copies.
  virtual std::vector<Parameter*> parameters() = 0;
};

class SequenceLayer;
class Pooling;
// What every sequence layer and pooling checks of its input: `channels` rows (0: any number),
// steps × batch columns and one length per sample; errors begin with the layer's name().
template <class Layer>
void check_sequence_input(const SequenceBatch& in, int channels, const Layer& layer);

// Zeroes the columns of padding steps (t ≥ length) of a time-major [rows, T*B] matrix.
inline void zero_padding_columns(Matrix& values, int steps, int batch, const std::vector<int>& lengths) {
  for (int t = 0; t < steps; ++t)
    for (int b = 0; b < batch; ++b)
      if (t >= lengths[b]) values.col(static_cast<Eigen::Index>(t) * batch + b).setZero();
}

// A layer from a sequence batch to a sequence batch, its skeleton written once: the public
// forward() and backward() are not virtual; they check their arguments (channels, columns =
// steps × batch, one length per sample; a gradient shaped like the last output) and call the
// layer's private forward_impl() and backward_impl(). backward() accumulates parameter
// gradients (unless InputGradientsOnly is active) and, when grad_in is non-null, writes the
// gradient with respect to the input (used by the layer below and by input attributions).
//
// An engine built with ATTNLENS_GRADIENTS=0 (core/tensor.hpp) has no backward passes: the
// page's inference module (web/dist/attnlens.wasm), which explains by attention. There
// backward() throws, and SequenceLayerOf (below) never refers to a layer's backward_impl, so
// the linker drops every backward pass and every product only they used (about 100 KB of wasm).
class SequenceLayer : public Module {
 public:
  // The channels the layer reads; 0 when it takes any number (ReLU, MaxPool1D).
  virtual int input_channels() const = 0;
  virtual int output_channels() const = 0;
  virtual void init(Rng& rng) = 0;
  // What the layer is, for messages: its type and the name of its first parameter.
  virtual std::string name() const = 0;

  void forward(const SequenceBatch& in, SequenceBatch& out);
  void backward(const SequenceBatch& grad_out, SequenceBatch* grad_in);
  // This layer's and `partner`'s forward passes over the same input at once (a bidirectional
  // layer's two directions), where the layer can run them together faster than one after the
  // other (the recurrent layers, forward only: their steps interleaved). Returns false,
  // having done nothing, where it cannot: then call forward() on each.
  bool forward_with(SequenceLayer& partner, const SequenceBatch& in, SequenceBatch& out, SequenceBatch& partner_out);

 private:
  virtual void forward_impl(const SequenceBatch& in, SequenceBatch& out) = 0;
  virtual bool forward_with_impl(SequenceLayer&, const SequenceBatch&, SequenceBatch&, SequenceBatch&) { return false; }
  virtual void run_backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) = 0;
  Eigen::Index output_rows_ = -1, output_columns_ = -1;  // of the last forward; −1 before the first
};

// What each layer derives from: SequenceLayerOf<MyLayer>. MyLayer defines forward_impl and
// backward_impl (private, with `friend SequenceLayerOf<MyLayer>`) and gets the routing of
// backward() to its backward_impl, in builds with gradients only.
template <class Layer>
class SequenceLayerOf : public SequenceLayer {
 private:
  void run_backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) final {
    if constexpr (kHasGradients) static_cast<Layer&>(*this).backward_impl(grad_out, grad_in);
  }
};

}  // namespace attnlens
