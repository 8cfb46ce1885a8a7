// One direction of a long short-term memory layer in PyTorch's formulation and naming:
//   [i; f; g; o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh       (gate order i, f, g, o)
//   c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g),   h_t = σ(o) ⊙ tanh(c_t)
// LstmCell holds these equations for the recurrent template (layers/recurrent.hpp), which
// does the rest: LSTM("rnn", "_l0", input, hidden, reverse) has PyTorch's parameters
// rnn.weight_ih_l0 [4H, input], rnn.weight_hh_l0 [4H, H], rnn.bias_ih_l0, rnn.bias_hh_l0 [4H].
#pragma once

#include "layers/recurrent.hpp"

namespace attnlens {

class LstmCell {
 public:
  static constexpr int kGates = 4;
  static constexpr const char* kName = "LSTM";
  static constexpr bool kSharedGradient = true;  // the gates' pre-activation is one sum

  // Forget-gate bias 1 (Jozefowicz et al. 2015).
  static void init_biases(Parameter& bias_ih, Parameter&, Eigen::Index H) { bias_ih.value.middleRows(H, H).setOnes(); }
  // Both biases are folded into the input projection: W_ih x + (b_ih + b_hh).
  static Vector input_bias(const Parameter& bias_ih, const Parameter& bias_hh) { return (bias_ih.value + bias_hh.value).col(0); }

  // keep: save what backward reads (every step's cell state); else only the running state.
  void begin(Eigen::Index H, Eigen::Index columns, int B, bool keep);
  // W_hh h_{t-1} is added to the step's projections, which the step turns into its gates.
  Columns begin_step(Columns projections, const Parameter& bias_hh, Eigen::Index c0, int B);
  // One sample: the fused gate functions leave σ(i), σ(f), tanh(g), σ(o) in `sum` (saved for
  // backward) and write h_t; a carried (padding) step leaves the cell state as it was.
  void step(int H, Eigen::Index column, int b, Scalar* projection, Scalar* sum, Scalar* hidden, bool carry);
  void end_step(Eigen::Index H, Eigen::Index c0, int B);

  void begin_backward(Eigen::Index H, int B);
  void gate_gradients(Eigen::Index H, Eigen::Index c0, int B, const Array& dh, ConstColumns gates, ConstColumns prev_hidden,
                      Columns dz, Columns unused);
  void hidden_gradient(Eigen::Index H, Eigen::Index c0, int B, int t, const std::vector<int>& lengths, const Array& dh,
                       ConstColumns gates, Matrix& grad_hidden_prev);

 private:
  Matrix cell_;       // [H, T*B] c_t (after carry on padding steps; kept only)
  Matrix prev_cell_;  // [H, T*B] c_{t-1} seen by step t (kept only)
  bool keep_ = true;
  Matrix state_;      // [H, B] the running c
  Vector scratch_;    // c of a carried step
  Matrix grad_cell_;  // [H, B] dL/dc_t flowing back from step t+1
  Array dc_, tanh_c_;
};

extern template class Recurrent<LstmCell>;
using LSTM = Recurrent<LstmCell>;

}  // namespace attnlens
