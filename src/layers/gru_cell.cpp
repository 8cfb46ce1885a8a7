#include "layers/gru_cell.hpp"

#include "core/error.hpp"
#include "core/init.hpp"

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
  cache.gates.noalias() = weight_ih.value * x;
  cache.gates.colwise() += bias_ih.value.col(0);
  auto g = cache.gates.array();
  g.topRows(2 * H) = (g.topRows(2 * H) + hidden_proj.topRows(2 * H).array()).logistic();  // r, z
  cache.hidden_proj_n = hidden_proj.bottomRows(H);
  g.bottomRows(H) = (g.bottomRows(H) + g.topRows(H) * hidden_proj.bottomRows(H).array()).tanh();  // n
  const auto z = g.middleRows(H, H);
  h_out.resize(H, x.cols());
  h_out.array() = (1 - z) * g.bottomRows(H) + z * h.array();
}

void GRUCell::backward(const Matrix& dh_out, const Cache& cache, Matrix& dx, Matrix& dh_prev) {
  const Eigen::Index H = hidden_size(), B = dh_out.cols();
  const auto g = cache.gates.array();
  const auto r = g.topRows(H), z = g.middleRows(H, H), n = g.bottomRows(H);
  const auto dh = dh_out.array();
  grad_input_pre_.resize(3 * H, B);
  grad_hidden_pre_.resize(3 * H, B);
  auto dxp = grad_input_pre_.array();
  auto dhp = grad_hidden_pre_.array();
  dxp.bottomRows(H) = dh * (1 - z) * (1 - n.square());  // through n's tanh
  dhp.bottomRows(H) = dxp.bottomRows(H) * r;
  dxp.topRows(H) = dxp.bottomRows(H) * cache.hidden_proj_n.array() * r * (1 - r);
  dxp.middleRows(H, H) = dh * (cache.prev_hidden.array() - n) * z * (1 - z);
  dhp.topRows(2 * H) = dxp.topRows(2 * H);
  weight_ih.grad.noalias() += grad_input_pre_ * cache.input.transpose();
  weight_hh.grad.noalias() += grad_hidden_pre_ * cache.prev_hidden.transpose();
  bias_ih.grad.col(0) += grad_input_pre_.rowwise().sum();
  bias_hh.grad.col(0) += grad_hidden_pre_.rowwise().sum();
  dx.noalias() = weight_ih.value.transpose() * grad_input_pre_;
  dh_prev.noalias() = weight_hh.value.transpose() * grad_hidden_pre_;
  dh_prev.array() += dh * z;
}

}  // namespace attnlens
