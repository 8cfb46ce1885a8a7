#include "layers/gru.hpp"

#include "core/error.hpp"
#include "core/init.hpp"
#include "core/kernels.hpp"

namespace attnlens {

GRU::GRU(const std::string& prefix, const std::string& suffix, int input_size, int hidden_size, bool reverse)
    : weight_ih(prefix + ".weight_ih" + suffix, {3 * hidden_size, input_size}),
      weight_hh(prefix + ".weight_hh" + suffix, {3 * hidden_size, hidden_size}),
      bias_ih(prefix + ".bias_ih" + suffix, {3 * hidden_size}),
      bias_hh(prefix + ".bias_hh" + suffix, {3 * hidden_size}),
      hidden_size_(hidden_size),
      reverse_(reverse) {
  check(input_size > 0 && hidden_size > 0, "gru: sizes must be positive");
}

void GRU::init(Rng& rng) {
  const Eigen::Index H = hidden_size_;
  for (int gate = 0; gate < 3; ++gate) {
    init::xavier_uniform(weight_ih.value.middleRows(gate * H, H), rng);
    init::orthogonal(weight_hh.value.middleRows(gate * H, H), rng);
  }
  bias_ih.value.setZero();
  bias_hh.value.setZero();
}

void GRU::forward(const SequenceBatch& in, SequenceBatch& out) {
  check_with(in.values.rows() == weight_ih.value.cols(), [&] {
    return weight_ih.name + ": input has " + std::to_string(in.values.rows()) +
           " channels, expected " + std::to_string(weight_ih.value.cols());
  });
  const int T = in.steps, B = in.batch;
  const Eigen::Index H = hidden_size_, columns = static_cast<Eigen::Index>(T) * B;
  input_ = in;
  input_proj_.noalias() = weight_ih.value * in.values;  // all steps at once
  input_proj_.colwise() += bias_ih.value.col(0);
  gates_.resize(3 * H, columns);
  hidden_proj_n_.resize(H, columns);
  prev_hidden_.resize(H, columns);
  out.steps = T;
  out.batch = B;
  out.lengths = in.lengths;
  out.values.resize(H, columns);
  Matrix hidden = Matrix::Zero(H, B), hidden_proj(3 * H, B);
  Vector scratch_hidden(H);
  if (kernels::changed_since(recurrent_of_, weight_hh.value)) recurrent_ = weight_hh.value;  // column-major, as in LSTM::forward
  const Matrix& recurrent = recurrent_;
  for (int s = 0; s < T; ++s) {
    const int t = reverse_ ? T - 1 - s : s;
    const Eigen::Index c0 = static_cast<Eigen::Index>(t) * B;
    prev_hidden_.middleCols(c0, B) = hidden;
    hidden_proj.colwise() = bias_hh.value.col(0);
    if (B <= kernels::kGemvBatch) {
      for (int b = 0; b < B; ++b)
        kernels::gemv_accumulate(3 * hidden_size_, hidden_size_, recurrent.data(), hidden.col(b).data(), hidden_proj.col(b).data());
    } else {
      hidden_proj.noalias() += recurrent * hidden;
    }
    hidden_proj_n_.middleCols(c0, B) = hidden_proj.bottomRows(H);
    auto output = out.values.middleCols(c0, B);
    for (int b = 0; b < B; ++b) {
      const Scalar* x = input_proj_.col(c0 + b).data();
      Scalar* g = gates_.col(c0 + b).data();
      if (t < in.lengths[b]) {
        kernels::gru_cell(hidden_size_, x, hidden_proj.col(b).data(), g, hidden.col(b).data());
        output.col(b) = hidden.col(b);
      } else {  // padding: carry the state, emit zero
        scratch_hidden = hidden.col(b);
        kernels::gru_cell(hidden_size_, x, hidden_proj.col(b).data(), g, scratch_hidden.data());
        output.col(b).setZero();
      }
    }
  }
}

void GRU::backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  ATTNLENS_REQUIRE_GRADIENTS("GRU");
  const int T = input_.steps, B = input_.batch;
  const Eigen::Index H = hidden_size_, columns = static_cast<Eigen::Index>(T) * B;
  check_with(grad_out.values.rows() == H && grad_out.values.cols() == columns, [&] {
    return weight_ih.name + ": gradient has wrong shape";
  });
  grad_input_pre_.resize(3 * H, columns);
  grad_hidden_pre_.resize(3 * H, columns);
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  Matrix grad_hidden = Matrix::Zero(H, B), grad_hidden_prev(H, B);
  Array dh(H, B), dn_pre(H, B);
  for (int s = T - 1; s >= 0; --s) {
    const int t = reverse_ ? T - 1 - s : s;
    const Eigen::Index c0 = static_cast<Eigen::Index>(t) * B;
    const auto g = gates_.middleCols(c0, B).array();
    const auto r = g.topRows(H), z = g.middleRows(H, H), n = g.bottomRows(H);
    const auto h_prev = prev_hidden_.middleCols(c0, B).array();
    auto dx = grad_input_pre_.middleCols(c0, B);
    auto dhp = grad_hidden_pre_.middleCols(c0, B);
    dh = grad_hidden.array() + grad_out.values.middleCols(c0, B).array();
    // h' = (1 − z) n + z h:  dL/dn = dh (1 − z), dL/dz = dh (h − n), direct dL/dh = dh z.
    dn_pre = dh * (1 - z) * (1 - n.square());  // through tanh
    dx.bottomRows(H).array() = dn_pre;                                       // n ∋ W_in x + b_in
    dhp.bottomRows(H).array() = dn_pre * r;                                  // n ∋ r ⊙ (W_hn h + b_hn)
    dx.topRows(H).array() = dn_pre * hidden_proj_n_.middleCols(c0, B).array() * r * (1 - r);  // r's pre-activation
    dx.middleRows(H, H).array() = dh * (h_prev - n) * z * (1 - z);           // z's pre-activation
    dhp.topRows(2 * H) = dx.topRows(2 * H);                                  // r, z: x and h enter the same sum
    for (int b = 0; b < B; ++b) {
      if (t >= input_.lengths[b]) {  // padding step: no gate was used
        dx.col(b).setZero();
        dhp.col(b).setZero();
      }
    }
    // dL/dh_{t-1} = W_hhᵀ dhp + dh ⊙ z
    grad_hidden_prev.noalias() = weight_hh.value.transpose() * dhp;
    grad_hidden_prev.array() += dh * z;
    for (int b = 0; b < B; ++b)
      if (t >= input_.lengths[b]) grad_hidden_prev.col(b) = grad_hidden.col(b);  // carried state
    grad_hidden.swap(grad_hidden_prev);
  }
  if (!InputGradientsOnly::active()) {
    weight_ih.grad.noalias() += grad_input_pre_ * input_.values.transpose();  // Σ_t dx_t x_tᵀ
    weight_hh.grad.noalias() += grad_hidden_pre_ * prev_hidden_.transpose();  // Σ_t dhp_t h_{t-1}ᵀ
    bias_ih.grad.col(0) += grad_input_pre_.rowwise().sum();
    bias_hh.grad.col(0) += grad_hidden_pre_.rowwise().sum();
  }
  if (grad_in) {
    grad_in->steps = T;
    grad_in->batch = B;
    grad_in->lengths = input_.lengths;
    grad_in->values.noalias() = weight_ih.value.transpose() * grad_input_pre_;
  }
}

}  // namespace attnlens
