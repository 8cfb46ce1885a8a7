// What every tests/layers/test_<layer>.cpp shares. Each file holds, for its layer (or family),
// the forward computed by hand, the central-difference gradient check and a save/load round trip.
// The same sources are compiled twice (tests/CMakeLists.txt):
//   layer_tests      on the float engine (attnlens_engine): hand forwards and round trips;
//   layer_tests_f64  on the double engine (attnlens_engine_f64, ATTNLENS_GRADIENT_CHECKS=1):
//                    the hand forwards and round trips again, and the gradient checks.
// Gradient checks need double precision: they sit in `#if ATTNLENS_GRADIENT_CHECKS` blocks, so
// the float build never registers them. The hand forwards run in both builds: their tolerances
// (1e-6 absolute, or Catch's Approx, about 1e-5 relative) are a few float rounding errors on
// values of order 1, so they hold on the float engine's packet kernels (core/kernels.cpp) and
// still catch any wrong formula on the double engine's plain std:: arithmetic.
#pragma once
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <type_traits>
#include <vector>

#include "../helpers.hpp"
#include "core/tensor.hpp"
#include "layers/module.hpp"

#ifndef ATTNLENS_GRADIENT_CHECKS
#define ATTNLENS_GRADIENT_CHECKS 0
#endif
#if ATTNLENS_GRADIENT_CHECKS
#include "../gradient_check.hpp"
#endif

static_assert(std::is_same<attnlens::Scalar, double>::value == static_cast<bool>(ATTNLENS_GRADIENT_CHECKS),
              "the layer tests define ATTNLENS_GRADIENT_CHECKS=1 in the double-precision build, and only there");

// 1 in the float build. Model files hold float32 weights (io/safetensors.cpp writes F32), so a
// save/load round trip is the identity on the float engine but rounds every weight on the double
// one. The round trips that came from test_layers.cpp with weights a float does not hold exactly
// (0.1, random initialisations) are compiled only `#if ATTNLENS_FLOAT_ENGINE`; the rest of their
// test case (the hand forward) runs in both builds. The round trips written for tests/layers/
// round the weights to float first (expect_round_trip below), so they run in both builds.
#define ATTNLENS_FLOAT_ENGINE (!ATTNLENS_GRADIENT_CHECKS)

namespace attnlens::testing {

inline double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Rounds every weight to the nearest float, as a model file stores it (a no-op on the float engine).
inline void round_to_float(Module& layer) {
  for (Parameter* p : layer.parameters()) p->value = p->value.cast<float>().cast<Scalar>();
}

// Saves `layer`'s parameters (rounded to float) to safetensors bytes and loads them into `fresh`,
// a new layer of the same shape initialised differently (so the load has something to change):
// the parameters must then be identical. The caller then checks both give the same forward output.
inline void expect_round_trip(Module& layer, Module& fresh) {
  round_to_float(layer);
  REQUIRE_FALSE(same_parameters(layer, fresh));
  round_trip(layer, fresh);
  CHECK(same_parameters(layer, fresh));
}

// A sequence layer's forward pass kept (as training runs it) and under ForwardOnly (as inference
// does) on the same input: they must agree to the bit, in steps, lengths and values. Returns the
// output (the layer's last forward ran under ForwardOnly), shaped as backward's gradient.
template <class Layer>
SequenceBatch expect_forward_only_same(Layer& layer, const SequenceBatch& input) {
  SequenceBatch kept, streamed;
  layer.forward(input, kept);
  {
    ForwardOnly forward_only;
    layer.forward(input, streamed);
  }
  CHECK(streamed.steps == kept.steps);
  CHECK(streamed.lengths == kept.lengths);
  CHECK(streamed.values == kept.values);
  return streamed;
}

}  // namespace attnlens::testing
