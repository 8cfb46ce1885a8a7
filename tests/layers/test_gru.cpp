// GRU layer: PyTorch's equations by hand, round trip, gradient check in both directions with
// padding; the LSTM and the GRU under ForwardOnly. (The one-step GRUCell of the decoders is in test_gru_cell.cpp.)
#include "layer_test.hpp"

#include "layers/bidirectional.hpp"
#include "layers/gru.hpp"
#include "layers/lstm.hpp"

using namespace attnlens;
using namespace attnlens::testing;
using Catch::Matchers::WithinAbs;

TEST_CASE("GRU forward matches PyTorch's equations computed by hand", "[layers][gru]") {
  GRU gru("rnn", "_l0", 1, 1, false);
  gru.weight_ih.value << 0.5, -0.4, 1.2;  // r, z, n
  gru.weight_hh.value << 0.3, 0.2, -0.7;
  gru.bias_ih.value << 0.1, 0.0, 0.2;
  gru.bias_hh.value << 0.0, 0.3, 0.4;
  Matrix x(1, 2);
  x << 1, -2;
  SequenceBatch out;
  gru.forward(sequence_batch(x, 2, 1, {2}), out);
  double h = 0;
  for (double xt : {1.0, -2.0}) {
    const double r = sig(0.5 * xt + 0.1 + 0.3 * h), z = sig(-0.4 * xt + 0.0 + 0.2 * h + 0.3);
    const double n = std::tanh(1.2 * xt + 0.2 + r * (-0.7 * h + 0.4));
    h = (1 - z) * n + z * h;
    CHECK_THAT(out.values(0, xt > 0 ? 0 : 1), WithinAbs(h, 1e-6));
  }
  SECTION("save/load round trip and use inside the bidirectional wrapper") {
#if ATTNLENS_FLOAT_ENGINE  // through float32 bytes: exact on the float engine only (layer_test.hpp)
    GRU copy("rnn", "_l0", 1, 1, false);
    round_trip(gru, copy);
    CHECK(same_parameters(gru, copy));
#endif
    Bidirectional bi(std::make_unique<GRU>("rnn", "_l0", 1, 1, false), std::make_unique<GRU>("rnn", "_l0_reverse", 1, 1, true));
    for (size_t k = 0; k < 4; ++k) bi.parameters()[k]->value = gru.parameters()[k]->value;
    SequenceBatch both;
    bi.forward(sequence_batch(x, 2, 1, {2}), both);
    CHECK(both.values.row(0) == out.values.row(0));
    Bidirectional cloned = bi;
    CHECK(cloned.parameters()[4]->name == "rnn.weight_ih_l0_reverse");
  }
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: GRU, both directions, with padding", "[gradients][gru]") {
  for (const bool reverse : {false, true}) {
    DYNAMIC_SECTION((reverse ? "reverse" : "forward")) {
      Rng rng(reverse ? 14 : 13);
      GRU gru("rnn", reverse ? "_l0_reverse" : "_l0", 3, 4, reverse);
      gru.init(rng);
      for (Parameter* p : gru.parameters()) p->value += 0.3 * random_matrix(p->value.rows(), p->value.cols(), rng);
      SequenceBatch input = sequence_batch(random_matrix(3, 15, rng), 5, 3, {5, 2, 0});
      check_sequence_layer(gru, input, rng);
    }
  }
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("GRU: a fresh layer loaded from the saved bytes gives the same output", "[layers][gru][round-trip]") {
  GRU gru("rnn", "_l0", 3, 4, false), fresh("rnn", "_l0", 3, 4, false);
  Rng rng(23), other(24);
  gru.init(rng);
  fresh.init(other);
  expect_round_trip(gru, fresh);
  const SequenceBatch input = sequence_batch(Matrix::Random(3, 10), 5, 2, {5, 3});
  SequenceBatch saved, loaded;
  gru.forward(input, saved);
  fresh.forward(input, loaded);
  CHECK(loaded.values == saved.values);
}

// Inference keeps nothing for backward (the input, the previous states, the gates): the same
// output, and a backward after it is refused instead of reading stale caches.
template <class Layer>
void check_forward_only(Rng& rng) {
  for (const bool reverse : {false, true}) {
    Layer layer("rnn", reverse ? "_l0_reverse" : "_l0", 3, 4, reverse);
    layer.init(rng);
    const SequenceBatch input = sequence_batch(Matrix::Random(3, 18), 6, 3, {6, 2, 4});
    [[maybe_unused]] const SequenceBatch streamed = expect_forward_only_same(layer, input);
#if ATTNLENS_GRADIENTS
    SequenceBatch grad_in, kept;
    CHECK_THROWS_WITH(layer.backward(streamed, &grad_in), Catch::Contains("backward after a forward-only pass"));
    layer.forward(input, kept);  // a kept pass again: backward runs
    CHECK_NOTHROW(layer.backward(kept, &grad_in));
#endif
  }
}

TEST_CASE("LSTM and GRU under ForwardOnly: the same output, nothing kept for backward", "[layers][gru][lstm]") {
  Rng rng(31);
  check_forward_only<GRU>(rng);
  check_forward_only<LSTM>(rng);
}
