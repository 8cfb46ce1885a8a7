// Per layer: a forward case computed by hand and a save/load round trip.
// (The central-difference gradient checks are in test_gradients.cpp, in double precision.)
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "helpers.hpp"
#include "layers/attention_pooling.hpp"
#include "layers/bidirectional.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/conv1d.hpp"
#include "layers/max_pool.hpp"
#include "layers/relu.hpp"
#include "layers/decoder_attention.hpp"
#include "layers/gru.hpp"
#include "layers/gru_cell.hpp"
#include "layers/global_max_pooling.hpp"
#include "layers/last_pooling.hpp"
#include "layers/mean_pooling.hpp"
#include "layers/layer_norm.hpp"
#include "layers/self_attention.hpp"
#include "layers/transformer.hpp"
#include "layers/embedding.hpp"
#include "core/loss.hpp"
#include "layers/lstm.hpp"

using namespace attnlens;
using namespace attnlens::testing;
using Catch::Matchers::WithinAbs;

namespace {
double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }
}  // namespace

TEST_CASE("Embedding looks up rows and zeroes padding", "[layers][embedding]") {
  Embedding embedding("embedding", 3, 2);
  embedding.weight.value << 0, 0, 1, 2, 3, 4;
  SequenceBatch out;
  embedding.forward(token_batch({{2, 1, 0}, {1}}, 3), out);  // sample 1 is length 1: steps 1, 2 are padding
  REQUIRE(out.values.rows() == 2);
  REQUIRE(out.values.cols() == 6);
  CHECK(out.values(0, 0) == 3);  // t=0, b=0: id 2
  CHECK(out.values(1, 0) == 4);
  CHECK(out.values(0, 1) == 1);  // t=0, b=1: id 1
  CHECK(out.values(0, 2) == 1);  // t=1, b=0: id 1
  CHECK(out.values.col(3).isZero());  // t=1, b=1: padding
  CHECK(out.values.col(4).isZero());  // t=2, b=0: padding id

  SECTION("the padding row never receives gradient") {
    SequenceBatch grad = out;
    grad.values.setOnes();
    embedding.weight.zero_grad();
    embedding.backward(grad);
    CHECK(embedding.weight.grad.row(0).isZero());
    CHECK(embedding.weight.grad(1, 0) == 2);  // id 1 used twice
    CHECK(embedding.weight.grad(2, 1) == 1);
  }
  SECTION("ids outside the vocabulary are rejected") {
    CHECK_THROWS_WITH(embedding.forward(token_batch({{3}}), out), Catch::Contains("outside vocabulary"));
  }
  SECTION("initialisation keeps the padding row zero") {
    Rng rng(3);
    embedding.init(rng);
    CHECK(embedding.weight.value.row(0).isZero());
    CHECK(!embedding.weight.value.row(1).isZero());
  }
  SECTION("save/load round trip") {
    Embedding copy("embedding", 3, 2);
    round_trip(embedding, copy);
    CHECK(same_parameters(embedding, copy));
  }
}

TEST_CASE("Dense computes W x + b", "[layers][dense]") {
  Dense dense("fc", 2, 2);
  dense.weight.value << 1, 2, 3, 4;
  dense.bias.value << 0.5, -1;
  Matrix x(2, 1);
  x << 1, -1;
  const Matrix& y = dense.forward(x);
  CHECK(y(0, 0) == Approx(-0.5));
  CHECK(y(1, 0) == Approx(-2.0));
  Dense copy("fc", 2, 2);
  round_trip(dense, copy);
  CHECK(same_parameters(dense, copy));
  CHECK(copy.forward(x) == dense.forward(x));
}

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
  SECTION("save/load round trip") {
    LSTM copy("rnn", "_l0", 1, 1, false);
    round_trip(lstm, copy);
    CHECK(same_parameters(lstm, copy));
    SequenceBatch again;
    copy.forward(sequence_batch(x, 2, 1, {2}), again);
    CHECK(again.values == out.values);
  }
}

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

  Bidirectional copy(std::make_unique<LSTM>("rnn", "_l0", 2, 3, false), std::make_unique<LSTM>("rnn", "_l0_reverse", 2, 3, true));
  round_trip(bi, copy);
  CHECK(same_parameters(bi, copy));
  Bidirectional cloned = bi;  // copies are deep
  cloned.parameters()[0]->value.setZero();
  CHECK(!bi.parameters()[0]->value.isZero());
}

TEST_CASE("Attention pooling weighs real steps only", "[layers][attention]") {
  AttentionPooling attention("attention", 1);
  attention.weight.value << 1;
  attention.bias.value << 0;
  Matrix h(1, 3);
  h << 1, 2, 3;  // the third step is padding
  const Matrix context = attention.forward(sequence_batch(h, 3, 1, {2}));
  const double e1 = std::exp(std::tanh(1.0)), e2 = std::exp(std::tanh(2.0));
  const double a1 = e1 / (e1 + e2), a2 = e2 / (e1 + e2);
  CHECK_THAT(attention.weights()(0, 0), WithinAbs(a1, 1e-6));
  CHECK_THAT(attention.weights()(1, 0), WithinAbs(a2, 1e-6));
  CHECK(attention.weights()(2, 0) == 0);
  CHECK_THAT(context(0, 0), WithinAbs(a1 * 1 + a2 * 2, 1e-6));

  SECTION("an empty sequence pools to zero") {
    const Matrix empty = attention.forward(sequence_batch(Matrix(1, 0), 0, 1, {0}));
    CHECK(empty.isZero());
  }
  SECTION("save/load round trip") {
    AttentionPooling copy("attention", 1);
    round_trip(attention, copy);
    CHECK(same_parameters(attention, copy));
  }
}

TEST_CASE("Dropout scales kept units and is the identity at inference", "[layers][dropout]") {
  Dropout dropout(0.5);
  Matrix x = Matrix::Ones(100, 100);
  Matrix y = x;
  dropout.forward(y, nullptr);
  CHECK(y == x);
  Rng rng(5);
  dropout.forward(y, &rng);
  const Eigen::Index kept = (y.array() > 0).count();
  CHECK(kept > 4500);
  CHECK(kept < 5500);
  CHECK(((y.array() == 0) || (y.array() == 2)).all());
  Matrix grad = Matrix::Ones(100, 100);
  dropout.backward(grad);
  CHECK(grad == y);  // same mask and scale
}

TEST_CASE("BCE with logits matches the formula and is stable", "[layers][loss]") {
  Matrix z(1, 2);
  z << 0, 2;
  Matrix grad;
  const double loss = bce_with_logits(z, {1, 0}, &grad);
  CHECK_THAT(loss, WithinAbs((std::log(2.0) + 2 + std::log1p(std::exp(-2.0))) / 2, 1e-6));
  CHECK_THAT(grad(0, 0), WithinAbs((0.5 - 1) / 2, 1e-7));
  CHECK_THAT(grad(0, 1), WithinAbs(sig(2) / 2, 1e-7));
  Matrix extreme(1, 2);
  extreme << 1000, -1000;
  CHECK(std::isfinite(bce_with_logits(extreme, {0, 1}, &grad)));
  CHECK_THAT(bce_with_logits(extreme, {0, 1}, nullptr), WithinAbs(1000, 1e-3));
}

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
    GRU copy("rnn", "_l0", 1, 1, false);
    round_trip(gru, copy);
    CHECK(same_parameters(gru, copy));
    Bidirectional bi(std::make_unique<GRU>("rnn", "_l0", 1, 1, false), std::make_unique<GRU>("rnn", "_l0_reverse", 1, 1, true));
    for (size_t k = 0; k < 4; ++k) bi.parameters()[k]->value = gru.parameters()[k]->value;
    SequenceBatch both;
    bi.forward(sequence_batch(x, 2, 1, {2}), both);
    CHECK(both.values.row(0) == out.values.row(0));
    Bidirectional cloned = bi;
    CHECK(cloned.parameters()[4]->name == "rnn.weight_ih_l0_reverse");
  }
}

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

TEST_CASE("DecoderAttention by hand: additive, dot and general scores, padding never attended", "[layers][decoder_attention]") {
  // Memory: two source positions, the second one padding for the second sample. Time-major:
  // column j * B + b. Values [2, L*B].
  Matrix values(2, 4);
  values << 1.0, 0.5, -1.0, 9.0,   // (j=0,b=0) (j=0,b=1) (j=1,b=0) (j=1,b=1: padding)
      2.0, -0.5, 0.5, 9.0;
  const std::vector<int> lengths = {2, 1};
  Matrix query(2, 2);
  query << 0.3, -0.6,
      0.7, 0.2;
  const auto expect = [&](DecoderAttention& attention, const std::function<double(int b, int j)>& score) {
    DecoderAttention::Memory memory;
    attention.prepare(values, 2, 2, lengths, memory);
    Matrix context;
    DecoderAttention::StepCache cache;
    attention.forward(memory, query, context, cache);
    for (int b = 0; b < 2; ++b) {
      std::vector<double> e;
      for (int j = 0; j < lengths[static_cast<size_t>(b)]; ++j) e.push_back(score(b, j));
      double total = 0;
      for (double v : e) total += std::exp(v);
      for (int j = 0; j < 2; ++j) {
        const double alpha = j < lengths[static_cast<size_t>(b)] ? std::exp(e[static_cast<size_t>(j)]) / total : 0.0;
        CHECK_THAT(cache.weights(j, b), WithinAbs(alpha, 1e-6));
      }
      for (int m = 0; m < 2; ++m) {
        double c = 0;
        for (int j = 0; j < lengths[static_cast<size_t>(b)]; ++j) c += cache.weights(j, b) * values(m, j * 2 + b);
        CHECK_THAT(context(m, b), WithinAbs(c, 1e-6));
      }
    }
    CHECK(cache.weights(1, 1) == 0);  // padding: exactly zero, whatever its values
  };
  const auto h = [&](int b, int j, int m) { return static_cast<double>(values(m, j * 2 + b)); };
  const auto q = [&](int b, int d) { return static_cast<double>(query(d, b)); };
  SECTION("dot (Luong): e_j = q · h_j") {
    DecoderAttention dot("attention", AttentionKind::Dot, 2, 2, 0);
    expect(dot, [&](int b, int j) { return q(b, 0) * h(b, j, 0) + q(b, 1) * h(b, j, 1); });
  }
  SECTION("general (Luong): e_j = q · W_a h_j") {
    DecoderAttention general("attention", AttentionKind::General, 2, 2, 0);
    general.key_weight.value << 0.5, -1.0,
        0.25, 2.0;
    expect(general, [&](int b, int j) {
      const double k0 = 0.5 * h(b, j, 0) - 1.0 * h(b, j, 1), k1 = 0.25 * h(b, j, 0) + 2.0 * h(b, j, 1);
      return q(b, 0) * k0 + q(b, 1) * k1;
    });
  }
  SECTION("additive (Bahdanau): e_j = v · tanh(W q + b + U h_j)") {
    DecoderAttention additive("attention", AttentionKind::Additive, 2, 2, 1);
    additive.query_weight.value << 0.4, -0.3;
    additive.query_bias.value << 0.1;
    additive.key_weight.value << -0.2, 0.6;
    additive.score_weight.value << 1.5;
    expect(additive, [&](int b, int j) {
      return 1.5 * std::tanh(0.4 * q(b, 0) - 0.3 * q(b, 1) + 0.1 - 0.2 * h(b, j, 0) + 0.6 * h(b, j, 1));
    });
  }
}

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
    Conv1D copy("conv0", 2, 3, 5, Conv1D::Padding::Same);
    round_trip(big, copy);
    CHECK(same_parameters(big, copy));
  }
}

TEST_CASE("ReLU and MaxPool1D by hand", "[layers][maxpool]") {
  ReLU relu(1);
  Matrix x(1, 7);
  x << -1, 2, 5, -3, 4, 9, 8;
  SequenceBatch activated;
  relu.forward(sequence_batch(x, 7, 1, {7}), activated);
  CHECK(activated.values == (Matrix(1, 7) << 0, 2, 5, 0, 4, 9, 8).finished());
  MaxPool1D pool(1, 3);
  SequenceBatch pooled;
  pool.forward(sequence_batch(x, 7, 1, {5}), pooled);  // steps 5, 6 are padding (9 and 8 must not win)
  REQUIRE(pooled.steps == 3);
  CHECK(pooled.lengths[0] == 2);
  CHECK(pooled.values(0, 0) == 5);
  CHECK(pooled.values(0, 1) == 4);  // window [-3, 4] of real steps only
  CHECK(pooled.values(0, 2) == 0);
}

TEST_CASE("global max, mean and last pooling over real steps", "[layers][pooling]") {
  Matrix h(1, 6);  // steps 3, batch 2: sample 0 = [1, 7, 3], sample 1 = [4, 9 (padding), 8 (padding)]
  h << 1, 4, 7, 9, 3, 8;
  const SequenceBatch batch = sequence_batch(h, 3, 2, {3, 1});
  GlobalMaxPooling max_pool;
  CHECK(max_pool.forward(batch) == (Matrix(1, 2) << 7, 4).finished());
  MeanPooling mean_pool;
  CHECK(mean_pool.forward(batch).isApprox((Matrix(1, 2) << 11.0 / 3, 4).finished()));
  LastPooling last_pool;
  CHECK(last_pool.forward(batch) == (Matrix(1, 2) << 3, 4).finished());
  const SequenceBatch empty = sequence_batch(Matrix(1, 0), 0, 1, {0});
  CHECK(max_pool.forward(empty).isZero());
  CHECK(mean_pool.forward(empty).isZero());
}

TEST_CASE("LayerNorm normalises each column", "[layers][transformer]") {
  LayerNorm norm("norm", 3);
  norm.weight.value << 1, 2, 1;
  norm.bias.value << 0, 0, 1;
  Matrix x(3, 1), y;
  x << 1, 2, 3;
  norm.forward(x, y);
  const double s = 1 / std::sqrt(2.0 / 3 + 1e-5);  // mean 2, variance 2/3
  CHECK_THAT(y(0, 0), WithinAbs(-1 * s, 1e-5));
  CHECK_THAT(y(1, 0), WithinAbs(0.0, 1e-6));
  CHECK_THAT(y(2, 0), WithinAbs(1 * s + 1, 1e-5));
}

TEST_CASE("self-attention by hand: one head, padding never attended", "[layers][transformer]") {
  MultiHeadSelfAttention attention("self_attn", 2, 1);
  for (int part = 0; part < 3; ++part) attention.in_proj_weight.value.middleRows(2 * part, 2).setIdentity();  // Q = K = V = x
  attention.in_proj_bias.value.setZero();
  attention.out_proj.weight.value.setIdentity();
  attention.out_proj.bias.value.setZero();
  Matrix x(2, 3);
  x << 1, 0, 5,
       0, 1, 5;  // step 2 is padding
  Matrix out;
  attention.forward(sequence_batch(x, 3, 1, {2}), out);
  // Scores QᵀK/√2 for the two real steps: [[1, 0], [0, 1]] / √2.
  const double e = std::exp(1 / std::sqrt(2.0)), a_same = e / (e + 1), a_other = 1 / (e + 1);
  const Matrix& a = attention.attention(0, 0);
  REQUIRE(a.rows() == 2);
  CHECK_THAT(a(0, 0), WithinAbs(a_same, 1e-6));
  CHECK_THAT(a(1, 0), WithinAbs(a_other, 1e-6));  // [keys, queries]: key 1 as seen by query 0
  CHECK_THAT(out(0, 0), WithinAbs(a_same, 1e-6));  // Σ_k a(k, 0) v_k
  CHECK_THAT(out(1, 0), WithinAbs(a_other, 1e-6));
  CHECK(out.col(2).isZero());
}

TEST_CASE("Transformer encoder: PyTorch names, round trip, per-head attention", "[layers][transformer]") {
  TransformerEncoder encoder("encoder", 8, 2, 4, 16);
  Rng rng(3);
  encoder.init(rng);
  std::vector<std::string> names;
  for (auto* p : encoder.parameters()) names.push_back(p->name);
  CHECK(names.front() == "encoder.layers.0.self_attn.in_proj_weight");
  CHECK(std::find(names.begin(), names.end(), "encoder.layers.1.linear2.bias") != names.end());
  CHECK(std::find(names.begin(), names.end(), "encoder.layers.0.norm2.weight") != names.end());
  CHECK(names.back() == "encoder.norm.bias");
  TransformerEncoder copy("encoder", 8, 2, 4, 16);
  round_trip(encoder, copy);
  CHECK(same_parameters(encoder, copy));
  SequenceBatch out;
  encoder.forward(sequence_batch(Matrix::Random(8, 10), 5, 2, {5, 3}), out);
  const Matrix& a = encoder.self_attention(1).attention(1, 3);
  REQUIRE(a.rows() == 3);
  CHECK(a.colwise().sum().isOnes(1e-5));  // each query's weights over the keys
}
