// Scalar type, matrix aliases and the layout convention used across the engine.
//
// LAYOUT CONVENTION (the one rule every layer follows):
//   * Activations are column-major Eigen matrices with ONE COLUMN PER SAMPLE.
//   * A batch of sequences is time-major: column index = t * batch + b, so the
//     B columns of time step t are contiguous (an RNN step is a block of columns).
//   * Parameters are row-major with PyTorch's logical shape (Linear weight is
//     [out, in], Embedding weight is [vocab, dim]), so their bytes are exactly the
//     C-order bytes a safetensors file stores.
//
// The scalar type is float; the gradient-check tests compile the same sources with
// ATTNLENS_SCALAR=double so central differences are precise.
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#ifndef ATTNLENS_SCALAR
#define ATTNLENS_SCALAR float
#endif

// An engine built with ATTNLENS_GRADIENTS=0 has no backward passes: the page's inference
// module (web/dist/attnlens.wasm). Its parameters hold no gradient buffer, and a layer's
// backward() throws there (layers/module.hpp), its backward pass left out of the build.
#ifndef ATTNLENS_GRADIENTS
#define ATTNLENS_GRADIENTS 1
#endif

namespace attnlens {

inline constexpr bool kHasGradients = ATTNLENS_GRADIENTS != 0;

using Scalar = ATTNLENS_SCALAR;
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  // activations
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;
using ParamMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A trainable tensor and its gradient (empty in an engine without gradients). One-dimensional
// tensors (biases) are stored as a [n, 1] matrix; `shape` is the logical shape written to model files.
struct Parameter {
  std::string name;
  std::vector<int64_t> shape;
  ParamMatrix value;
  ParamMatrix grad;

  Parameter() = default;
  Parameter(std::string name_, std::vector<int64_t> shape_)
      : name(std::move(name_)), shape(std::move(shape_)) {
    const Eigen::Index rows = shape.empty() ? 1 : shape[0];
    Eigen::Index cols = 1;
    for (size_t i = 1; i < shape.size(); ++i) cols *= shape[i];
    value = ParamMatrix::Zero(rows, cols);
    if constexpr (kHasGradients) grad = ParamMatrix::Zero(rows, cols);
  }
  Eigen::Index size() const { return value.size(); }
  void zero_grad() { grad.setZero(); }
};

// A batch of token-id sequences, right-padded with the padding id to `steps`.
struct TokenBatch {
  int steps = 0;
  int batch = 0;
  std::vector<int32_t> ids;   // [steps * batch], index t * batch + b
  std::vector<int> lengths;   // real (non-padding) length of each sample
  bool real(int t, int b) const { return t < lengths[b]; }
};

// A batch of sequences of feature vectors: values is [channels, steps * batch].
struct SequenceBatch {
  int steps = 0;
  int batch = 0;
  Matrix values;
  std::vector<int> lengths;
  auto step(int t) { return values.middleCols(static_cast<Eigen::Index>(t) * batch, batch); }
  auto step(int t) const { return values.middleCols(static_cast<Eigen::Index>(t) * batch, batch); }
};

}  // namespace attnlens
