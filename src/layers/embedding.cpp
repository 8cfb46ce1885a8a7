#include "layers/embedding.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/init.hpp"

namespace attnlens {

Embedding::Embedding(const std::string& name, int vocab_size, int dim, int padding_index)
    : weight(name + ".weight", {vocab_size, dim}), padding_index_(padding_index) {
  check(vocab_size > 0 && dim > 0, "embedding: vocab_size and dim must be positive");
  check(padding_index >= 0 && padding_index < vocab_size, "embedding: padding index out of range");
}

void Embedding::init(Rng& rng) {
  init::normal(weight.value, rng, 1.0 / std::sqrt(static_cast<double>(dim())));
  weight.value.row(padding_index_).setZero();
}

void Embedding::forward(const TokenBatch& tokens, SequenceBatch& out) {
  const Eigen::Index columns = static_cast<Eigen::Index>(tokens.steps) * tokens.batch;
  check(static_cast<Eigen::Index>(tokens.ids.size()) == columns, "embedding: token batch has wrong size");
  tokens_ = tokens;
  out.steps = tokens.steps;
  out.batch = tokens.batch;
  out.lengths = tokens.lengths;
  for (Eigen::Index col = 0; col < columns; ++col) {
    const int32_t id = tokens.ids[col];
    check_with(id >= 0 && id < vocab_size(), [&] {
      return "embedding: token id " + std::to_string(id) + " outside vocabulary of " + std::to_string(vocab_size());
    });
  }
  if (ngram_order_ > 0) return forward_ngrams(tokens, out);
  out.values.resize(dim(), columns);
  for (Eigen::Index col = 0; col < columns; ++col) {
    const int32_t id = tokens.ids[col];
    const int t = static_cast<int>(col / tokens.batch), b = static_cast<int>(col % tokens.batch);
    if (!tokens.real(t, b) || id == padding_index_) out.values.col(col).setZero();
    else out.values.col(col) = weight.value.row(id).transpose();
  }
}

void Embedding::backward(const SequenceBatch& grad_out) {
  if (InputGradientsOnly::active()) return;  // the embedding's only gradient is its table's
  if (ngram_order_ > 0) {
    for (const Share& s : shares_) weight.grad.row(s.row) += s.share * grad_out.values.col(s.column).transpose();
    return;
  }
  const Eigen::Index columns = grad_out.values.cols();
  for (Eigen::Index col = 0; col < columns; ++col) {
    const int t = static_cast<int>(col / tokens_.batch), b = static_cast<int>(col % tokens_.batch);
    const int32_t id = tokens_.ids[col];
    if (!tokens_.real(t, b) || id == padding_index_) continue;
    weight.grad.row(id) += grad_out.values.col(col).transpose();
  }
}

}  // namespace attnlens
