// The hand-written recurrent kernels (src/core/kernels.cpp) against plain double-precision
// formulas, and the two paths of a recurrent step (per-sample GEMV for small batches, Eigen GEMM
// for large ones) against each other, at sizes that exercise the vector body and the tails.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/kernels.hpp"
#include "core/rng.hpp"
#include "helpers.hpp"
#include "core/simd_kernels.hpp"
#include "layers/bidirectional.hpp"
#include "layers/conv1d.hpp"
#include "layers/gru.hpp"
#include "layers/lstm.hpp"
#include "layers/recurrent_inference.hpp"

using namespace attnlens;
using namespace attnlens::testing;

namespace {

Eigen::MatrixXd random_matrix(int rows, int cols, Rng& rng, double scale = 1.0) {
  Eigen::MatrixXd m(rows, cols);
  for (int j = 0; j < cols; ++j)
    for (int i = 0; i < rows; ++i) m(i, j) = scale * (2.0 * rng.uniform() - 1.0);
  return m;
}

}  // namespace

TEST_CASE("gemv_accumulate adds W·x to y for every shape", "[kernels]") {
  Rng rng(3);
  for (auto [rows, cols] : {std::pair{256, 64}, {192, 64}, {37, 13}, {8, 3}, {1, 1}, {100, 0}}) {
    CAPTURE(rows, cols);
    const Eigen::MatrixXd w = random_matrix(rows, cols, rng), x = random_matrix(cols, 1, rng), y = random_matrix(rows, 1, rng);
    const Matrix wf = w.cast<Scalar>(), xf = x.cast<Scalar>();
    Matrix yf = y.cast<Scalar>();
    kernels::gemv_accumulate(rows, cols, wf.data(), xf.data(), yf.data());
    const Eigen::MatrixXd expected = y + w * x;
    CHECK((yf.cast<double>() - expected).cwiseAbs().maxCoeff() <= 1e-5 * (1 + cols));
  }
}

TEST_CASE("the gate functions stay accurate and finite over the whole float range", "[kernels]") {
  // lstm_cell with c_{t-1} = 0 and g = 0 exposes σ(i), σ(f), σ(o) and tanh(g) directly; the
  // vector body runs them on the first kLanes-multiple of H and the scalar tail on the rest.
  std::vector<double> xs;
  for (double v = -120; v <= 120; v += 0.0371) xs.push_back(v);
  for (double v : {0.0, 1e-8, -1e-8, 1e-30, 88.7, -88.7, 1e30, -1e30}) xs.push_back(v);
  const int H = static_cast<int>(xs.size());
  Matrix gates(4 * H, 1), cell = Matrix::Zero(H, 1), hidden(H, 1);
  for (int k = 0; k < H; ++k) gates(k) = gates(H + k) = gates(2 * H + k) = gates(3 * H + k) = static_cast<Scalar>(xs[k]);
  kernels::lstm_cell(H, gates.data(), cell.data(), hidden.data());
  double worst_sigmoid = 0, worst_tanh = 0;
  for (int k = 0; k < H; ++k) {
    const double x = static_cast<Scalar>(xs[k]);
    REQUIRE(std::isfinite(gates(k)));
    REQUIRE(std::isfinite(gates(2 * H + k)));
    REQUIRE(std::isfinite(hidden(k)));
    worst_sigmoid = std::max(worst_sigmoid, std::abs(gates(k) - 1.0 / (1.0 + std::exp(-x))));
    worst_tanh = std::max(worst_tanh, std::abs(gates(2 * H + k) - std::tanh(x)));
  }
  CHECK(worst_sigmoid < 3e-7);
  CHECK(worst_tanh < 6e-7);
}

TEST_CASE("recurrent steps: the per-sample kernels and the batched GEMM agree, padding included", "[kernels][lstm][gru]") {
  const int T = 7, E = 5;
  const std::vector<int> lengths = {7, 3, 7, 1, 5, 6};  // batch 6 > kGemvBatch: the GEMM path
  static_assert(kernels::kGemvBatch < 6);
  Rng rng(11);
  const Eigen::MatrixXd x = random_matrix(E, T * 6, rng, 2.0);
  for (int H : {12, 64, 3}) {  // 12 = one AVX vector + a 4-lane tail; 3: the scalar tail only
    CAPTURE(H);
    for (const bool gru : {false, true}) {
      CAPTURE(gru);
      for (const bool reverse : {false, true}) {
        std::unique_ptr<SequenceLayer> layer;
        if (gru) layer = std::make_unique<GRU>("rnn", "_l0", E, H, reverse);
        else layer = std::make_unique<LSTM>("rnn", "_l0", E, H, reverse);
        layer->init(rng);
        for (Parameter* p : layer->parameters())  // non-zero biases too
          p->value += (random_matrix(p->value.rows(), p->value.cols(), rng, 0.3)).cast<Scalar>();
        SequenceBatch batched;
        Matrix xb = x.cast<Scalar>();
        layer->forward(sequence_batch(xb, T, 6, lengths), batched);
        for (int b = 0; b < 6; ++b) {
          Matrix xs(E, lengths[b]);
          for (int t = 0; t < lengths[b]; ++t) xs.col(t) = xb.col(t * 6 + b);
          SequenceBatch alone;
          layer->forward(sequence_batch(xs, lengths[b], 1, {lengths[b]}), alone);
          for (int t = 0; t < T; ++t) {
            const auto got = batched.values.col(t * 6 + b);
            if (t < lengths[b]) CHECK((got - alone.values.col(t)).cwiseAbs().maxCoeff() < 2e-6);
            else CHECK(got.isZero());
          }
        }
      }
    }
  }
}

namespace {

// A recurrent layer (LSTM or GRU, optionally bidirectional) with random weights and biases.
std::unique_ptr<SequenceLayer> random_recurrent(bool gru, bool bidirectional, int E, int H, Rng& rng) {
  const auto direction = [&](bool reverse) -> std::unique_ptr<SequenceLayer> {
    if (gru) return std::make_unique<GRU>("rnn", reverse ? "_l0_reverse" : "_l0", E, H, reverse);
    return std::make_unique<LSTM>("rnn", reverse ? "_l0_reverse" : "_l0", E, H, reverse);
  };
  std::unique_ptr<SequenceLayer> layer;
  if (!bidirectional) layer = direction(false);
  else if (gru) layer = std::make_unique<Bidirectional>(direction(false), direction(true), Bidirectional::copier<GRU>());
  else layer = std::make_unique<Bidirectional>(direction(false), direction(true), Bidirectional::copier<LSTM>());
  layer->init(rng);
  for (Parameter* p : layer->parameters())  // non-zero biases, and gates driven into saturation now and then
    p->value += (random_matrix(p->value.rows(), p->value.cols(), rng, 0.6)).cast<Scalar>();
  return layer;
}

}  // namespace

TEST_CASE("fused recurrent steps: inference equals the kept path, alone and with both directions interleaved",
          "[kernels][lstm][gru][bidirectional]") {
  // Under ForwardOnly the layers run kernels::gru_steps / lstm_steps sample by sample (W_hh
  // packed gate-interleaved, the gates on registers; a bidirectional layer's directions in one
  // loop; each distinct input column projected once); otherwise the GEMV and the separate gate pass. H: one vector, blocks with a shorter last one
  // (for the SIMD lanes of this build: 16 with AVX-512, 8 with AVX, 4 in wasm), and sizes that
  // are not a multiple of the lanes (the unfused path: the same results by construction).
  if constexpr (std::is_same_v<Scalar, float>) CHECK(kernels::fused_steps(64));
  const int T = 9, E = 6;
  Rng rng(17);
  Matrix x = random_matrix(E, T, rng, 2.0).cast<Scalar>();
  x.col(4) = x.col(1);  // a recurring word: its projection is computed once
  x.col(7) = x.col(1);
  x.col(8) = x.col(2);
  for (int H : {16, 48, 64, 80, 112, 12, 3}) {
    CAPTURE(H, kernels::fused_steps(H));
    for (const bool gru : {false, true}) {
      for (const bool bidirectional : {false, true}) {
        CAPTURE(gru, bidirectional);
        auto layer = random_recurrent(gru, bidirectional, E, H, rng);
        for (const int length : {T, 5, 1}) {  // 5, 1: padding steps at the end (the reverse direction starts on them)
          CAPTURE(length);
          const SequenceBatch input = sequence_batch(x, T, 1, {length});
          SequenceBatch kept, fused;
          layer->forward(input, kept);
          {
            ForwardOnly forward_only;
            layer->forward(input, fused);
          }
          REQUIRE(fused.values.rows() == kept.values.rows());
          REQUIRE(fused.values.cols() == T);
          CHECK((fused.values - kept.values).cwiseAbs().maxCoeff() <= 1e-6);
          CHECK(fused.values.rightCols(T - length).isZero());
        }
        // A batch (occlusion's texts with a word left out each): sample by sample, the padding
        // columns zero, the words the samples share projected once.
        const std::vector<int> lengths = {T, 5, 1, 8};
        Matrix xb(E, 4 * T);
        for (int t = 0; t < T; ++t)
          for (int b = 0; b < 4; ++b) {
            if (t < lengths[b]) xb.col(4 * t + b) = x.col((t + b) % T);
            else xb.col(4 * t + b).setZero();
          }
        const SequenceBatch input = sequence_batch(xb, T, 4, lengths);
        SequenceBatch kept, fused;
        layer->forward(input, kept);
        {
          ForwardOnly forward_only;
          layer->forward(input, fused);
        }
        REQUIRE(fused.values.cols() == 4 * T);
        CHECK((fused.values - kept.values).cwiseAbs().maxCoeff() <= 1e-6);
      }
    }
  }
}

TEST_CASE("distinct_columns: each column once, in order of first appearance, bit for bit", "[kernels]") {
  Rng rng(29);
  Matrix x = random_matrix(5, 9, rng).cast<Scalar>();
  x.col(3) = x.col(0);
  x.col(6) = x.col(0);
  x.col(8) = x.col(5);
  x.col(7) = x.col(2);
  x(4, 7) = std::nextafter(x(4, 7), Scalar(2));  // one value one ulp apart: a column of its own
  x.col(1).setZero();
  x.col(2).setZero();
  x(0, 2) = -Scalar(0);  // −0 differs from 0 in a bit
  Matrix distinct;
  std::vector<int> column;
  recurrent_inference::distinct_columns(x, distinct, column);
  CHECK(column == std::vector<int>{0, 1, 2, 0, 3, 4, 0, 5, 4});
  REQUIRE(distinct.cols() == 6);
  for (int t = 0; t < 9; ++t) CHECK(std::memcmp(distinct.col(column[t]).data(), x.col(t).data(), 5 * sizeof(Scalar)) == 0);
  recurrent_inference::distinct_columns(Matrix(5, 0), distinct, column);  // an empty text
  CHECK(distinct.cols() == 0);
  CHECK(column.empty());
  Matrix many = random_matrix(3, 5000, rng).cast<Scalar>();  // many columns: the table grows
  many.rightCols(2500) = many.leftCols(2500);
  recurrent_inference::distinct_columns(many, distinct, column);
  CHECK(distinct.cols() == 2500);
  CHECK(column[4999] == 2499);
}

namespace {

// The kernel modules' SIMD interface (src/wasm/kernel_module.cpp) on plain GCC/Clang vectors of 4
// floats: their gate functions (simd::rational_sigmoid, rational_tanh) and their build of the
// fused steps, run natively.
struct PortableSimd {
  typedef float Packet __attribute__((vector_size(16)));
  static constexpr int kLanes = 4;
  static Packet load(const float* p) {
    Packet v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static Packet load_aligned(const float* p) { return load(p); }
  static void store(float* p, Packet v) { std::memcpy(p, &v, sizeof v); }
  static Packet splat(float s) { return Packet{s, s, s, s}; }
  static Packet madd(Packet a, Packet b, Packet c) { return c + a * b; }
  static Packet max(Packet a, Packet b) { return a > b ? a : b; }
  static Packet min(Packet a, Packet b) { return a < b ? a : b; }
  static Packet sigmoid(Packet x, const float* c) { return simd::rational_sigmoid<PortableSimd>(x, c); }
  static Packet tanh(Packet x, const float* c) { return simd::rational_tanh<PortableSimd>(x, c); }
  static Packet shift_into_exponent(Packet v) {
    typedef int32_t Bits __attribute__((vector_size(16)));
    Bits bits;
    std::memcpy(&bits, &v, sizeof v);
    bits <<= 23;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
};

}  // namespace

TEST_CASE("the kernel modules' gate functions and fused steps, run natively", "[kernels][lstm][gru]") {
  double worst_sigmoid = 0, worst_tanh = 0;
  for (double v = -120; v <= 120; v += 0.0173) {
    const float x = static_cast<float>(v);
    const auto s = PortableSimd::sigmoid(PortableSimd::splat(x), simd::kGateCoefficients),
               t = PortableSimd::tanh(PortableSimd::splat(x), simd::kGateCoefficients);
    REQUIRE(std::isfinite(s[0]));
    REQUIRE(std::isfinite(t[0]));
    worst_sigmoid = std::max(worst_sigmoid, std::abs(s[0] - 1.0 / (1.0 + std::exp(-double(x)))));
    worst_tanh = std::max(worst_tanh, std::abs(t[0] - std::tanh(double(x))));
  }
  CHECK(worst_sigmoid < 3e-7);
  CHECK(worst_tanh < 6e-7);

  // One GRU and one LSTM step of two directions against the formulas in double.
  Rng rng(23);
  const auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int H : {4, 12, 20, 64}) {  // 1, 3, 5 and 16 vectors: every block shape of both cells
    CAPTURE(H);
    for (const int G : {3, 4}) {
      CAPTURE(G);
      const int block = G == 3 ? simd::kGruStepVectors : simd::kLstmStepVectors;
      std::vector<Eigen::MatrixXd> w, b, proj, h, c;
      std::vector<std::vector<float>> packed(2), wf(2), bf(2), projf(2), hf(2), cf(2), next(2, std::vector<float>(H));
      simd::RecurrentStep steps[2];
      for (int d = 0; d < 2; ++d) {
        w.push_back(random_matrix(G * H, H, rng, 0.5));
        b.push_back(random_matrix(G * H, 1, rng, 1.0));
        proj.push_back(random_matrix(G * H, 1, rng, 3.0));
        h.push_back(random_matrix(H, 1, rng));
        c.push_back(random_matrix(H, 1, rng));
        packed[d].resize(static_cast<size_t>(G) * H * H);
        for (int v0 = 0; v0 < H / 4; v0 += block) {  // PackedRecurrent's layout, for 4 lanes
          const int width = std::min(block, H / 4 - v0) * 4;
          for (int j = 0; j < H; ++j)
            for (int g = 0; g < G; ++g)
              for (int u = 0; u < width; ++u)
                packed[d][static_cast<size_t>(v0) * 4 * G * H + static_cast<size_t>(j) * G * width + g * width + u] =
                    static_cast<float>(w[d](g * H + v0 * 4 + u, j));
        }
        const auto floats = [](const Eigen::MatrixXd& m) { std::vector<float> f(m.data(), m.data() + m.size()); return f; };
        bf[d] = floats(b[d]), projf[d] = floats(proj[d]), hf[d] = floats(h[d]), cf[d] = floats(c[d]);
        steps[d] = {packed[d].data(), bf[d].data(),          projf[d].data(), hf[d].data(),
                    next[d].data(),   cf[d].data(),          simd::kGateCoefficients};
      }
      if (G == 3) simd::recurrent_steps<PortableSimd, 3>(H, steps, 2);
      else simd::recurrent_steps<PortableSimd, 4>(H, steps, 2);
      for (int d = 0; d < 2; ++d) {
        const Eigen::MatrixXd s = w[d] * h[d];
        for (int k = 0; k < H; ++k) {
          if (G == 3) {
            const double r = sig(proj[d](k) + b[d](k) + s(k)), z = sig(proj[d](H + k) + b[d](H + k) + s(H + k));
            const double n = std::tanh(proj[d](2 * H + k) + r * (b[d](2 * H + k) + s(2 * H + k)));
            CHECK(std::abs(next[d][k] - ((1 - z) * n + z * h[d](k))) < 2e-6);
          } else {
            const double i = sig(proj[d](k) + s(k)), f = sig(proj[d](H + k) + s(H + k));
            const double u = std::tanh(proj[d](2 * H + k) + s(2 * H + k)), o = sig(proj[d](3 * H + k) + s(3 * H + k));
            const double cell = f * c[d](k) + i * u;
            CHECK(std::abs(cf[d][k] - cell) < 2e-6);
            CHECK(std::abs(next[d][k] - o * std::tanh(cell)) < 2e-6);
          }
        }
      }
    }
  }
}

TEST_CASE("lstm_cell and gru_cell follow PyTorch's equations", "[kernels][lstm][gru]") {
  Rng rng(5);
  const auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int H : {1, 4, 8, 13, 64}) {
    CAPTURE(H);
    const Eigen::MatrixXd g = random_matrix(4 * H, 1, rng, 4.0), c = random_matrix(H, 1, rng);
    Matrix gf = g.cast<Scalar>(), cf = c.cast<Scalar>(), hf(H, 1);
    kernels::lstm_cell(H, gf.data(), cf.data(), hf.data());
    for (int k = 0; k < H; ++k) {
      const double i = sig(g(k)), f = sig(g(H + k)), u = std::tanh(g(2 * H + k)), o = sig(g(3 * H + k));
      const double cell = f * c(k) + i * u;
      CHECK(std::abs(gf(k) - i) < 1e-6);
      CHECK(std::abs(gf(2 * H + k) - u) < 1e-6);
      CHECK(std::abs(cf(k) - cell) < 2e-6);
      CHECK(std::abs(hf(k) - o * std::tanh(cell)) < 2e-6);
    }
    const Eigen::MatrixXd xp = random_matrix(3 * H, 1, rng, 3.0), hp = random_matrix(3 * H, 1, rng, 3.0), h = random_matrix(H, 1, rng);
    const Matrix xpf = xp.cast<Scalar>(), hpf = hp.cast<Scalar>();
    Matrix gates(3 * H, 1), hidden = h.cast<Scalar>();
    kernels::gru_cell(H, xpf.data(), hpf.data(), gates.data(), hidden.data());
    for (int k = 0; k < H; ++k) {
      const double r = sig(xp(k) + hp(k)), z = sig(xp(H + k) + hp(H + k)), n = std::tanh(xp(2 * H + k) + r * hp(2 * H + k));
      CHECK(std::abs(gates(H + k) - z) < 1e-6);
      CHECK(std::abs(hidden(k) - ((1 - z) * n + z * h(k))) < 2e-6);
    }
  }
}

TEST_CASE("softmax matches the formula, for any length and extreme scores", "[kernels]") {
  Rng rng(9);
  for (int n : {1, 3, 4, 8, 17, 200}) {
    CAPTURE(n);
    for (double spread : {1.0, 30.0, 1000.0}) {
      Matrix xf = random_matrix(n, 1, rng, spread).cast<Scalar>();
      const Eigen::MatrixXd x = xf.cast<double>();  // the reference sees the same float inputs
      const double scale = n % 2 ? 1.0 : 0.25;  // attention's 1/√d, folded in
      kernels::softmax(xf.data(), n, static_cast<Scalar>(scale));
      const Eigen::ArrayXd e = (scale * (x.array() - x.maxCoeff())).exp();
      const Eigen::ArrayXd expected = e / e.sum();
      CHECK((xf.cast<double>().array() - expected).abs().maxCoeff() < 1e-6);
      CHECK(std::abs(xf.sum() - 1.0) < 1e-5);
    }
  }
}

TEST_CASE("softmax's exp keeps its relative accuracy down to the smallest normal results", "[kernels]") {
  // softmax([0, −t]) = [1, e^−t] / (1 + e^−t): the second entry is e^x at x = −t, through the
  // vector path (8 lanes of the same pair) and the scalar tail (n = 2).
  double worst = 0;
  for (double t = 0; t <= 86; t += 0.173) {
    for (int n : {2, 16}) {
      std::vector<Scalar> x(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) x[static_cast<size_t>(i)] = static_cast<Scalar>(i % 2 ? -t : 0.0);
      kernels::softmax(x.data(), n, Scalar(1));
      const double small = std::exp(-static_cast<double>(static_cast<Scalar>(t)));
      const double expected = small / ((n / 2) * (1 + small));
      worst = std::max(worst, std::abs(static_cast<double>(x[1]) / expected - 1));
    }
  }
  CAPTURE(worst);
  CHECK(worst < 1e-6);
}

TEST_CASE("softmax's exp, as the kernel interface computes it, over every exponent it takes", "[kernels]") {
  // simd::exp_nonpositive at 40,000 evenly spaced points of [−87.3, 0], in the kernel modules' interface:
  // the relative error its header states (1.9e-7), and 0 ↦ 1 exactly.
  double worst = 0;
  for (double x = -87.3; x <= 0; x += 87.3 / 40000) {
    const float v = static_cast<float>(x);
    const double got = simd::exp_nonpositive<PortableSimd>(PortableSimd::splat(v), simd::kExpCoefficients)[0];
    worst = std::max(worst, std::abs(got / std::exp(static_cast<double>(v)) - 1));
  }
  CAPTURE(worst);
  CHECK(worst < 1.9e-7);
  CHECK(simd::exp_nonpositive<PortableSimd>(PortableSimd::splat(0.0f), simd::kExpCoefficients)[0] == 1.0f);
  // Below the clamp, e^−87.3 (a normal float), never 0, an infinity or a NaN.
  const float floor = simd::exp_nonpositive<PortableSimd>(PortableSimd::splat(-1e30f), simd::kExpCoefficients)[0];
  CHECK(std::isnormal(floor));
  CHECK(std::abs(floor / std::exp(static_cast<double>(-87.3f)) - 1) < 1.9e-7);
}

TEST_CASE("weights kept in a second layout follow in-place changes (as Adam makes them)", "[kernels][lstm][gru][conv1d]") {
  Rng rng(21);
  const int T = 6, E = 4;
  const Matrix x = random_matrix(E, T, rng).cast<Scalar>();
  std::vector<std::unique_ptr<SequenceLayer>> layers;
  layers.push_back(std::make_unique<LSTM>("rnn", "_l0", E, 8, false));
  layers.push_back(std::make_unique<GRU>("rnn", "_l0", E, 8, true));
  layers.push_back(std::make_unique<Conv1D>("conv", E, 5, 3, Conv1D::Padding::Same));
  for (auto& layer : layers) {
    layer->init(rng);
    SequenceBatch before, after, fresh_out;
    layer->forward(sequence_batch(x, T, 1, {T}), before);
    Parameter& w = *layer->parameters()[layer->parameters().size() == 4 ? 1 : 0];  // W_hh, or the conv weight
    CAPTURE(w.name);
    w.value(0, 1) += Scalar(0.75);  // in place: same buffer, same shape
    layer->forward(sequence_batch(x, T, 1, {T}), after);
    CHECK(after.values != before.values);
    std::unique_ptr<SequenceLayer> fresh;  // the same weights, never run before
    if (w.name.rfind("conv", 0) == 0) fresh = std::make_unique<Conv1D>("conv", E, 5, 3, Conv1D::Padding::Same);
    else if (dynamic_cast<LSTM*>(layer.get())) fresh = std::make_unique<LSTM>("rnn", "_l0", E, 8, false);
    else fresh = std::make_unique<GRU>("rnn", "_l0", E, 8, true);
    for (size_t k = 0; k < layer->parameters().size(); ++k) fresh->parameters()[k]->value = layer->parameters()[k]->value;
    fresh->forward(sequence_batch(x, T, 1, {T}), fresh_out);
    CHECK(after.values == fresh_out.values);
  }
}

TEST_CASE("gemm: packed W·x + b (and ReLU) equals Eigen's product for every shape class", "[kernels][gemm]") {
  // Panel edges (rows around multiples of the panel height), tile edges (n around multiples of
  // kTile and kColumnBlock), one input, none, length 1, and x read with a stride above its
  // height (a block of a larger matrix) or below it (Conv1D's overlapping windows).
  Rng rng(11);
  const int panel = kernels::PackedWeights::panel_rows();
  const std::vector<int> row_counts = {1, 3, panel - 1, panel, panel + 1, 2 * panel + 3, 64, 192, 256};
  int cases = 0;
  for (int rows : row_counts)
    for (int cols : {0, 1, 5, 64, 129})
      for (int n : {0, 1, 2, 3, 4, 5, 7, 63, 64, 65, 131})
        for (int stride_extra : {0, 3, -1}) {
          if (stride_extra < 0 && cols < 2) continue;
          const int ldx = cols + stride_extra;
          CAPTURE(rows, cols, n, ldx);
          const Eigen::MatrixXd w = random_matrix(rows, cols, rng), b = random_matrix(rows, 1, rng);
          const int x_size = n == 0 ? 1 : (n - 1) * ldx + cols;
          const Eigen::MatrixXd xs = random_matrix(std::max(x_size, 1), 1, rng);
          Eigen::MatrixXd x(cols, n);
          for (int j = 0; j < n; ++j)
            for (int k = 0; k < cols; ++k) x(k, j) = xs(j * ldx + k);
          const ParamMatrix wf = w.cast<Scalar>();
          const Matrix bf = b.cast<Scalar>(), xf = xs.cast<Scalar>();
          kernels::PackedWeights packed;
          packed.update(wf);
          for (const int variant : {0, 1, 2}) {  // no bias; bias; bias and ReLU
            const bool with_bias = variant > 0, relu = variant == 2;
            Matrix y = Matrix::Constant(rows, n, Scalar(7));
            kernels::gemm(packed, with_bias ? bf.data() : nullptr, xf.data(), ldx, n, y.data(),
                          relu ? kernels::Activation::Relu : kernels::Activation::None);
            Eigen::MatrixXd expected = w * x;
            if (with_bias) expected = expected.colwise() + b.col(0);
            if (relu) expected = expected.cwiseMax(0.0);
            if (n > 0) CHECK((y.cast<double>() - expected).cwiseAbs().maxCoeff() <= 1e-5 * (1 + cols));
          }
          ++cases;
        }
  CHECK(cases > 1000);
}

TEST_CASE("gemm: packed weights follow in-place changes and keep nothing stale", "[kernels][gemm]") {
  Rng rng(12);
  ParamMatrix w = random_matrix(20, 9, rng).cast<Scalar>();
  const Matrix x = random_matrix(9, 6, rng).cast<Scalar>();
  kernels::PackedWeights packed;
  CHECK(packed.update(w));
  CHECK_FALSE(packed.update(w));  // the same bits: nothing to do
  w(19, 8) += Scalar(0.5);        // one weight, in place (an optimiser step)
  CHECK(packed.update(w));
  Matrix y(20, 6);
  kernels::gemm(packed, nullptr, x.data(), 9, 6, y.data());
  CHECK((y - w * x).cwiseAbs().maxCoeff() <= Scalar(1e-5));
  const ParamMatrix smaller = w.topRows(5);
  CHECK(packed.update(smaller));  // another shape
  CHECK(packed.rows() == 5);
}

TEST_CASE("gemm: weights packed from strided memory, results into a block of a taller matrix", "[kernels][gemm]") {
  // As self-attention uses it: Kᵀ and V read in place from the Q/K/V projections of one sample
  // of a batch, the context written into one head's rows.
  Rng rng(13);
  for (auto [rows, cols] : {std::pair{37, 16}, {16, 37}, {1, 5}, {64, 1}}) {
    CAPTURE(rows, cols);
    const int row_stride = 3 * cols + 2, col_stride = 1;  // a row of W is contiguous, rows far apart
    const Eigen::MatrixXd memory = random_matrix(rows * row_stride + cols, 1, rng);
    Eigen::MatrixXd w(rows, cols);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) w(r, c) = memory(r * row_stride + c * col_stride);
    const Matrix mf = memory.cast<Scalar>();
    for (const bool transposed : {false, true}) {
      kernels::PackedWeights packed;
      const Eigen::MatrixXd expected_w = transposed ? Eigen::MatrixXd(w.transpose()) : w;
      if (transposed) packed.pack_strided(mf.data(), cols, rows, col_stride, row_stride);
      else packed.pack_strided(mf.data(), rows, cols, row_stride, col_stride);
      REQUIRE(packed.rows() == expected_w.rows());
      const int n = 7, y_stride = static_cast<int>(expected_w.rows()) + 5;
      const Eigen::MatrixXd x = random_matrix(static_cast<int>(expected_w.cols()), n, rng);
      const Matrix xf = x.cast<Scalar>();
      Matrix y = Matrix::Constant(y_stride, n, Scalar(9));
      kernels::gemm(packed, nullptr, xf.data(), xf.rows(), n, y.data() + 2, y_stride);
      const Eigen::MatrixXd expected = expected_w * x;
      CHECK((y.middleRows(2, expected_w.rows()).cast<double>() - expected).cwiseAbs().maxCoeff() <= 1e-5 * (1 + cols + rows));
      CHECK((y.topRows(2).array() == Scalar(9)).all());  // outside the block: untouched
      CHECK((y.bottomRows(3).array() == Scalar(9)).all());
    }
  }
}
