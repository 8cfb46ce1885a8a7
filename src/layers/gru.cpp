#include "layers/gru.hpp"

namespace attnlens {

void gru_gate_gradients(Eigen::Index H, const Array& dh, const Eigen::Ref<const Matrix>& gates,
                        const Eigen::Ref<const Matrix>& hidden_proj_n, const Eigen::Ref<const Matrix>& prev_hidden,
                        Eigen::Ref<Matrix> dx, Eigen::Ref<Matrix> dhp) {
  const auto g = gates.array();
  const auto r = g.topRows(H), z = g.middleRows(H, H), n = g.bottomRows(H);
  // h' = (1 − z) n + z h:  dL/dn = dh (1 − z), dL/dz = dh (h − n), direct dL/dh = dh z.
  dx.bottomRows(H).array() = dh * (1 - z) * (1 - n.square());                                   // n ∋ W_in x + b_in, through tanh
  dhp.bottomRows(H).array() = dx.bottomRows(H).array() * r;                                     // n ∋ r ⊙ (W_hn h + b_hn)
  dx.topRows(H).array() = dx.bottomRows(H).array() * hidden_proj_n.array() * r * (1 - r);        // r's pre-activation
  dx.middleRows(H, H).array() = dh * (prev_hidden.array() - n) * z * (1 - z);                  // z's pre-activation
  dhp.topRows(2 * H) = dx.topRows(2 * H);                                                        // r, z: x and h enter the same sum
}

void GruCell::begin(Eigen::Index H, Eigen::Index columns, int B, bool keep) {
  keep_ = keep;
  gates_.resize(3 * H, keep ? columns : B);
  if (keep) hidden_proj_n_.resize(H, columns);
  else hidden_proj_n_.resize(0, 0);
  hidden_proj_.resize(3 * H, B);
}

Matrix& GruCell::begin_step(Columns, const Parameter& bias_hh, Eigen::Index, int) {
  hidden_proj_.colwise() = bias_hh.value.col(0);
  return hidden_proj_;
}

void GruCell::step(int H, Eigen::Index column, int b, Scalar* projection, Scalar* sum, Scalar* hidden, bool) {
  kernels::gru_cell(H, projection, sum, gates_.col(keep_ ? column : b).data(), hidden);  // a carried step's hidden is a copy
}

void GruCell::end_step(Eigen::Index H, Eigen::Index c0, int B) {
  if (keep_) hidden_proj_n_.middleCols(c0, B) = hidden_proj_.bottomRows(H);
}

void GruCell::gate_gradients(Eigen::Index H, Eigen::Index c0, int B, const Array& dh, ConstColumns, ConstColumns prev_hidden,
                             Columns dx, Columns dhp) {
  gru_gate_gradients(H, dh, gates_.middleCols(c0, B), hidden_proj_n_.middleCols(c0, B), prev_hidden, dx, dhp);
}

void GruCell::hidden_gradient(Eigen::Index H, Eigen::Index c0, int B, int, const std::vector<int>&, const Array& dh,
                              ConstColumns, Matrix& grad_hidden_prev) {
  grad_hidden_prev.array() += dh * gates_.middleCols(c0, B).array().middleRows(H, H);  // h' ∋ z ⊙ h
}

template class Recurrent<GruCell>;

}  // namespace attnlens
