// GRUCell, one decoder step: by hand (and equal to a one-step GRU layer), gradient check
// (parameters, input and previous state), round trip.
#include "layer_test.hpp"

#include "layers/gru.hpp"
#include "layers/gru_cell.hpp"

using namespace attnlens;
using namespace attnlens::testing;
using Catch::Matchers::WithinAbs;

TEST_CASE("GRUCell: one step of the GRU equations by hand, two samples", "[layers][gru_cell]") {
  GRUCell cell("decoder", 1, 1);
  cell.weight_ih.value << 0.5, -0.4, 1.2;  // r, z, n
  cell.weight_hh.value << 0.3, 0.2, -0.7;
  cell.bias_ih.value << 0.1, 0.0, 0.2;
  cell.bias_hh.value << 0.0, 0.3, 0.4;
  Matrix x(1, 2), h(1, 2), out;
  x << 1, -2;
  h << 0.25, -0.5;
  GRUCell::Cache cache;
  cell.forward(x, h, out, cache);
  for (int b = 0; b < 2; ++b) {
    const double xt = x(0, b), hp = h(0, b);
    const double r = sig(0.5 * xt + 0.1 + 0.3 * hp), z = sig(-0.4 * xt + 0.0 + 0.2 * hp + 0.3);
    const double n = std::tanh(1.2 * xt + 0.2 + r * (-0.7 * hp + 0.4));
    CHECK_THAT(out(0, b), WithinAbs((1 - z) * n + z * hp, 1e-6));
  }
  // The same numbers as a one-step GRU layer with the same weights, started from zero.
  GRU gru("rnn", "_l0", 1, 1, false);
  for (size_t k = 0; k < 4; ++k) gru.parameters()[k]->value = cell.parameters()[k]->value;
  SequenceBatch layer;
  gru.forward(sequence_batch(x, 1, 2, {1, 1}), layer);
  Matrix zero = Matrix::Zero(1, 2);
  cell.forward(x, zero, out, cache);
  CHECK(out.isApprox(layer.values, 1e-6f));
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: GRU cell (one decoder step)", "[gradients][gru][gru_cell][translation]") {
  GRUCell cell("cell", 3, 4);
  Rng rng(31);
  cell.init(rng);
  cell.bias_ih.value = 0.1 * random_matrix(12, 1, rng);
  cell.bias_hh.value = 0.1 * random_matrix(12, 1, rng);
  Matrix x = random_matrix(3, 2, rng), h = random_matrix(4, 2, rng);
  const Matrix projection = random_matrix(4, 2, rng);
  const auto loss = [&]() {
    GRUCell::Cache cache;
    Matrix out;
    cell.forward(x, h, out, cache);
    return (out.array() * projection.array()).sum();
  };
  Matrix dx, dh;
  expect_parameter_gradients(cell, loss, [&]() {
    GRUCell::Cache cache;
    Matrix out;
    cell.forward(x, h, out, cache);
    cell.backward(projection, cache, dx, dh);
  });
  expect_input_gradients(loss, x, dx);
  expect_input_gradients(loss, h, dh);
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("GRUCell: a fresh cell loaded from the saved bytes gives the same step", "[layers][gru_cell][round-trip]") {
  GRUCell cell("decoder", 3, 4), fresh("decoder", 3, 4);
  Rng rng(25), other(26);
  cell.init(rng);
  fresh.init(other);
  expect_round_trip(cell, fresh);
  const Matrix x = Matrix::Random(3, 2), h = Matrix::Random(4, 2);
  Matrix saved, loaded;
  GRUCell::Cache cache;
  cell.forward(x, h, saved, cache);
  fresh.forward(x, h, loaded, cache);
  CHECK(loaded == saved);
}
