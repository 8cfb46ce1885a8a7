// LSTM: both directions by hand, initialisation, round trip (weights and output); gradient check
// in both directions with padding.
#include "layer_test.hpp"

#include "layers/lstm.hpp"

using namespace attnlens;
using namespace attnlens::testing;
using Catch::Matchers::WithinAbs;

TEST_CASE("LSTM forward matches the equations computed by hand", "[layers][lstm]") {
  LSTM lstm("rnn", "_l0", 1, 1, false);
  lstm.weight_ih.value << 0.5, -0.5, 1.0, 2.0;  // i, f, g, o
  lstm.weight_hh.value << 0.1, 0.2, 0.3, 0.4;
  lstm.bias_ih.value << 0, 1, 0, 0;
  lstm.bias_hh.value << 0, 0, 0.25, 0;
  Matrix x(1, 2);
  x << 1, 2;
  SequenceBatch out;
  lstm.forward(sequence_batch(x, 2, 1, {2}), out);

  // Step 1 from h0 = c0 = 0.
  const double i1 = sig(0.5), f1 = sig(-0.5 + 1), g1 = std::tanh(1.0 + 0.25), o1 = sig(2.0);
  const double c1 = f1 * 0.0 + i1 * g1, h1 = o1 * std::tanh(c1);  // c0 = 0
  // Step 2 with x = 2.
  const double i2 = sig(1.0 + 0.1 * h1), f2 = sig(-1.0 + 1 + 0.2 * h1), g2 = std::tanh(2.0 + 0.25 + 0.3 * h1),
               o2 = sig(4.0 + 0.4 * h1);
  const double c2 = f2 * c1 + i2 * g2, h2 = o2 * std::tanh(c2);
  CHECK_THAT(out.values(0, 0), WithinAbs(h1, 1e-6));
  CHECK_THAT(out.values(0, 1), WithinAbs(h2, 1e-6));
  CHECK_THAT(h1, WithinAbs(0.426189, 1e-6));  // the hand computation itself, to four places

  SECTION("reverse direction starts at each sample's last real step") {
    LSTM reverse("rnn", "_l0_reverse", 1, 1, true);
    for (size_t k = 0; k < 4; ++k) reverse.parameters()[k]->value = lstm.parameters()[k]->value;
    Matrix xb(1, 6);  // steps 3, batch 2: sample 0 = [1, 2], sample 1 = [2]
    xb << 1, 2, 2, 0, 7, 0;  // column t*2+b; step 2 is padding for both, with junk in sample 0
    SequenceBatch rev;
    reverse.forward(sequence_batch(xb, 3, 2, {2, 1}), rev);
    // Sample 0 reversed reads 2 then 1.
    const double ri1 = sig(1.0), rg1 = std::tanh(2.25), ro1 = sig(4.0);
    const double rc1 = ri1 * rg1, rh1 = ro1 * std::tanh(rc1);
    CHECK_THAT(rev.values(0, 2), WithinAbs(rh1, 1e-6));  // t=1, b=0 is processed first
    CHECK_THAT(rev.values(0, 1), WithinAbs(rh1, 1e-6));  // sample 1 = [2]: same first step
    CHECK(rev.values(0, 4) == 0);                        // padding emits zero
    CHECK(rev.values(0, 3) == 0);
  }
  SECTION("initialisation: forget-gate bias 1, orthogonal recurrent blocks") {
    LSTM big("rnn", "_l0", 5, 8, false);
    Rng rng(7);
    big.init(rng);
    CHECK(big.bias_ih.value.middleRows(8, 8).isOnes());
    CHECK(big.bias_ih.value.topRows(8).isZero());
    for (int gate = 0; gate < 4; ++gate) {
      const ParamMatrix block = big.weight_hh.value.middleRows(gate * 8, 8);
      CHECK((block * block.transpose()).isIdentity(1e-5));
    }
  }
#if ATTNLENS_FLOAT_ENGINE  // through float32 bytes: exact on the float engine only (layer_test.hpp)
  SECTION("save/load round trip") {
    LSTM copy("rnn", "_l0", 1, 1, false);
    round_trip(lstm, copy);
    CHECK(same_parameters(lstm, copy));
    SequenceBatch again;
    copy.forward(sequence_batch(x, 2, 1, {2}), again);
    CHECK(again.values == out.values);
  }
#endif
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: LSTM, both directions, with padding", "[gradients][lstm]") {
  for (const bool reverse : {false, true}) {
    DYNAMIC_SECTION((reverse ? "reverse" : "forward")) {
      Rng rng(reverse ? 4 : 3);
      LSTM lstm("rnn", reverse ? "_l0_reverse" : "_l0", 3, 4, reverse);
      lstm.init(rng);
      for (Parameter* p : lstm.parameters()) p->value += 0.3 * random_matrix(p->value.rows(), p->value.cols(), rng);
      // steps 5, batch 3, lengths 5, 2, 0 (an empty sample too).
      SequenceBatch input = sequence_batch(random_matrix(3, 15, rng), 5, 3, {5, 2, 0});
      check_sequence_layer(lstm, input, rng);
    }
  }
}
#endif  // ATTNLENS_GRADIENT_CHECKS
