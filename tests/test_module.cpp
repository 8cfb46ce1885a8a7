// The skeleton every sequence layer and pooling shares (layers/module.hpp, layers/pooling.hpp):
// forward() and backward() check their arguments before the layer runs, with messages that
// name the layer.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "layers/attention_pooling.hpp"
#include "layers/bidirectional.hpp"
#include "layers/conv1d.hpp"
#include "layers/gru.hpp"
#include "layers/lstm.hpp"
#include "layers/mean_pooling.hpp"
#include "layers/relu.hpp"
#include "layers/transformer.hpp"

using namespace attnlens;
using namespace attnlens::testing;

TEST_CASE("the layer skeleton rejects inputs and gradients that do not fit, naming the layer", "[layers][module]") {
  Rng rng(3);
  LSTM lstm("rnn", "_l0", 3, 4, false);
  GRU gru("rnn", "_l0", 3, 4, false);
  Conv1D conv("conv", 3, 4, 3, Conv1D::Padding::Same);
  TransformerEncoder transformer("encoder", 4, 1, 2, 8);
  Bidirectional bidirectional(std::make_unique<LSTM>("rnn", "_l0", 3, 2, false),
                              std::make_unique<LSTM>("rnn", "_l0_reverse", 3, 2, true));
  for (SequenceLayer* layer : std::initializer_list<SequenceLayer*>{&lstm, &gru, &conv, &transformer, &bidirectional}) {
    layer->init(rng);
    const int channels = layer->input_channels();
    INFO(layer->name());
    SequenceBatch out, grad_in;
    // Before any forward, backward has nothing to go back through.
    CHECK_THROWS_WITH(layer->backward(sequence_batch(Matrix::Zero(layer->output_channels(), 2), 2, 1, {2}), &grad_in),
                      Catch::Contains("backward before any forward"));
    // Channels.
    CHECK_THROWS_WITH(layer->forward(sequence_batch(Matrix::Ones(channels + 1, 4), 2, 2, {2, 1}), out),
                      Catch::Contains(layer->name()) && Catch::Contains("channels, expected " + std::to_string(channels)));
    // Columns that are not steps × batch, and a length missing.
    CHECK_THROWS_WITH(layer->forward(sequence_batch(Matrix::Ones(channels, 5), 2, 2, {2, 1}), out),
                      Catch::Contains("is not 2 steps × 2 samples"));
    CHECK_THROWS_WITH(layer->forward(sequence_batch(Matrix::Ones(channels, 4), 2, 2, {2}), out),
                      Catch::Contains("1 lengths is not 2 steps × 2 samples"));
    // A good forward, then a gradient of the wrong shape.
    layer->forward(sequence_batch(Matrix::Ones(channels, 4), 2, 2, {2, 1}), out);
    CHECK(out.values.rows() == layer->output_channels());
    CHECK_THROWS_WITH(layer->backward(sequence_batch(Matrix::Zero(out.values.rows() + 1, 4), 2, 2, {2, 1}), &grad_in),
                      Catch::Contains("gradient is " + std::to_string(out.values.rows() + 1) + " × 4"));
    layer->backward(sequence_batch(Matrix::Ones(out.values.rows(), 4), 2, 2, {2, 1}), &grad_in);
    CHECK(grad_in.values.rows() == channels);
    CHECK(grad_in.values.cols() == 4);
  }
  // A layer that takes any number of channels (0) still checks the rest.
  ReLU relu;
  SequenceBatch out;
  CHECK(relu.input_channels() == 0);
  relu.forward(sequence_batch(Matrix::Ones(7, 2), 1, 2, {1, 1}), out);
  CHECK_THROWS_WITH(relu.forward(sequence_batch(Matrix::Ones(7, 3), 1, 2, {1, 1}), out), Catch::Contains("ReLU: input of 3 columns"));
}

TEST_CASE("the pooling skeleton rejects inputs and gradients that do not fit", "[layers][module]") {
  Rng rng(4);
  AttentionPooling attention("attention", 3);
  attention.init(rng);
  MeanPooling mean;
  SequenceBatch grad_in;
  for (Pooling* pooling : std::initializer_list<Pooling*>{&attention, &mean}) {
    INFO(pooling->name());
    CHECK_THROWS_WITH(pooling->backward(Matrix::Zero(3, 2), grad_in), Catch::Contains("backward before any forward"));
    CHECK_THROWS_WITH(pooling->forward(sequence_batch(Matrix::Ones(3, 4), 2, 2, {2})), Catch::Contains("is not 2 steps × 2 samples"));
    const Matrix& pooled = pooling->forward(sequence_batch(Matrix::Ones(3, 4), 2, 2, {2, 1}));
    CHECK(pooled.rows() == 3);
    CHECK(pooled.cols() == 2);
    CHECK_THROWS_WITH(pooling->backward(Matrix::Zero(3, 3), grad_in), Catch::Contains("not shaped like the pooled output"));
    pooling->backward(Matrix::Ones(3, 2), grad_in);
    CHECK(grad_in.values.cols() == 4);
  }
  CHECK_THROWS_WITH(attention.forward(sequence_batch(Matrix::Ones(2, 4), 2, 2, {2, 1})),
                    Catch::Contains("AttentionPooling attention.weight: input has 2 channels, expected 3"));
}
