#include "layers/recurrent_inference.hpp"

#include <cstdint>
#include <cstring>

namespace attnlens::recurrent_inference {

void distinct_columns(const Matrix& x, Matrix& distinct, std::vector<int>& column) {
  const int rows = static_cast<int>(x.rows()), n = static_cast<int>(x.cols());
  const size_t bytes = static_cast<size_t>(rows) * sizeof(Scalar);
  column.resize(static_cast<size_t>(n));
  // Open addressing over a hash of each column's first few values (enough to tell words apart);
  // a candidate counts as the same column only when all its bytes are.
  size_t size = 16;
  while (size < 2 * static_cast<size_t>(n)) size *= 2;
  std::vector<int> table(size, -1);  // a column of x that is the first of its kind, or −1
  int count = 0;
  for (int j = 0; j < n; ++j) {
    const Scalar* values = x.data() + static_cast<size_t>(j) * rows;
    uint64_t hash = 0xcbf29ce484222325u;
    for (int i = 0; i < rows && i < 8; ++i) {
      uint64_t word = 0;
      std::memcpy(&word, values + i, sizeof(Scalar));
      hash = (hash ^ word) * 0x100000001b3u;
    }
    size_t slot = static_cast<size_t>(hash ^ (hash >> 29)) & (size - 1);
    while (table[slot] >= 0 && std::memcmp(x.data() + static_cast<size_t>(table[slot]) * rows, values, bytes) != 0)
      slot = (slot + 1) & (size - 1);
    if (table[slot] < 0) {
      table[slot] = j;
      column[static_cast<size_t>(j)] = count++;
    } else {
      column[static_cast<size_t>(j)] = column[static_cast<size_t>(table[slot])];
    }
  }
  distinct.resize(rows, count);
  for (int j = 0, k = 0; j < n; ++j)
    if (column[static_cast<size_t>(j)] == k) std::memcpy(distinct.data() + static_cast<size_t>(k++) * rows, x.data() + static_cast<size_t>(j) * rows, bytes);
}

void run(const Direction* directions, int count, int gates, int hidden, int steps, const std::vector<int>& lengths) {
  const int batch = static_cast<int>(lengths.size());
  kernels::RecurrentStep state[2], running[2];
  Vector zeros = Vector::Zero(hidden), cells[2];  // h_{−1} = 0, and the LSTM's running c
  for (int d = 0; d < count; ++d) directions[d].out->resize(hidden, static_cast<Eigen::Index>(steps) * batch);
  for (int b = 0; b < batch; ++b) {  // sample by sample: each is a batch of one
    for (int d = 0; d < count; ++d) {
      cells[d] = Vector::Zero(hidden);
      state[d] = {directions[d].weights->data(), directions[d].bias_hh, nullptr,         zeros.data(),
                  nullptr,                       gates == 4 ? cells[d].data() : nullptr, kernels::gate_coefficients()};
    }
    for (int s = 0; s < steps; ++s) {
      int active = 0;
      for (int d = 0; d < count; ++d) {
        const Direction& direction = directions[d];
        const int t = direction.reverse ? steps - 1 - s : s;
        const Eigen::Index c = static_cast<Eigen::Index>(t) * batch + b;
        auto output = direction.out->col(c);
        if (t >= lengths[static_cast<size_t>(b)]) {
          output.setZero();
          continue;
        }
        state[d].projection = direction.projections->col((*direction.column)[static_cast<size_t>(c)]).data();
        state[d].next_hidden = output.data();
        running[active++] = state[d];
        state[d].hidden = output.data();  // the next step's h_{t−1}
      }
      if (active == 0) continue;
      if (gates == 3) kernels::gru_steps(hidden, running, active);
      else kernels::lstm_steps(hidden, running, active);
    }
  }
}

}  // namespace attnlens::recurrent_inference
