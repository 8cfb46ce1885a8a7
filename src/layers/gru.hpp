// One direction of a gated recurrent unit in PyTorch's formulation and naming
// (gate order r, z, n; TF.js calls this form resetAfter: true):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)
//   z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//   h' = (1 − z) ⊙ n + z ⊙ h
// Masking as in the LSTM: on a padding step the state is carried and the output is zero.
#pragma once
#include <string>

#include "layers/module.hpp"

namespace attnlens {

class GRU : public SequenceLayer {
 public:
  GRU() = default;
  GRU(const std::string& prefix, const std::string& suffix, int input_size, int hidden_size, bool reverse);
  void init(Rng& rng) override;
  int output_channels() const override { return hidden_size_; }
  // in.values [input, T*B] -> out.values [hidden, T*B]
  void forward(const SequenceBatch& in, SequenceBatch& out) override;
  void backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) override;
  std::vector<Parameter*> parameters() override { return {&weight_ih, &weight_hh, &bias_ih, &bias_hh}; }

  Parameter weight_ih;  // [3H, input]
  Parameter weight_hh;  // [3H, H]
  Parameter bias_ih;    // [3H]
  Parameter bias_hh;    // [3H]

 private:
  int hidden_size_ = 0;
  bool reverse_ = false;
  SequenceBatch input_;
  Matrix input_proj_;    // [3H, T*B] W_ih x + b_ih
  Matrix gates_;         // [3H, T*B] r, z, n after their nonlinearities
  Matrix hidden_proj_n_; // [H, T*B]  W_hn h_{t-1} + b_hn
  Matrix recurrent_;        // W_hh column-major, for the per-step product
  ParamMatrix recurrent_of_;  // the W_hh it was copied from (recopied only when W_hh changes)
  Matrix prev_hidden_;   // [H, T*B]  h_{t-1} seen by step t
  Matrix grad_input_pre_, grad_hidden_pre_;  // [3H, T*B] dL/d(W_ih x + b_ih), dL/d(W_hh h + b_hh)
};

}  // namespace attnlens
