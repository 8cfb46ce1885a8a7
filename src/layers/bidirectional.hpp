// Runs a forward and a reverse recurrent layer over the same input and stacks their
// outputs as PyTorch does: rows [0, H) forward, rows [H, 2H) reverse.
#pragma once
#include <memory>

#include "layers/module.hpp"

namespace attnlens {

class Bidirectional : public SequenceLayerOf<Bidirectional> {
 public:
  Bidirectional() = default;
  // Two layers of one type (LSTM or GRU): a copy of the Bidirectional copies them as that type.
  // Only training copies models (a replica a thread): an engine without gradients cannot copy
  // one, and leaves the copying code out.
  using Copier = std::unique_ptr<SequenceLayer> (*)(const SequenceLayer&);
  template <class Direction>
  static Copier copier() {
    if constexpr (!kHasGradients) return nullptr;
    else return [](const SequenceLayer& layer) -> std::unique_ptr<SequenceLayer> {
      return std::make_unique<Direction>(static_cast<const Direction&>(layer));
    };
  }
  template <class Direction>
  Bidirectional(std::unique_ptr<Direction> forward_layer, std::unique_ptr<Direction> reverse_layer)
      : Bidirectional(std::move(forward_layer), std::move(reverse_layer), copier<Direction>()) {}
  // The same for layers built as SequenceLayer, with copier<TheirType>().
  Bidirectional(std::unique_ptr<SequenceLayer> forward_layer, std::unique_ptr<SequenceLayer> reverse_layer, Copier copy);
  Bidirectional(const Bidirectional& other);
  Bidirectional& operator=(const Bidirectional& other);

  void init(Rng& rng) override;
  int input_channels() const override { return forward_->input_channels(); }
  int output_channels() const override;
  std::string name() const override { return "Bidirectional " + forward_->name(); }
  std::vector<Parameter*> parameters() override;

 private:
  friend SequenceLayerOf<Bidirectional>;
  std::unique_ptr<SequenceLayer> copy_of(const std::unique_ptr<SequenceLayer>& layer) const;
  // in [C, T*B] -> out [H_fwd + H_rev, T*B]
  void forward_impl(const SequenceBatch& in, SequenceBatch& out) override;
  // dL/dx = dL/dx(forward half) + dL/dx(reverse half)
  void backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in);
  std::unique_ptr<SequenceLayer> forward_, reverse_;
  Copier copy_ = nullptr;  // copies a direction as its own type (only the types wrapped are compiled in)
  SequenceBatch forward_out_, reverse_out_, grad_half_, grad_in_reverse_;
};

}  // namespace attnlens
