#include "layers/decoder_attention.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/init.hpp"

namespace attnlens {

namespace {

using Strided = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;
using StridedMut = Eigen::Map<Matrix, 0, Eigen::OuterStride<>>;

// The L columns j*B + b of a time-major [rows, L*B] matrix: sample b's sequence as [rows, L].
Strided sample(const Matrix& m, int steps, int batch, int b) {
  return Strided(m.data() + static_cast<Eigen::Index>(b) * m.rows(), m.rows(), steps, Eigen::OuterStride<>(m.rows() * batch));
}
StridedMut sample(Matrix& m, int steps, int batch, int b) {
  return StridedMut(m.data() + static_cast<Eigen::Index>(b) * m.rows(), m.rows(), steps, Eigen::OuterStride<>(m.rows() * batch));
}

}  // namespace

AttentionKind attention_kind_from_string(const std::string& name) {
  if (name == "additive") return AttentionKind::Additive;
  if (name == "dot") return AttentionKind::Dot;
  if (name == "general") return AttentionKind::General;
  throw Error("attention: expected 'additive', 'dot' or 'general', got '" + name + "'");
}

std::string to_string(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::Additive: return "additive";
    case AttentionKind::Dot: return "dot";
    case AttentionKind::General: return "general";
  }
  return "?";
}

DecoderAttention::DecoderAttention(const std::string& prefix, AttentionKind kind, int query_size, int memory_size,
                                   int attention_size)
    : kind_(kind) {
  check(query_size > 0 && memory_size > 0, "attention: sizes must be positive");
  switch (kind) {
    case AttentionKind::Additive:
      check(attention_size > 0, "attention: additive attention needs a positive attention_size");
      query_weight = Parameter(prefix + ".query.weight", {attention_size, query_size});
      query_bias = Parameter(prefix + ".query.bias", {attention_size});
      key_weight = Parameter(prefix + ".key.weight", {attention_size, memory_size});
      score_weight = Parameter(prefix + ".score.weight", {1, attention_size});
      break;
    case AttentionKind::Dot:
      check(query_size == memory_size, "attention: dot attention needs the decoder size (" + std::to_string(query_size) +
                                           ") to equal the encoder output size (" + std::to_string(memory_size) + ")");
      break;
    case AttentionKind::General:
      key_weight = Parameter(prefix + ".key.weight", {query_size, memory_size});
      break;
  }
}

std::vector<Parameter*> DecoderAttention::parameters() {
  switch (kind_) {
    case AttentionKind::Additive: return {&query_weight, &query_bias, &key_weight, &score_weight};
    case AttentionKind::Dot: return {};
    case AttentionKind::General: return {&key_weight};
  }
  return {};
}

void DecoderAttention::init(Rng& rng) {
  if (kind_ == AttentionKind::Additive) {
    init::xavier_uniform(query_weight.value, rng);
    query_bias.value.setZero();
    init::xavier_uniform(key_weight.value, rng);
    init::xavier_uniform(score_weight.value, rng);
  } else if (kind_ == AttentionKind::General) {
    init::xavier_uniform(key_weight.value, rng);
  }
}

void DecoderAttention::prepare(const Matrix& values, int steps, int batch, const std::vector<int>& lengths,
                               Memory& memory) const {
  check(values.cols() == static_cast<Eigen::Index>(steps) * batch && lengths.size() == static_cast<size_t>(batch),
        "attention: memory has the wrong shape");
  for (int length : lengths) check(length >= 1 && length <= steps, "attention: every source needs at least one token");
  memory.values = &values;
  memory.steps = steps;
  memory.batch = batch;
  memory.lengths = lengths;
  if (kind_ == AttentionKind::Dot) memory.keys = values;
  else memory.keys.noalias() = key_weight.value * values;
}

void DecoderAttention::forward(const Memory& memory, const Matrix& query, Matrix& context, StepCache& cache) const {
  const int L = memory.steps, B = memory.batch;
  check(query.cols() == B, "attention: query batch differs from the memory's");
  const Matrix& values = *memory.values;
  cache.query = query;
  cache.weights.setZero(L, B);
  context.resize(values.rows(), B);
  Matrix projected;
  if (kind_ == AttentionKind::Additive) {
    projected.noalias() = query_weight.value * query;
    projected.colwise() += query_bias.value.col(0);
    cache.hidden.resize(memory.keys.rows(), memory.keys.cols());
  }
  Vector scores;
  for (int b = 0; b < B; ++b) {
    const int length = memory.lengths[b];
    const auto keys = sample(memory.keys, L, B, b).leftCols(length);
    if (kind_ == AttentionKind::Additive) {
      auto hidden = sample(cache.hidden, L, B, b).leftCols(length);
      hidden = (keys.colwise() + projected.col(b)).array().tanh();
      scores.noalias() = (score_weight.value * hidden).transpose();
    } else {
      scores.noalias() = keys.transpose() * query.col(b);
    }
    const Scalar top = scores.maxCoeff();
    auto weights = cache.weights.col(b).head(length);
    weights = (scores.array() - top).exp().matrix();
    weights /= weights.sum();
    context.col(b).noalias() = sample(values, L, B, b).leftCols(length) * weights;
  }
}

void DecoderAttention::backward(const Memory& memory, const StepCache& cache, const Matrix& dcontext, Matrix& dquery,
                                Matrix& dkeys, Matrix& dvalues) {
  const int L = memory.steps, B = memory.batch;
  const Matrix& values = *memory.values;
  Matrix dprojected;
  if (kind_ == AttentionKind::Additive) dprojected.setZero(memory.keys.rows(), B);
  Vector dweights, dscores;
  for (int b = 0; b < B; ++b) {
    const int length = memory.lengths[b];
    const auto weights = cache.weights.col(b).head(length);
    const auto sample_values = sample(values, L, B, b).leftCols(length);
    sample(dvalues, L, B, b).leftCols(length).noalias() += dcontext.col(b) * weights.transpose();
    dweights.noalias() = sample_values.transpose() * dcontext.col(b);
    // softmax: de_j = α_j (dα_j − Σ_k α_k dα_k)
    dscores = weights.array() * (dweights.array() - weights.dot(dweights));
    auto dk = sample(dkeys, L, B, b).leftCols(length);
    if (kind_ == AttentionKind::Additive) {
      const auto hidden = sample(cache.hidden, L, B, b).leftCols(length);
      score_weight.grad.row(0).noalias() += (hidden * dscores).transpose();
      // d(pre-tanh) = v dscoreᵀ ⊙ (1 − hidden²), [A, length]
      const Matrix dpre = ((score_weight.value.row(0).transpose() * dscores.transpose()).array() *
                           (1 - hidden.array().square())).matrix();
      dk += dpre;
      dprojected.col(b) += dpre.rowwise().sum();
    } else {
      const auto keys = sample(memory.keys, L, B, b).leftCols(length);
      dquery.col(b).noalias() += keys * dscores;
      dk.noalias() += cache.query.col(b) * dscores.transpose();
    }
  }
  if (kind_ == AttentionKind::Additive) {
    query_weight.grad.noalias() += dprojected * cache.query.transpose();
    query_bias.grad.col(0) += dprojected.rowwise().sum();
    dquery.noalias() += query_weight.value.transpose() * dprojected;
  }
}

void DecoderAttention::backward_keys(const Memory& memory, const Matrix& dkeys, Matrix& dvalues) {
  if (kind_ == AttentionKind::Dot) {
    dvalues += dkeys;
    return;
  }
  key_weight.grad.noalias() += dkeys * memory.values->transpose();
  dvalues.noalias() += key_weight.value.transpose() * dkeys;
}

}  // namespace attnlens
