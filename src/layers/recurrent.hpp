// One direction of a gated recurrent layer, written once for the LSTM (layers/lstm.hpp) and
// the GRU (layers/gru.hpp). The template holds what the two share: PyTorch's parameters and
// names (<prefix>.weight_ih<suffix>, e.g. rnn.weight_ih_l0_reverse, with Cell::kGates blocks of
// H rows), their initialisation, the input projection of all steps as one product, the time
// loop in either direction with W_hh h added step by step, masking (on a padding step the state
// is carried unchanged and the output is zero, so a reverse pass starts each sample at its own
// last real token), the backward loop, and the whole-sequence parameter gradients as single
// products. The Cell holds the gate equations of one step and their derivatives. Under ForwardOnly
// (and always in an engine without gradients) the steps take the inference path of
// layers/recurrent_inference.hpp: fused steps, a bidirectional layer's directions interleaved
// (forward_with), each distinct input column projected once.
//
// A Cell provides (see LstmCell, GruCell):
//   kGates, kName; init_biases(bias_ih, bias_hh, H) after the biases are zeroed;
//   input_bias(bias_ih, bias_hh): the bias folded into the input projection;
//   kSharedGradient: the pre-activation gradients of W_ih x and W_hh h are one and the same;
//   begin(H, columns, B), begin_step(...), step(...), end_step(...): the forward pass;
//   begin_backward(H, B), gate_gradients(...), hidden_gradient(...): the backward pass.
#pragma once
#include <string>
#include <utility>

#include "core/init.hpp"
#include "core/kernels.hpp"
#include "layers/module.hpp"
#include "layers/recurrent_inference.hpp"

namespace attnlens {

// What the Cells' step functions take: B columns of a [rows, T*B] matrix, and [rows, B] arrays.
using Columns = Matrix::ColsBlockXpr;
using ConstColumns = Matrix::ConstColsBlockXpr;
using Array = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

template <class Cell>
class Recurrent final : public SequenceLayerOf<Recurrent<Cell>> {
 public:
  Recurrent() = default;
  Recurrent(const std::string& prefix, const std::string& suffix, int input_size, int hidden_size, bool reverse)
      : weight_ih(prefix + ".weight_ih" + suffix, {Cell::kGates * hidden_size, input_size}),
        weight_hh(prefix + ".weight_hh" + suffix, {Cell::kGates * hidden_size, hidden_size}),
        bias_ih(prefix + ".bias_ih" + suffix, {Cell::kGates * hidden_size}),
        bias_hh(prefix + ".bias_hh" + suffix, {Cell::kGates * hidden_size}),
        hidden_size_(hidden_size),
        reverse_(reverse) {
    check(input_size > 0 && hidden_size > 0, std::string(Cell::kName) + ": sizes must be positive");
  }

  void init(Rng& rng) override {
    const Eigen::Index H = hidden_size_;
    for (int gate = 0; gate < Cell::kGates; ++gate) {  // each gate's block initialised on its own
      init::xavier_uniform(weight_ih.value.middleRows(gate * H, H), rng);
      init::orthogonal(weight_hh.value.middleRows(gate * H, H), rng);
    }
    bias_ih.value.setZero();
    bias_hh.value.setZero();
    Cell::init_biases(bias_ih, bias_hh, H);
  }

  int input_channels() const override { return static_cast<int>(weight_ih.value.cols()); }
  int output_channels() const override { return hidden_size_; }
  std::string name() const override { return std::string(Cell::kName) + " " + weight_ih.name; }
  std::vector<Parameter*> parameters() override { return {&weight_ih, &weight_hh, &bias_ih, &bias_hh}; }

  Parameter weight_ih;  // [G·H, input]
  Parameter weight_hh;  // [G·H, H]
  Parameter bias_ih;    // [G·H]
  Parameter bias_hh;    // [G·H]

 private:
  friend SequenceLayerOf<Recurrent>;

  // All input projections at once: [G·H, columns] = W_ih · x + the Cell's bias, for the columns
  // of x (the input's, or its distinct ones on the inference path).
  void project(const Matrix& x) {
    check_with(x.rows() == weight_ih.value.cols(), [&] {
      return name() + ": input has " + std::to_string(x.rows()) + " channels, expected " + std::to_string(weight_ih.value.cols());
    });
    packed_ih_.update(weight_ih.value);
    const Vector input_bias = Cell::input_bias(bias_ih, bias_hh);
    projections_.resize(weight_ih.value.rows(), x.cols());
    kernels::gemm(packed_ih_, input_bias.data(), x.data(), x.rows(), static_cast<int>(x.cols()), projections_.data());
  }

  // The inference path (layers/recurrent_inference.hpp): forward only, where the fused steps run.
  bool fused() const { return (!kHasGradients || ForwardOnly::active()) && kernels::fused_steps(hidden_size_); }

  // `count` layers of this type over the same input on that path: one, or a bidirectional layer's
  // two directions, their steps interleaved.
  static void forward_fused(Recurrent* const* layers, SequenceBatch* const* outs, int count, const SequenceBatch& in) {
    Matrix distinct;
    std::vector<int> column;
    recurrent_inference::distinct_columns(in.values, distinct, column);
    recurrent_inference::Direction directions[2];
    for (int d = 0; d < count; ++d) {
      Recurrent& layer = *layers[d];
      layer.kept_ = false;
      layer.input_ = SequenceBatch{};
      layer.project(distinct);
      layer.packed_hh_.update(layer.weight_hh.value, Cell::kGates);
      SequenceBatch& out = *outs[d];
      out.steps = in.steps;
      out.batch = in.batch;
      out.lengths = in.lengths;
      directions[d] = {&layer.packed_hh_, Cell::kGates == 3 ? layer.bias_hh.value.data() : nullptr, &layer.projections_,
                       &column,           layer.reverse_,                                             &out.values};
    }
    recurrent_inference::run(directions, count, Cell::kGates, layers[0]->hidden_size_, in.steps, in.lengths);
  }

  bool forward_with_impl(SequenceLayer& partner, const SequenceBatch& in, SequenceBatch& out, SequenceBatch& partner_out) override {
    auto* other = dynamic_cast<Recurrent*>(&partner);
    if (!other || other->hidden_size_ != hidden_size_ || !fused()) return false;
    Recurrent* layers[2] = {this, other};
    SequenceBatch* outs[2] = {&out, &partner_out};
    forward_fused(layers, outs, 2, in);
    return true;
  }

  // in.values [input, T*B] -> out.values [H, T*B]
  void forward_impl(const SequenceBatch& in, SequenceBatch& out) override {
    if (fused()) {
      Recurrent* self = this;
      SequenceBatch* outs = &out;
      return forward_fused(&self, &outs, 1, in);
    }
    const int T = in.steps, B = in.batch;
    const Eigen::Index H = hidden_size_, columns = static_cast<Eigen::Index>(T) * B;
    // Forward-only (inference): nothing backward reads is kept — not the input, the previous
    // states or the Cell's gates — so memory is the projections and the output.
    kept_ = kHasGradients && !ForwardOnly::active();  // (an engine without gradients never keeps: less code)
    if (kept_) input_ = in;
    else input_ = SequenceBatch{};
    project(in.values);
    prev_hidden_.resize(H, kept_ ? columns : 0);
    cell_.begin(H, columns, B, kept_);
    out.steps = T;
    out.batch = B;
    out.lengths = in.lengths;
    out.values.resize(H, columns);
    Matrix hidden = Matrix::Zero(H, B);
    Vector scratch(H);
    // W_hh copied column-major: the per-step product is then a sum of columns scaled by h,
    // with no horizontal reductions (faster for these short rows, in wasm SIMD especially).
    if (kernels::changed_since(recurrent_of_, weight_hh.value)) recurrent_ = weight_hh.value;
    for (int s = 0; s < T; ++s) {
      const int t = reverse_ ? T - 1 - s : s;
      const Eigen::Index c0 = static_cast<Eigen::Index>(t) * B;
      if (kept_) prev_hidden_.middleCols(c0, B) = hidden;
      // The Cell says where W_hh h goes (the LSTM adds it to the step's projections, the GRU
      // to b_hh on its own); it is added here, per sample for small batches.
      auto&& sum = cell_.begin_step(projections_.middleCols(c0, B), bias_hh, c0, B);
      if (B <= kernels::kGemvBatch || !kHasGradients) {  // (an engine without gradients: less code)
        for (int b = 0; b < B; ++b)
          kernels::gemv_accumulate(Cell::kGates * hidden_size_, hidden_size_, recurrent_.data(), hidden.col(b).data(), sum.col(b).data());
      } else {
        sum.noalias() += recurrent_ * hidden;
      }
      auto output = out.values.middleCols(c0, B);
      for (int b = 0; b < B; ++b) {
        if (t < in.lengths[b]) {
          cell_.step(hidden_size_, c0 + b, b, projections_.col(c0 + b).data(), sum.col(b).data(), hidden.col(b).data(), false);
          output.col(b) = hidden.col(b);
        } else {  // padding: the gates are computed (backward reads them), the state is carried, the output is zero
          scratch = hidden.col(b);
          cell_.step(hidden_size_, c0 + b, b, projections_.col(c0 + b).data(), sum.col(b).data(), scratch.data(), true);
          output.col(b).setZero();
        }
      }
      cell_.end_step(H, c0, B);
    }
  }

  void backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
    check(kept_, name() + ": backward after a forward-only pass (nothing was kept for it)");
    const int T = input_.steps, B = input_.batch;
    const Eigen::Index H = hidden_size_, columns = static_cast<Eigen::Index>(T) * B;
    grad_input_pre_.resize(Cell::kGates * H, columns);
    if constexpr (!Cell::kSharedGradient) grad_hidden_pre_.resize(Cell::kGates * H, columns);
    Matrix& grad_hidden_pre = Cell::kSharedGradient ? grad_input_pre_ : grad_hidden_pre_;
    Matrix grad_hidden = Matrix::Zero(H, B), grad_hidden_prev(H, B);
    Array dh(H, B);
    cell_.begin_backward(H, B);
    for (int s = T - 1; s >= 0; --s) {
      const int t = reverse_ ? T - 1 - s : s;
      const Eigen::Index c0 = static_cast<Eigen::Index>(t) * B;
      auto dx = grad_input_pre_.middleCols(c0, B);
      auto dhp = grad_hidden_pre.middleCols(c0, B);
      // dL/dh_t = the output's gradient + what flows back from step t+1.
      dh = grad_hidden.array() + grad_out.values.middleCols(c0, B).array();
      const auto projections = std::as_const(projections_).middleCols(c0, B);
      cell_.gate_gradients(H, c0, B, dh, projections, std::as_const(prev_hidden_).middleCols(c0, B), dx, dhp);
      for (int b = 0; b < B; ++b) {
        if (t >= input_.lengths[b]) {  // padding step: no gate was used
          dx.col(b).setZero();
          if constexpr (!Cell::kSharedGradient) dhp.col(b).setZero();
        }
      }
      // dL/dh_{t-1} = W_hhᵀ dhp, plus what the Cell adds (and its own carried gradients).
      grad_hidden_prev.noalias() = weight_hh.value.transpose() * dhp;
      cell_.hidden_gradient(H, c0, B, t, input_.lengths, dh, projections, grad_hidden_prev);
      for (int b = 0; b < B; ++b)
        if (t >= input_.lengths[b]) grad_hidden_prev.col(b) = grad_hidden.col(b);  // carried state: passes through
      grad_hidden.swap(grad_hidden_prev);
    }
    if (!InputGradientsOnly::active()) {  // whole-sequence parameter gradients as single products
      weight_ih.grad.noalias() += grad_input_pre_ * input_.values.transpose();  // Σ_t dx_t x_tᵀ
      weight_hh.grad.noalias() += grad_hidden_pre * prev_hidden_.transpose();   // Σ_t dhp_t h_{t-1}ᵀ
      bias_ih.grad.col(0) += grad_input_pre_.rowwise().sum();
      bias_hh.grad.col(0) += grad_hidden_pre.rowwise().sum();
    }
    if (grad_in) {
      grad_in->steps = T;
      grad_in->batch = B;
      grad_in->lengths = input_.lengths;
      grad_in->values.noalias() = weight_ih.value.transpose() * grad_input_pre_;  // dL/dx_t = W_ihᵀ dx_t
    }
  }

  int hidden_size_ = 0;
  bool reverse_ = false;
  bool kept_ = false;         // the last forward kept what backward reads (not ForwardOnly)
  Cell cell_;                 // the gate equations and what they save for backward
  SequenceBatch input_;
  Matrix projections_;        // [G·H, T*B] W_ih x + the Cell's bias (the LSTM's become its gates)
  Matrix recurrent_;          // W_hh column-major, for the per-step product
  ParamMatrix recurrent_of_;  // the W_hh it was copied from (recopied only when W_hh changes)
  kernels::PackedWeights packed_ih_;  // W_ih, packed for kernels::gemm
  kernels::PackedRecurrent packed_hh_;  // W_hh, packed for the fused steps
  Matrix prev_hidden_;        // [H, T*B] h_{t-1} seen by step t
  Matrix grad_input_pre_;     // [G·H, T*B] dL/d(W_ih x + b_ih)
  Matrix grad_hidden_pre_;    // [G·H, T*B] dL/d(W_hh h + b_hh), when it differs (the GRU's)
};

}  // namespace attnlens
