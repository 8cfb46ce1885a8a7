// One direction of a gated recurrent unit in PyTorch's formulation and naming
// (gate order r, z, n; TF.js calls this form resetAfter: true):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)
//   z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//   h' = (1 − z) ⊙ n + z ⊙ h
// GruCell holds these equations (forward: kernels::gru_cell; backward: gru_gate_gradients,
// which GRUCell, the decoders' single step, shares) for the recurrent template
// (layers/recurrent.hpp), which does the rest, masking included.
#pragma once

#include "layers/recurrent.hpp"

namespace attnlens {

// The pre-activation gradients of one GRU step for B samples, from dh = dL/dh' [H, B], the
// activated gates [3H, B] (r, z, n), W_hn h + b_hn [H, B] and h [H, B]: dx = dL/d(W_ih x + b_ih)
// and dhp = dL/d(W_hh h + b_hh), both [3H, B]. dL/dh adds W_hhᵀ dhp + dh ⊙ z.
void gru_gate_gradients(Eigen::Index H, const Array& dh, const Eigen::Ref<const Matrix>& gates,
                        const Eigen::Ref<const Matrix>& hidden_proj_n, const Eigen::Ref<const Matrix>& prev_hidden,
                        Eigen::Ref<Matrix> dx, Eigen::Ref<Matrix> dhp);

class GruCell {
 public:
  static constexpr int kGates = 3;
  static constexpr const char* kName = "GRU";
  static constexpr bool kSharedGradient = false;  // r gates W_hn h + b_hn only

  static void init_biases(Parameter&, Parameter&, Eigen::Index) {}
  static Vector input_bias(const Parameter& bias_ih, const Parameter&) { return bias_ih.value.col(0); }

  // keep: save what backward reads (every step's gates); else only the current step's.
  void begin(Eigen::Index H, Eigen::Index columns, int B, bool keep);
  // W_hh h_{t-1} is added to b_hh, on its own: n needs W_hn h + b_hn apart.
  Matrix& begin_step(Columns projections, const Parameter& bias_hh, Eigen::Index c0, int B);
  void step(int H, Eigen::Index column, int b, Scalar* projection, Scalar* sum, Scalar* hidden, bool carry);
  void end_step(Eigen::Index H, Eigen::Index c0, int B);

  void begin_backward(Eigen::Index, int) {}
  void gate_gradients(Eigen::Index H, Eigen::Index c0, int B, const Array& dh, ConstColumns projections,
                      ConstColumns prev_hidden, Columns dx, Columns dhp);
  void hidden_gradient(Eigen::Index H, Eigen::Index c0, int B, int t, const std::vector<int>& lengths, const Array& dh,
                       ConstColumns projections, Matrix& grad_hidden_prev);

 private:
  Matrix gates_;          // [3H, T*B] r, z, n after their nonlinearities ([3H, B], the current step's, unless kept)
  Matrix hidden_proj_;    // [3H, B]   W_hh h_{t-1} + b_hh of the current step
  Matrix hidden_proj_n_;  // [H, T*B]  W_hn h_{t-1} + b_hn (kept only)
  bool keep_ = true;
};

extern template class Recurrent<GruCell>;
using GRU = Recurrent<GruCell>;

}  // namespace attnlens
