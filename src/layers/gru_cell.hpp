// One step of a GRU (the equations, gate order and parameter names of layers/gru.hpp, and its
// code: kernels::gru_cell forward, gru_gate_gradients backward),
// for decoders whose next input depends on their previous output. The cache lives with
// the caller, so the same cell serves training (one cache per step) and beam search.
#pragma once
#include <string>

#include "layers/module.hpp"

namespace attnlens {

class GRUCell : public Module {
 public:
  struct Cache {
    Matrix input;          // [input, B]
    Matrix prev_hidden;    // [H, B]
    Matrix gates;          // [3H, B] r, z, n after their nonlinearities
    Matrix hidden_proj_n;  // [H, B]  W_hn h + b_hn
  };

  GRUCell() = default;
  GRUCell(const std::string& prefix, int input_size, int hidden_size);
  void init(Rng& rng);
  int input_size() const { return static_cast<int>(weight_ih.value.cols()); }
  int hidden_size() const { return static_cast<int>(weight_hh.value.cols()); }
  // x [input, B], h [H, B] -> h_out [H, B]; h_out may not alias h.
  void forward(const Matrix& x, const Matrix& h, Matrix& h_out, Cache& cache) const;
  // dh_out [H, B] -> dx [input, B], dh_prev [H, B]; accumulates parameter gradients.
  void backward(const Matrix& dh_out, const Cache& cache, Matrix& dx, Matrix& dh_prev);
  std::vector<Parameter*> parameters() override { return {&weight_ih, &weight_hh, &bias_ih, &bias_hh}; }

  Parameter weight_ih;  // [3H, input]
  Parameter weight_hh;  // [3H, H]
  Parameter bias_ih;    // [3H]
  Parameter bias_hh;    // [3H]

 private:
  Matrix grad_input_pre_, grad_hidden_pre_;
};

}  // namespace attnlens
