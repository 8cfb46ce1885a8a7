// Conv1D: same and valid padding by hand, masking-aware, PyTorch's weight layout and round trip;
// gradient check for kernels 1-4 with both paddings.
#include "layer_test.hpp"

#include "layers/conv1d.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("Conv1D forward by hand, same and valid padding, masking-aware", "[layers][conv1d]") {
  Conv1D same("conv0", 1, 1, 3, Conv1D::Padding::Same);
  same.weight.value << 1, 2, 3;  // W[0, 0, j]
  same.bias.value << 0.5;
  Matrix x(1, 4);
  x << 1, 10, 100, 1000;  // the last step is padding: it must read as zero
  SequenceBatch out;
  same.forward(sequence_batch(x, 4, 1, {3}), out);
  REQUIRE(out.steps == 4);
  CHECK(out.values(0, 0) == Approx(0.5 + 0 * 1 + 1 * 2 + 10 * 3));
  CHECK(out.values(0, 1) == Approx(0.5 + 1 * 1 + 10 * 2 + 100 * 3));
  CHECK(out.values(0, 2) == Approx(0.5 + 10 * 1 + 100 * 2 + 0 * 3));  // step 3 is padding
  CHECK(out.values(0, 3) == 0);
  CHECK(out.lengths[0] == 3);

  Conv1D valid("conv0", 1, 1, 3, Conv1D::Padding::Valid);
  valid.weight.value = same.weight.value;
  valid.bias.value << 0;
  valid.forward(sequence_batch(x, 4, 1, {4}), out);
  REQUIRE(out.steps == 2);
  CHECK(out.values(0, 0) == Approx(1 * 1 + 10 * 2 + 100 * 3));
  CHECK(out.values(0, 1) == Approx(10 * 1 + 100 * 2 + 1000 * 3));
  SECTION("save/load round trip; PyTorch's [out, in, kernel] layout") {
    Conv1D big("conv0", 2, 3, 5, Conv1D::Padding::Same);
    Rng rng(4);
    big.init(rng);
    CHECK(big.weight.shape == std::vector<int64_t>{3, 2, 5});
#if ATTNLENS_FLOAT_ENGINE  // through float32 bytes: exact on the float engine only (layer_test.hpp)
    Conv1D copy("conv0", 2, 3, 5, Conv1D::Padding::Same);
    round_trip(big, copy);
    CHECK(same_parameters(big, copy));
#endif
  }
}

#if ATTNLENS_GRADIENT_CHECKS
TEST_CASE("gradient check: Conv1D, same and valid, with padding", "[gradients][conv1d]") {
  for (const auto padding : {Conv1D::Padding::Same, Conv1D::Padding::Valid}) {
    for (const int kernel : {1, 2, 3, 4}) {
      DYNAMIC_SECTION((padding == Conv1D::Padding::Same ? "same" : "valid") << " kernel " << kernel) {
        Rng rng(20 + kernel);
        Conv1D conv("conv0", 3, 2, kernel, padding);
        conv.init(rng);
        conv.bias.value = random_matrix(2, 1, rng);
        SequenceBatch input = sequence_batch(random_matrix(3, 18, rng), 6, 3, {6, 4, 1});
        check_sequence_layer(conv, input, rng);
      }
    }
  }
}
#endif  // ATTNLENS_GRADIENT_CHECKS

TEST_CASE("Conv1D: a fresh layer loaded from the saved bytes gives the same output", "[layers][conv1d][round-trip]") {
  for (const auto padding : {Conv1D::Padding::Same, Conv1D::Padding::Valid}) {
    DYNAMIC_SECTION((padding == Conv1D::Padding::Same ? "same" : "valid")) {
      Conv1D conv("conv0", 2, 3, 3, padding), fresh("conv0", 2, 3, 3, padding);
      Rng rng(31), other(32);
      conv.init(rng);
      fresh.init(other);
      conv.bias.value << 0.5, -0.25, 1;
      expect_round_trip(conv, fresh);
      const SequenceBatch input = sequence_batch(Matrix::Random(2, 12), 6, 2, {6, 4});
      SequenceBatch saved, loaded;
      conv.forward(input, saved);
      fresh.forward(input, loaded);
      CHECK(loaded.values == saved.values);
    }
  }
}

// Under ForwardOnly the convolution reads each output step's window in place (no X'): the same
// output to the bit for both paddings, unequal and empty lengths, no output steps at all; then
// backward after such a pass is refused.
TEST_CASE("Conv1D under ForwardOnly: the same output, nothing kept for backward", "[layers][conv1d]") {
  Rng rng(12);
  for (const auto padding : {Conv1D::Padding::Same, Conv1D::Padding::Valid})
    for (const int k : {1, 3, 4}) {
      INFO("kernel " << k << (padding == Conv1D::Padding::Same ? " same" : " valid"));
      Conv1D conv("conv0", 5, 7, k, padding);
      conv.init(rng);
      conv.bias.value.setRandom();
      // Unequal lengths, one sample empty; and a text shorter than a valid kernel (no output steps).
      for (const SequenceBatch& input : {sequence_batch(Matrix::Random(5, 3 * 9), 9, 3, {9, 0, 6}),
                                         sequence_batch(Matrix::Random(5, 2), 2, 1, {2})})
        expect_forward_only_same(conv, input);
#if ATTNLENS_GRADIENTS
      const SequenceBatch input = sequence_batch(Matrix::Random(5, 3 * 9), 9, 3, {9, 2, 6});
      SequenceBatch kept = expect_forward_only_same(conv, input);
      SequenceBatch grad_in;
      CHECK_THROWS_WITH(conv.backward(kept, &grad_in), Catch::Contains("backward after a forward-only pass"));
      conv.forward(input, kept);
      CHECK_NOTHROW(conv.backward(kept, &grad_in));
#endif
    }
}
