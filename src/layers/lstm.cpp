#include "layers/lstm.hpp"

namespace attnlens {

void LstmCell::begin(Eigen::Index H, Eigen::Index columns, int B, bool keep) {
  keep_ = keep;
  cell_.resize(H, keep ? columns : 0);
  prev_cell_.resize(H, keep ? columns : 0);
  state_ = Matrix::Zero(H, B);
  scratch_.resize(H);
}

Columns LstmCell::begin_step(Columns projections, const Parameter&, Eigen::Index c0, int B) {
  if (keep_) prev_cell_.middleCols(c0, B) = state_;
  return projections;
}

void LstmCell::step(int H, Eigen::Index, int b, Scalar*, Scalar* sum, Scalar* hidden, bool carry) {
  Scalar* cell = state_.col(b).data();
  if (carry) {
    scratch_ = state_.col(b);
    cell = scratch_.data();
  }
  kernels::lstm_cell(H, sum, cell, hidden);
}

void LstmCell::end_step(Eigen::Index, Eigen::Index c0, int B) {
  if (keep_) cell_.middleCols(c0, B) = state_;
}

void LstmCell::begin_backward(Eigen::Index H, int B) {
  grad_cell_ = Matrix::Zero(H, B);
  dc_.resize(H, B);
  tanh_c_.resize(H, B);
}

void LstmCell::gate_gradients(Eigen::Index H, Eigen::Index c0, int B, const Array& dh, ConstColumns gates, ConstColumns,
                              Columns dz, Columns) {
  const auto a = gates.array();
  const auto i = a.topRows(H), f = a.middleRows(H, H), g = a.middleRows(2 * H, H), o = a.bottomRows(H);
  tanh_c_ = cell_.middleCols(c0, B).array().tanh();
  // h_t = o ⊙ tanh(c_t), so dL/dc_t = dL/dh_t ⊙ o ⊙ (1 − tanh² c_t) + dL/dc_t from step t+1.
  dc_ = grad_cell_.array() + dh * o * (1 - tanh_c_.square());
  // Pre-activation gradients, with σ' = σ(1 − σ) and tanh' = 1 − tanh².
  dz.topRows(H).array() = dc_ * g * i * (1 - i);                                          // i: c_t ∋ i ⊙ g
  dz.middleRows(H, H).array() = dc_ * prev_cell_.middleCols(c0, B).array() * f * (1 - f);  // f: c_t ∋ f ⊙ c_{t-1}
  dz.middleRows(2 * H, H).array() = dc_ * i * (1 - g.square());                            // g: c_t ∋ i ⊙ g
  dz.bottomRows(H).array() = dh * tanh_c_ * o * (1 - o);                                   // o: h_t = o ⊙ tanh c_t
}

void LstmCell::hidden_gradient(Eigen::Index H, Eigen::Index, int B, int t, const std::vector<int>& lengths, const Array&,
                               ConstColumns gates, Matrix&) {
  // dL/dc_{t-1} = dc ⊙ f on a real step; a carried step passes dL/dc through unchanged.
  const auto f = gates.array().middleRows(H, H);
  for (int b = 0; b < B; ++b)
    if (t < lengths[b]) grad_cell_.col(b) = (dc_.col(b) * f.col(b)).matrix();
}

template class Recurrent<LstmCell>;

}  // namespace attnlens
