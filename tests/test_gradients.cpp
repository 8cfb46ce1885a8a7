// Central-difference gradient checks, compiled against the double-precision engine
// (ATTNLENS_SCALAR=double). Every layer's parameter and input gradients, and the whole
// model's, are compared with (f(x + h) − f(x − h)) / 2h on a random linear functional of
// the output. Inputs include padding, so masking is checked too.
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
#include "layers/gru.hpp"
#include "layers/global_max_pooling.hpp"
#include "layers/last_pooling.hpp"
#include "layers/mean_pooling.hpp"
#include "layers/layer_norm.hpp"
#include "layers/self_attention.hpp"
#include "layers/transformer.hpp"
#include "layers/embedding.hpp"
#include "core/loss.hpp"
#include "layers/lstm.hpp"
#include "models/classifier.hpp"
#include "layers/decoder_attention.hpp"
#include "layers/gru_cell.hpp"
#include "models/translator.hpp"

using namespace attnlens;
using namespace attnlens::testing;

static_assert(std::is_same<Scalar, double>::value, "gradient checks need the double-precision engine");

namespace {

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-6;  // on |analytic − numeric| / max(1, |analytic|, |numeric|)

// Compares analytic[i] with the central difference of loss() in *entries[i].
void expect_gradients(const std::string& what, const std::function<double()>& loss, const std::vector<double*>& entries,
                      const std::vector<double>& analytic) {
  REQUIRE(entries.size() == analytic.size());
  double worst = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const double saved = *entries[i];
    *entries[i] = saved + kStep;
    const double up = loss();
    *entries[i] = saved - kStep;
    const double down = loss();
    *entries[i] = saved;
    const double numeric = (up - down) / (2 * kStep);
    const double error = std::abs(analytic[i] - numeric) / std::max({1.0, std::abs(analytic[i]), std::abs(numeric)});
    worst = std::max(worst, error);
    INFO(what << " entry " << i << ": analytic " << analytic[i] << " numeric " << numeric);
    REQUIRE(error < kTolerance);
  }
  INFO(what << ": worst relative error " << worst);
  CHECK(worst < kTolerance);
}

void expect_parameter_gradients(Module& module, const std::function<double()>& loss, const std::function<void()>& backward) {
  for (Parameter* p : module.parameters()) p->zero_grad();
  backward();
  for (Parameter* p : module.parameters()) {
    std::vector<double*> entries;
    std::vector<double> analytic;
    for (Eigen::Index k = 0; k < p->value.size(); ++k) {
      entries.push_back(p->value.data() + k);
      analytic.push_back(p->grad.data()[k]);
    }
    expect_gradients(p->name, loss, entries, analytic);
  }
}

// Checks dL/dx for every entry of x against the analytic gradient `grad` (same shape).
void expect_input_gradients(const std::function<double()>& loss, Matrix& x, const Matrix& grad) {
  std::vector<double*> entries;
  std::vector<double> analytic;
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    entries.push_back(x.data() + k);
    analytic.push_back(grad.data()[k]);
  }
  expect_gradients("input", loss, entries, analytic);
}

Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.normal();
  return m;
}

// Checks a sequence layer: loss = Σ R ⊙ out, gradients for parameters and input.
void check_sequence_layer(SequenceLayer& layer, SequenceBatch input, Rng& rng) {
  SequenceBatch out;
  layer.forward(input, out);
  const Matrix projection = random_matrix(out.values.rows(), out.values.cols(), rng);
  const auto loss = [&]() {
    SequenceBatch o;
    layer.forward(input, o);
    return (o.values.array() * projection.array()).sum();
  };
  SequenceBatch grad_in;
  const auto backward = [&]() {
    SequenceBatch o;
    layer.forward(input, o);
    o.values = projection;
    layer.backward(o, &grad_in);
  };
  expect_parameter_gradients(layer, loss, backward);
  expect_input_gradients(loss, input.values, grad_in.values);
}

}  // namespace

TEST_CASE("gradient check: Dense", "[gradients][dense]") {
  Rng rng(1);
  Dense dense("fc", 4, 3);
  dense.init(rng);
  dense.bias.value = random_matrix(3, 1, rng);
  Matrix x = random_matrix(4, 5, rng);
  const Matrix projection = random_matrix(3, 5, rng);
  const auto loss = [&]() { return (dense.forward(x).array() * projection.array()).sum(); };
  Matrix grad_x;
  expect_parameter_gradients(dense, loss, [&]() { dense.forward(x); grad_x = dense.backward(projection); });
  expect_input_gradients(loss, x, grad_x);
}

TEST_CASE("gradient check: Embedding", "[gradients][embedding]") {
  Rng rng(2);
  Embedding embedding("embedding", 6, 3);
  embedding.init(rng);
  const TokenBatch tokens = token_batch({{1, 2, 5, 2}, {3, 0 /* a PAD inside */, 4}, {1}});
  SequenceBatch out;
  embedding.forward(tokens, out);
  const Matrix projection = random_matrix(out.values.rows(), out.values.cols(), rng);
  const auto loss = [&]() {
    SequenceBatch o;
    embedding.forward(tokens, o);
    return (o.values.array() * projection.array()).sum();
  };
  expect_parameter_gradients(embedding, loss, [&]() {
    SequenceBatch o;
    embedding.forward(tokens, o);
    o.values = projection;
    embedding.backward(o);
  });
}

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

TEST_CASE("gradient check: ReLU and MaxPool1D", "[gradients][maxpool]") {
  Rng rng(30);
  ReLU relu(3);
  SequenceBatch input = sequence_batch(random_matrix(3, 14, rng), 7, 2, {7, 4});
  check_sequence_layer(relu, input, rng);
  MaxPool1D pool(3, 3);
  check_sequence_layer(pool, input, rng);
}

void check_pooling(Pooling& pooling, SequenceBatch input, Rng& rng) {
  const Matrix projection = random_matrix(input.values.rows(), input.batch, rng);
  const auto loss = [&]() { return (pooling.forward(input).array() * projection.array()).sum(); };
  SequenceBatch grad_in;
  expect_parameter_gradients(pooling, loss, [&]() { pooling.forward(input); pooling.backward(projection, grad_in); });
  expect_input_gradients(loss, input.values, grad_in.values);
}

TEST_CASE("gradient check: global max, mean and last pooling", "[gradients][pooling]") {
  Rng rng(31);
  const SequenceBatch input = sequence_batch(random_matrix(3, 12, rng), 4, 3, {4, 1, 3});
  GlobalMaxPooling max_pool;
  check_pooling(max_pool, input, rng);
  MeanPooling mean_pool;
  check_pooling(mean_pool, input, rng);
  LastPooling last_pool;
  check_pooling(last_pool, input, rng);
}

TEST_CASE("gradient check: attention pooling", "[gradients][attention]") {
  Rng rng(6);
  AttentionPooling attention("attention", 3);
  attention.init(rng);
  attention.bias.value(0, 0) = 0.2;
  SequenceBatch input = sequence_batch(random_matrix(3, 12, rng), 4, 3, {4, 1, 3});
  check_pooling(attention, input, rng);
}

TEST_CASE("gradient check: dropout with a fixed mask", "[gradients][dropout]") {
  Rng rng(7);
  Dropout dropout(0.4);
  Matrix x = random_matrix(5, 4, rng);
  const Matrix projection = random_matrix(5, 4, rng);
  const auto loss = [&]() {
    Matrix y = x;
    Rng mask_rng(99);  // the same mask every call
    dropout.forward(y, &mask_rng);
    return (y.array() * projection.array()).sum();
  };
  loss();
  Matrix grad = projection;
  dropout.backward(grad);
  expect_input_gradients(loss, x, grad);
}

TEST_CASE("gradient check: BCE with logits", "[gradients][loss]") {
  Matrix z(1, 4);
  z << -3, -0.2, 0.7, 5;
  const std::vector<float> y = {0, 1, 1, 0};
  Matrix grad;
  bce_with_logits(z, y, &grad);
  expect_input_gradients([&]() { return bce_with_logits(z, y, nullptr); }, z, grad);
}

TEST_CASE("gradient check: LayerNorm", "[gradients][transformer]") {
  Rng rng(40);
  LayerNorm norm("norm", 4);
  norm.weight.value = random_matrix(4, 1, rng);
  norm.bias.value = random_matrix(4, 1, rng);
  Matrix x = random_matrix(4, 3, rng), y;
  const Matrix projection = random_matrix(4, 3, rng);
  const auto loss = [&]() { Matrix out; norm.forward(x, out); return (out.array() * projection.array()).sum(); };
  Matrix grad_x;
  expect_parameter_gradients(norm, loss, [&]() { norm.forward(x, y); norm.backward(projection, grad_x); });
  expect_input_gradients(loss, x, grad_x);
}

TEST_CASE("gradient check: multi-head self-attention with padding", "[gradients][transformer]") {
  Rng rng(41);
  MultiHeadSelfAttention attention("self_attn", 4, 2);
  attention.init(rng);
  attention.in_proj_bias.value = 0.1 * random_matrix(12, 1, rng);
  SequenceBatch input = sequence_batch(random_matrix(4, 15, rng), 5, 3, {5, 2, 0});
  const Matrix projection = random_matrix(4, 15, rng);
  const auto loss = [&]() { Matrix out; attention.forward(input, out); return (out.array() * projection.array()).sum(); };
  Matrix grad_in;
  expect_parameter_gradients(attention, loss, [&]() { Matrix out; attention.forward(input, out); attention.backward(projection, grad_in); });
  expect_input_gradients(loss, input.values, grad_in);
}

TEST_CASE("gradient check: Transformer encoder (2 pre-norm layers)", "[gradients][transformer]") {
  Rng rng(42);
  TransformerEncoder encoder("encoder", 4, 2, 2, 6);
  encoder.init(rng);
  for (Parameter* p : encoder.parameters())
    if (p->name.find("bias") != std::string::npos) p->value = 0.1 * random_matrix(p->value.rows(), p->value.cols(), rng);
  SequenceBatch input = sequence_batch(0.3 * random_matrix(4, 12, rng), 4, 3, {4, 1, 3});
  check_sequence_layer(encoder, input, rng);
}

TEST_CASE("gradient check: whole classifiers of every architecture", "[gradients][model]") {
  for (const ClassifierConfig& config : architecture_configs(9)) {
    DYNAMIC_SECTION(config.architecture) {
      Classifier model(config);
      Rng rng(8);
      model.init(rng);
      for (Parameter* p : model.parameters())  // move biases off zero so every path carries gradient
        if (p->name.find("bias") != std::string::npos) p->value = 0.1 * random_matrix(p->value.rows(), p->value.cols(), rng);
      const TokenBatch tokens = token_batch({{2, 3, 4, 1, 8, 5, 6}, {5, 6}, {7, 2, 2, 3}});
      const std::vector<float> targets = {1, 0, 1};
      const auto loss = [&]() { return bce_with_logits(model.forward(tokens), targets, nullptr); };
      expect_parameter_gradients(model, loss, [&]() {
        Matrix grad;
        bce_with_logits(model.forward(tokens), targets, &grad);
        model.backward(grad);
      });
    }
  }
}

TEST_CASE("InputGradientsOnly: the same input gradient, no parameter gradients", "[gradients][model]") {
  for (const ClassifierConfig& config : architecture_configs(9)) {
    DYNAMIC_SECTION(config.architecture) {
      Classifier model(config);
      Rng rng(8);
      model.init(rng);
      const TokenBatch tokens = token_batch({{2, 3, 4, 1, 8, 5, 6}, {5, 6}, {7, 2, 2, 3}});
      const Matrix grad = random_matrix(1, 3, rng);
      for (Parameter* p : model.parameters()) p->zero_grad();
      model.forward(tokens);
      model.backward(grad);
      const Matrix full = model.grad_embedded().values;
      double parameter_gradient = 0;
      for (Parameter* p : model.parameters()) parameter_gradient += p->grad.cwiseAbs().sum();
      REQUIRE(parameter_gradient > 0);
      for (Parameter* p : model.parameters()) p->zero_grad();
      model.forward(tokens);
      {
        InputGradientsOnly input_gradients_only;
        CHECK(InputGradientsOnly::active());
        model.backward(grad);
      }
      CHECK_FALSE(InputGradientsOnly::active());
      CHECK(model.grad_embedded().values.isApprox(full, 1e-12));
      for (Parameter* p : model.parameters()) {
        INFO(p->name);
        CHECK(p->grad.isZero());
      }
    }
  }
}

TEST_CASE("gradient check: GRU cell (one decoder step)", "[gradients][gru][translation]") {
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

TEST_CASE("gradient check: decoder attention step (additive, dot, general) with padding", "[gradients][attention][translation]") {
  for (const AttentionKind kind : {AttentionKind::Additive, AttentionKind::Dot, AttentionKind::General}) {
    DYNAMIC_SECTION(to_string(kind)) {
      const int M = 4, D = 4, A = 3, L = 5, B = 3;
      const std::vector<int> lengths = {5, 2, 3};
      DecoderAttention attention("attn", kind, D, M, A);
      Rng rng(41);
      attention.init(rng);
      if (kind == AttentionKind::Additive) attention.query_bias.value = 0.1 * random_matrix(A, 1, rng);
      Matrix memory = random_matrix(M, L * B, rng), query = random_matrix(D, B, rng);
      for (int b = 0; b < B; ++b)
        for (int t = lengths[b]; t < L; ++t) memory.col(t * B + b).setZero();
      const Matrix projection = random_matrix(M, B, rng);
      const auto loss = [&]() {
        DecoderAttention::Memory mem;
        attention.prepare(memory, L, B, lengths, mem);
        DecoderAttention::StepCache cache;
        Matrix context;
        attention.forward(mem, query, context, cache);
        return (context.array() * projection.array()).sum();
      };
      Matrix dquery, dmemory;
      const auto backward = [&]() {
        DecoderAttention::Memory mem;
        attention.prepare(memory, L, B, lengths, mem);
        DecoderAttention::StepCache cache;
        Matrix context;
        attention.forward(mem, query, context, cache);
        // weights sum to 1 over real positions and are exactly 0 on padding
        for (int b = 0; b < B; ++b) {
          CHECK(cache.weights.col(b).head(lengths[b]).sum() == Approx(1.0).epsilon(1e-12));
          if (lengths[b] < L) CHECK(cache.weights.col(b).tail(L - lengths[b]).cwiseAbs().maxCoeff() == 0.0);
        }
        dquery.setZero(D, B);
        dmemory.setZero(M, L * B);
        Matrix dkeys = Matrix::Zero(mem.keys.rows(), mem.keys.cols());
        attention.backward(mem, cache, projection, dquery, dkeys, dmemory);
        attention.backward_keys(mem, dkeys, dmemory);
      };
      if (!attention.parameters().empty()) expect_parameter_gradients(attention, loss, backward);
      backward();
      expect_input_gradients(loss, query, dquery);
      expect_input_gradients(loss, memory, dmemory);
    }
  }
}

TEST_CASE("gradient check: whole encoder-decoder translators (none, additive, dot, general)", "[gradients][model][translation]") {
  for (const char* attention : {"none", "additive", "dot", "general"}) {
    DYNAMIC_SECTION(attention) {
      TranslatorConfig config;
      config.source_vocab_size = 7;
      config.target_vocab_size = 8;
      config.embedding_dim = 3;
      config.hidden_size = 2;
      config.decoder_size = 4;
      config.attention = attention;
      config.attention_size = 3;
      config.output_size = 3;
      config.dropout = 0;
      Translator model(config);
      Rng rng(9);
      model.init(rng);
      for (Parameter* p : model.parameters())
        if (p->name.find("bias") != std::string::npos) p->value = 0.1 * random_matrix(p->value.rows(), p->value.cols(), rng);
      TranslationBatch batch;
      batch.source = token_batch({{2, 3, 4, 1, 6}, {5, 6}, {3, 2, 2}});
      // targets y: {4 5 6}, {7}, {4 4}; decoder input <s> y, targets y </s>
      batch.decoder_input = token_batch({{kBos, 4, 5, 6}, {kBos}, {kBos, 4, 4}});
      const std::vector<std::vector<int32_t>> outputs = {{4, 5, 6, kEos}, {kEos}, {4, 4, kEos}};
      batch.targets.assign(batch.decoder_input.ids.size(), 0);
      for (int b = 0; b < 3; ++b)
        for (size_t t = 0; t < outputs[static_cast<size_t>(b)].size(); ++t) batch.targets[t * 3 + static_cast<size_t>(b)] = outputs[static_cast<size_t>(b)][t];
      const auto loss = [&]() { return model.forward(batch).loss_sum; };
      expect_parameter_gradients(model, loss, [&]() {
        model.forward(batch);
        model.backward(1.0);
      });
    }
  }
}
