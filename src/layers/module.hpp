// Base interfaces for layers. A layer owns its Parameters as members, so copying a
// layer (e.g. to give each training thread a replica) copies its weights and caches.
#pragma once
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace attnlens {

class Module {
 public:
  virtual ~Module() = default;
  // Pointers into this object; recomputed on every call, never stored across copies.
  virtual std::vector<Parameter*> parameters() = 0;
};

// A layer from a sequence batch to a sequence batch with the same steps and lengths.
// backward() accumulates parameter gradients and, when grad_in is non-null, writes the
// gradient with respect to the input (used by the layer below and by input attributions).
class SequenceLayer : public Module {
 public:
  virtual int output_channels() const = 0;
  virtual void forward(const SequenceBatch& in, SequenceBatch& out) = 0;
  virtual void backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) = 0;
  virtual void init(Rng& rng) = 0;
};

}  // namespace attnlens
