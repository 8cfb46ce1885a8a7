// Central-difference gradient checks, for the double-precision engine (ATTNLENS_SCALAR=double)
// only: the per-layer checks in tests/layers/*.cpp (built into layer_tests_f64) and the
// whole-model checks in test_model_gradients.cpp. A layer's parameter and input gradients are
// compared with (f(x + h) − f(x − h)) / 2h on a random linear functional of its output; inputs
// include padding, so masking is checked too.
#pragma once
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "layers/module.hpp"
#include "layers/pooling.hpp"

static_assert(std::is_same<attnlens::Scalar, double>::value, "gradient checks need the double-precision engine");

namespace attnlens::testing {

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-6;  // on |analytic − numeric| / max(1, |analytic|, |numeric|)

// Compares analytic[i] with the central difference of loss() in *entries[i].
inline void expect_gradients(const std::string& what, const std::function<double()>& loss,
                             const std::vector<double*>& entries, const std::vector<double>& analytic) {
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

inline void expect_parameter_gradients(Module& module, const std::function<double()>& loss,
                                       const std::function<void()>& backward) {
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
inline void expect_input_gradients(const std::function<double()>& loss, Matrix& x, const Matrix& grad) {
  std::vector<double*> entries;
  std::vector<double> analytic;
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    entries.push_back(x.data() + k);
    analytic.push_back(grad.data()[k]);
  }
  expect_gradients("input", loss, entries, analytic);
}

inline Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.normal();
  return m;
}

// Checks a sequence layer: loss = Σ R ⊙ out, gradients for parameters and input.
inline void check_sequence_layer(SequenceLayer& layer, SequenceBatch input, Rng& rng) {
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

// Checks a pooling (global max, mean, last, attention): loss = Σ R ⊙ pooled.
inline void check_pooling(Pooling& pooling, SequenceBatch input, Rng& rng) {
  const Matrix projection = random_matrix(input.values.rows(), input.batch, rng);
  const auto loss = [&]() { return (pooling.forward(input).array() * projection.array()).sum(); };
  SequenceBatch grad_in;
  expect_parameter_gradients(pooling, loss, [&]() { pooling.forward(input); pooling.backward(projection, grad_in); });
  expect_input_gradients(loss, input.values, grad_in.values);
}

}  // namespace attnlens::testing
