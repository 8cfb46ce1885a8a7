#include "layers/gru_cell.hpp"

#include "core/error.hpp"
#include "core/init.hpp"
#include "core/kernels.hpp"
#include "layers/gru.hpp"

namespace attnlens {

GRUCell::GRUCell(const std::string& prefix, int input_size, int hidden_size)
    : weight_ih(prefix + ".weight_ih", {3 * hidden_size, input_size}),
      weight_hh(prefix + ".weight_hh", {3 * hidden_size, hidden_size}),
      bias_ih(prefix + ".bias_ih", {3 * hidden_size}),
      bias_hh(prefix + ".bias_hh", {3 * hidden_size}) {
  check(input_size > 0 && hidden_size > 0, "gru cell: sizes must be positive");
}

void GRUCell::init(Rng& rng) {
  const Eigen::Index H = hidden_size();
  for (int gate = 0; gate < 3; ++gate) {
    init::xavier_uniform(weight_ih.value.middleRows(gate * H, H), rng);
    init::orthogonal(weight_hh.value.middleRows(gate * H, H), rng);
  }
  bias_ih.value.setZero();
  bias_hh.value.setZero();
}

void GRUCell::forward(const Matrix& x, const Matrix& h, Matrix& h_out, Cache& cache) const {
  const Eigen::Index H = hidden_size();
  check_with(x.rows() == input_size() && h.rows() == H && x.cols() == h.cols(),
             [&] { return weight_ih.name + ": input has the wrong shape"; });
  cache.input = x;
  cache.prev_hidden = h;
  Matrix hidden_proj = weight_hh.value * h;
  hidden_proj.colwise() += bias_hh.value.col(0);
  Matrix input_proj = weight_ih.value * x;
  input_proj.colwise() += bias_ih.value.col(0);
  cache.gates.resize(3 * H, x.cols());
  h_out = h;
  for (Eigen::Index b = 0; b < x.cols(); ++b)  // the GRU layer's equations (layers/gru.hpp), sample by sample
    kernels::gru_cell(static_cast<int>(H), input_proj.col(b).data(), hidden_proj.col(b).data(), cache.gates.col(b).data(),
                      h_out.col(b).data());
  cache.hidden_proj_n = hidden_proj.bottomRows(H);
}

void GRUCell::backward(const Matrix& dh_out, const Cache& cache, Matrix& dx, Matrix& dh_prev) {
  const Eigen::Index H = hidden_size(), B = dh_out.cols();
  grad_input_pre_.resize(3 * H, B);
  grad_hidden_pre_.resize(3 * H, B);
  const Array dh = dh_out.array();
  gru_gate_gradients(H, dh, cache.gates, cache.hidden_proj_n, cache.prev_hidden, grad_input_pre_, grad_hidden_pre_);
  weight_ih.grad.noalias() += grad_input_pre_ * cache.input.transpose();
  weight_hh.grad.noalias() += grad_hidden_pre_ * cache.prev_hidden.transpose();
  bias_ih.grad.col(0) += grad_input_pre_.rowwise().sum();
  bias_hh.grad.col(0) += grad_hidden_pre_.rowwise().sum();
  dx.noalias() = weight_ih.value.transpose() * grad_input_pre_;
  dh_prev.noalias() = weight_hh.value.transpose() * grad_hidden_pre_;
  dh_prev.array() += dh * cache.gates.array().middleRows(H, H);  // h' ∋ z ⊙ h
}

}  // namespace attnlens
