// One direction of a long short-term memory layer in PyTorch's formulation and naming:
//   [i; f; g; o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh       (gate order i, f, g, o)
//   c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g),   h_t = σ(o) ⊙ tanh(c_t)
// Masking: on a padding step the state is carried unchanged and the output is zero, so
// a reverse-direction pass starts each sample at its own last real token.
#pragma once
#include <string>

#include "layers/module.hpp"

namespace attnlens {

class LSTM : public SequenceLayer {
 public:
  LSTM() = default;
  // Parameter names: <prefix>.weight_ih<suffix>, e.g. rnn.weight_ih_l0_reverse.
  LSTM(const std::string& prefix, const std::string& suffix, int input_size, int hidden_size, bool reverse);
  void init(Rng& rng) override;
  int output_channels() const override { return hidden_size_; }
  // in.values [input, T*B] -> out.values [hidden, T*B]
  void forward(const SequenceBatch& in, SequenceBatch& out) override;
  void backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) override;
  std::vector<Parameter*> parameters() override { return {&weight_ih, &weight_hh, &bias_ih, &bias_hh}; }

  Parameter weight_ih;  // [4H, input]
  Parameter weight_hh;  // [4H, H]
  Parameter bias_ih;    // [4H]
  Parameter bias_hh;    // [4H]

 private:
  int hidden_size_ = 0;
  bool reverse_ = false;
  // Saved for backward, all [rows, T*B] in the time-major column layout.
  SequenceBatch input_;
  Matrix gates_;        // [4H, T*B] activated gates σ(i), σ(f), tanh(g), σ(o)
  Matrix cell_;         // [H, T*B] c_t (after carry on padding steps)
  Matrix recurrent_;        // W_hh column-major, for the per-step product
  ParamMatrix recurrent_of_;  // the W_hh it was copied from (recopied only when W_hh changes)
  Matrix prev_hidden_;  // [H, T*B] h_{t-1} seen by step t
  Matrix prev_cell_;    // [H, T*B] c_{t-1} seen by step t
  Matrix grad_preact_;  // [4H, T*B] dL/d(pre-activation gates)
};

}  // namespace attnlens
