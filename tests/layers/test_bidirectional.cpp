// Bidirectional wrapper: PyTorch names, the reverse half against a forward LSTM on the reversed
// sequence, round trip, deep copies; gradient checks around a GRU and an LSTM pair.
#include "layer_test.hpp"

#include "layers/bidirectional.hpp"
#include "layers/gru.hpp"
#include "layers/lstm.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("Bidirectional stacks forward and reverse outputs with PyTorch names", "[layers][bidirectional]") {
  Bidirectional bi(std::make_unique<LSTM>("rnn", "_l0", 2, 3, false), std::make_unique<LSTM>("rnn", "_l0_reverse", 2, 3, true));
  Rng rng(11);
  bi.init(rng);
  std::vector<std::string> names;
  for (auto* p : bi.parameters()) names.push_back(p->name);
  CHECK(names == std::vector<std::string>{"rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                                          "rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0_reverse",
                                          "rnn.bias_ih_l0_reverse", "rnn.bias_hh_l0_reverse"});
  Matrix x = Matrix::Random(2, 4);
  SequenceBatch out;
  bi.forward(sequence_batch(x, 4, 1, {4}), out);
  REQUIRE(out.values.rows() == 6);
  // The reverse half equals a forward LSTM run over the reversed sequence.
  LSTM reversed_by_hand("rnn", "_l0", 2, 3, false);
  for (size_t k = 0; k < 4; ++k) reversed_by_hand.parameters()[k]->value = bi.parameters()[4 + k]->value;
  Matrix xr = x.rowwise().reverse();
  SequenceBatch outr;
  reversed_by_hand.forward(sequence_batch(xr, 4, 1, {4}), outr);
  CHECK(out.values.bottomRows(3).isApprox(outr.values.rowwise().reverse(), 1e-6));

#if ATTNLENS_FLOAT_ENGINE  // through float32 bytes: exact on the float engine only (layer_test.hpp)
  Bidirectional copy(std::make_unique<LSTM>("rnn", "_l0", 2, 3, false), std::make_unique<LSTM>("rnn", "_l0_reverse", 2, 3, true));
  round_trip(bi, copy);
  CHECK(same_parameters(bi, copy));
#endif
  Bidirectional cloned = bi;  // copies are deep
  cloned.parameters()[0]->value.setZero();
  CHECK(!bi.parameters()[0]->value.isZero());
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: Bidirectional GRU", "[gradients][bidirectional]") {
  Rng rng(15);
  Bidirectional bi(std::make_unique<GRU>("rnn", "_l0", 2, 3, false), std::make_unique<GRU>("rnn", "_l0_reverse", 2, 3, true));
  bi.init(rng);
  SequenceBatch input = sequence_batch(random_matrix(2, 8, rng), 4, 2, {4, 3});
  check_sequence_layer(bi, input, rng);
}

TEST_CASE("gradient check: Bidirectional LSTM", "[gradients][bidirectional]") {
  Rng rng(5);
  Bidirectional bi(std::make_unique<LSTM>("rnn", "_l0", 2, 3, false), std::make_unique<LSTM>("rnn", "_l0_reverse", 2, 3, true));
  bi.init(rng);
  SequenceBatch input = sequence_batch(random_matrix(2, 8, rng), 4, 2, {4, 3});
  check_sequence_layer(bi, input, rng);
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("Bidirectional: a fresh wrapper loaded from the saved bytes gives the same output", "[layers][bidirectional][round-trip]") {
  const auto expect_same = [](Bidirectional& bi, Bidirectional& fresh) {
    Rng rng(27), other(28);
    bi.init(rng);
    fresh.init(other);
    expect_round_trip(bi, fresh);
    const SequenceBatch input = sequence_batch(Matrix::Random(2, 8), 4, 2, {4, 3});
    SequenceBatch saved, loaded;
    bi.forward(input, saved);
    fresh.forward(input, loaded);
    CHECK(loaded.values == saved.values);
  };
  SECTION("LSTM") {
    Bidirectional bi(std::make_unique<LSTM>("rnn", "_l0", 2, 3, false), std::make_unique<LSTM>("rnn", "_l0_reverse", 2, 3, true));
    Bidirectional fresh(std::make_unique<LSTM>("rnn", "_l0", 2, 3, false), std::make_unique<LSTM>("rnn", "_l0_reverse", 2, 3, true));
    expect_same(bi, fresh);
  }
  SECTION("GRU") {
    Bidirectional bi(std::make_unique<GRU>("rnn", "_l0", 2, 3, false), std::make_unique<GRU>("rnn", "_l0_reverse", 2, 3, true));
    Bidirectional fresh(std::make_unique<GRU>("rnn", "_l0", 2, 3, false), std::make_unique<GRU>("rnn", "_l0_reverse", 2, 3, true));
    expect_same(bi, fresh);
  }
}
