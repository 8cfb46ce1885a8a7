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

#include "core/error.hpp"

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

// The weights a model file can pay for. While a budget is open on a thread, every Parameter
// constructed there is charged its values first, and one the budget cannot cover is refused with
// an Error before anything is allocated. The loaders open a budget of the values the file's
// tensors declare (each already checked against the bytes present) plus kSlack, so whatever sizes
// a file's config names, building its model allocates at most 64 Ki values (256 KB) more weights
// than the file holds; a smaller mismatch (a missing tensor, a wrong shape) is then named by the
// loader's own checks of each tensor.
class ParameterBudget {
 public:
  static constexpr int64_t kSlack = 1 << 16;
  ParameterBudget(int64_t file_values, std::string source)
      : file_values_(file_values), source_(std::move(source)), outer_(open_) {
    open_ = this;
  }
  ~ParameterBudget() { open_ = outer_; }
  ParameterBudget(const ParameterBudget&) = delete;
  ParameterBudget& operator=(const ParameterBudget&) = delete;

  // The values of a parameter of this shape; refused when no budget could hold them, or the open
  // one cannot. Nothing more happens when no budget is open (a model built for training).
  static void charge(const std::string& name, const std::vector<int64_t>& shape) {
    int64_t values = 1;
    bool fits = true;
    for (const int64_t d : shape) fits = fits && d >= 0 && !__builtin_mul_overflow(values, d, &values);
    ParameterBudget* budget = open_;
    if (!budget) {
      check(fits, name + ": a parameter too large to hold");
      return;
    }
    check_with(fits && values <= budget->file_values_ + kSlack - budget->claimed_, [&] {
      std::string dims;
      for (const int64_t d : shape) dims += (dims.empty() ? "" : " × ") + std::to_string(d);
      return budget->source_ + ": the config's sizes need more weights than the file holds: " + name + " (" + dims +
             ") alone needs " + (fits ? std::to_string(values) : std::string("more")) + " values; the file's tensors hold " +
             std::to_string(budget->file_values_) + " in all, and the parameters before it claimed " +
             std::to_string(budget->claimed_);
    });
    budget->claimed_ += values;
  }

 private:
  int64_t file_values_, claimed_ = 0;
  std::string source_;
  ParameterBudget* outer_;
  static inline thread_local ParameterBudget* open_ = nullptr;
};

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
    ParameterBudget::charge(name, shape);  // before anything is allocated
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
