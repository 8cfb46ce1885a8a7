#include "layers/lstm.hpp"

#include "core/error.hpp"
#include "core/init.hpp"
#include "core/kernels.hpp"

namespace attnlens {

LSTM::LSTM(const std::string& prefix, const std::string& suffix, int input_size, int hidden_size, bool reverse)
    : weight_ih(prefix + ".weight_ih" + suffix, {4 * hidden_size, input_size}),
      weight_hh(prefix + ".weight_hh" + suffix, {4 * hidden_size, hidden_size}),
      bias_ih(prefix + ".bias_ih" + suffix, {4 * hidden_size}),
      bias_hh(prefix + ".bias_hh" + suffix, {4 * hidden_size}),
      hidden_size_(hidden_size),
      reverse_(reverse) {
  check(input_size > 0 && hidden_size > 0, "lstm: sizes must be positive");
}

void LSTM::init(Rng& rng) {
  const Eigen::Index H = hidden_size_;
  for (int gate = 0; gate < 4; ++gate) {  // each gate's block initialised on its own
    init::xavier_uniform(weight_ih.value.middleRows(gate * H, H), rng);
    init::orthogonal(weight_hh.value.middleRows(gate * H, H), rng);
  }
  bias_ih.value.setZero();
  bias_hh.value.setZero();
  bias_ih.value.middleRows(H, H).setOnes();  // forget-gate bias 1 (Jozefowicz et al. 2015)
}

void LSTM::forward(const SequenceBatch& in, SequenceBatch& out) {
  check_with(in.values.rows() == weight_ih.value.cols(), [&] {
    return weight_ih.name + ": input has " + std::to_string(in.values.rows()) +
           " channels, expected " + std::to_string(weight_ih.value.cols());
  });
  const int T = in.steps, B = in.batch;
  const Eigen::Index H = hidden_size_, columns = static_cast<Eigen::Index>(T) * B;
  input_ = in;
  // All input projections at once: [4H, T*B] = W_ih · x + (b_ih + b_hh).
  gates_.noalias() = weight_ih.value * in.values;
  gates_.colwise() += (bias_ih.value + bias_hh.value).col(0);
  cell_.resize(H, columns);
  prev_hidden_.resize(H, columns);
  prev_cell_.resize(H, columns);
  out.steps = T;
  out.batch = B;
  out.lengths = in.lengths;
  out.values.resize(H, columns);

  Matrix hidden = Matrix::Zero(H, B), cell = Matrix::Zero(H, B);
  Vector scratch_cell(H), scratch_hidden(H);
  // W_hh copied column-major: the per-step product is then a sum of columns scaled by h,
  // with no horizontal reductions (faster for these short rows, in wasm SIMD especially).
  if (kernels::changed_since(recurrent_of_, weight_hh.value)) recurrent_ = weight_hh.value;
  const Matrix& recurrent = recurrent_;
  for (int s = 0; s < T; ++s) {
    const int t = reverse_ ? T - 1 - s : s;
    const Eigen::Index c0 = static_cast<Eigen::Index>(t) * B;
    prev_hidden_.middleCols(c0, B) = hidden;
    prev_cell_.middleCols(c0, B) = cell;
    // gates_ holds W_ih x + b for this step; add W_hh h_{t-1}, then the fused gate functions
    // leave the activated gates there for backward.
    auto preact = gates_.middleCols(c0, B);
    if (B <= kernels::kGemvBatch) {
      for (int b = 0; b < B; ++b) kernels::gemv_accumulate(4 * hidden_size_, hidden_size_, recurrent.data(), hidden.col(b).data(), preact.col(b).data());
    } else {
      preact.noalias() += recurrent * hidden;
    }
    auto output = out.values.middleCols(c0, B);
    for (int b = 0; b < B; ++b) {
      if (t < in.lengths[b]) {
        kernels::lstm_cell(hidden_size_, preact.col(b).data(), cell.col(b).data(), hidden.col(b).data());
        output.col(b) = hidden.col(b);
      } else {  // padding: carry the state, emit zero
        scratch_cell = cell.col(b);
        kernels::lstm_cell(hidden_size_, preact.col(b).data(), scratch_cell.data(), scratch_hidden.data());
        output.col(b).setZero();
      }
    }
    cell_.middleCols(c0, B) = cell;
  }
}

void LSTM::backward(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  ATTNLENS_REQUIRE_GRADIENTS("LSTM");
  const int T = input_.steps, B = input_.batch;
  const Eigen::Index H = hidden_size_, columns = static_cast<Eigen::Index>(T) * B;
  check_with(grad_out.values.rows() == H && grad_out.values.cols() == columns, [&] {
    return weight_ih.name + ": gradient has wrong shape";
  });
  grad_preact_.resize(4 * H, columns);
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  Matrix grad_hidden = Matrix::Zero(H, B), grad_cell = Matrix::Zero(H, B), grad_hidden_prev(H, B);
  Array dh(H, B), dc(H, B), tanh_c(H, B);
  for (int s = T - 1; s >= 0; --s) {
    const int t = reverse_ ? T - 1 - s : s;
    const Eigen::Index c0 = static_cast<Eigen::Index>(t) * B;
    const auto a = gates_.middleCols(c0, B).array();
    const auto i = a.topRows(H), f = a.middleRows(H, H), g = a.middleRows(2 * H, H), o = a.bottomRows(H);
    auto dz = grad_preact_.middleCols(c0, B);
    tanh_c = cell_.middleCols(c0, B).array().tanh();
    // h_t = o ⊙ tanh(c_t); dL/dh_t = output gradient + what flows back from step t+1.
    dh = grad_hidden.array() + grad_out.values.middleCols(c0, B).array();
    // dL/dc_t = dL/dh_t ⊙ o ⊙ (1 − tanh² c_t) + dL/dc_t from step t+1.
    dc = grad_cell.array() + dh * o * (1 - tanh_c.square());
    // Pre-activation gradients, with σ' = σ(1 − σ) and tanh' = 1 − tanh².
    dz.topRows(H).array() = dc * g * i * (1 - i);                                          // i: c_t ∋ i ⊙ g
    dz.middleRows(H, H).array() = dc * prev_cell_.middleCols(c0, B).array() * f * (1 - f);  // f: c_t ∋ f ⊙ c_{t-1}
    dz.middleRows(2 * H, H).array() = dc * i * (1 - g.square());                            // g: c_t ∋ i ⊙ g
    dz.bottomRows(H).array() = dh * tanh_c * o * (1 - o);                                   // o: h_t = o ⊙ tanh c_t
    for (int b = 0; b < B; ++b)
      if (t >= input_.lengths[b]) dz.col(b).setZero();  // padding step: no gate was used
    // dL/dh_{t-1} = W_hhᵀ dz;  dL/dc_{t-1} = dc ⊙ f.
    grad_hidden_prev.noalias() = weight_hh.value.transpose() * dz;
    for (int b = 0; b < B; ++b) {
      if (t < input_.lengths[b]) {
        grad_cell.col(b) = (dc.col(b) * f.col(b)).matrix();
      } else {  // carried state: both gradients pass through unchanged
        grad_hidden_prev.col(b) = grad_hidden.col(b);
      }
    }
    grad_hidden.swap(grad_hidden_prev);
  }
  if (!InputGradientsOnly::active()) {  // whole-sequence parameter gradients as single products
    weight_ih.grad.noalias() += grad_preact_ * input_.values.transpose();  // dL/dW_ih = Σ_t dz_t x_tᵀ
    weight_hh.grad.noalias() += grad_preact_ * prev_hidden_.transpose();   // dL/dW_hh = Σ_t dz_t h_{t-1}ᵀ
    const Vector bias_grad = grad_preact_.rowwise().sum();
    bias_ih.grad.col(0) += bias_grad;
    bias_hh.grad.col(0) += bias_grad;
  }
  if (grad_in) {
    grad_in->steps = T;
    grad_in->batch = B;
    grad_in->lengths = input_.lengths;
    grad_in->values.noalias() = weight_ih.value.transpose() * grad_preact_;  // dL/dx_t = W_ihᵀ dz_t
  }
}

}  // namespace attnlens
