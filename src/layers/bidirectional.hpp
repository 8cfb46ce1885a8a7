// Runs a forward and a reverse recurrent layer over the same input and stacks their
// outputs as PyTorch does: rows [0, H) forward, rows [H, 2H) reverse.
#pragma once
#include <memory>

#include "layers/module.hpp"

namespace attnlens {

class Bidirectional : public SequenceLayerOf<Bidirectional> {
 public:
  Bidirectional() = default;
  Bidirectional(std::unique_ptr<SequenceLayer> forward_layer, std::unique_ptr<SequenceLayer> reverse_layer);
  Bidirectional(const Bidirectional& other);
  Bidirectional& operator=(const Bidirectional& other);

  void init(Rng& rng) override;
  int input_channels() const override { return forward_->input_channels(); }
  int output_channels() const override;
  std::string name() const override { return "Bidirectional " + forward_->name(); }
  std::vector<Parameter*> parameters() override;

 private:
  friend SequenceLayerOf<Bidirectional>;
  // in [C, T*B] -> out [H_fwd + H_rev, T*B]
  void forward_impl(const SequenceBatch& in, SequenceBatch& out) override;
  // dL/dx = dL/dx(forward half) + dL/dx(reverse half)
  void backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in);
  std::unique_ptr<SequenceLayer> forward_, reverse_;
  SequenceBatch forward_out_, reverse_out_, grad_half_, grad_in_reverse_;
};

}  // namespace attnlens
