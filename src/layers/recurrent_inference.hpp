// The recurrent layers' inference path (layers/recurrent.hpp): what the page runs to classify a
// review with an LSTM or GRU, and to explain one (occlusion runs the text again with each word
// left out, as a batch). Under ForwardOnly a layer's steps are the fused steps of
// kernels::gru_steps / lstm_steps, sample by sample (W_hh packed gate-interleaved, the gate
// functions on the product's registers, nothing kept for backward); a bidirectional layer's two
// directions go through a text in one loop, their steps interleaved; and the input projection
// W_ih x + b is computed once per distinct input column: a word that recurs in a text, or in the
// batch, has the same embedding column every time. Written once here for both cells, outside the
// Recurrent template.
#pragma once
#include <vector>

#include "core/kernels.hpp"

namespace attnlens::recurrent_inference {

// The columns of x, each once: `distinct` [rows, U] holds them in order of first appearance (two
// columns are the same when every bit is), and column[t] is the index there of x's column t.
void distinct_columns(const Matrix& x, Matrix& distinct, std::vector<int>& column);

// One direction of a layer, for run().
struct Direction {
  const kernels::PackedRecurrent* weights;  // W_hh, packed for `gates` gates
  const Scalar* bias_hh;                    // the GRU's b_hh (the LSTM's is in its projections)
  const Matrix* projections;                // [gates·H, U]: W_ih x + the input bias of each distinct column
  const std::vector<int>* column;           // input column c's projection is projections->col((*column)[c])
  bool reverse;
  Matrix* out;  // [H, steps·batch] on return
};

// `count` directions (1, or a bidirectional layer's 2) of a cell with `gates` gates (3: GRU, 4:
// LSTM) and `hidden` units over `steps` steps of a batch whose texts have `lengths`, sample by
// sample (out's column t·batch + b: step t of sample b, as the layers lay batches out). A step past
// a text's length outputs zeros and leaves the state as it is (so the reverse direction starts at
// the text's last word). kernels::fused_steps(hidden) must hold.
void run(const Direction* directions, int count, int gates, int hidden, int steps, const std::vector<int>& lengths);

}  // namespace attnlens::recurrent_inference
