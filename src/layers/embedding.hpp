// Embedding lookup with a padding index whose row is zero and never receives gradient; or, in
// n-gram mode, the features of a linear bag-of-n-grams model (below).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "layers/module.hpp"

namespace attnlens {

class Embedding : public Module {
 public:
  Embedding() = default;
  Embedding(const std::string& name, int vocab_size, int dim, int padding_index = 0);
  void init(Rng& rng);
  // ids [steps*batch] -> out.values [dim, steps*batch]; padding steps give zero columns.
  void forward(const TokenBatch& tokens, SequenceBatch& out);
  // dL/dW[id] += dL/dout[:, col] for every real column whose id != padding_index.
  void backward(const SequenceBatch& grad_out);
  std::vector<Parameter*> parameters() override { return {&weight}; }

  // N-gram mode (a linear n-gram classifier's features, ClassifierConfig::ngram_order): a sample's
  // features are the distinct n-grams (n ≤ order) it contains — presence, not counts — and each
  // real step's output is its share of their rows: an n-gram's row divided equally among the n
  // tokens of each of its occurrences and among those occurrences. A sample's outputs therefore
  // sum to the sum of its features' rows, and each token's share of that sum is exact. A unigram's
  // row is its id; longer n-grams' rows come from the table (ids packed by pack_ngram; each id
  // < 2^20, which every vocabulary is). <pad> (the padding index) is no feature and ends n-grams.
  struct NgramRow {
    uint64_t key;
    int32_t row;
  };
  static constexpr int kMaxNgramOrder = 3;
  static uint64_t pack_ngram(const int32_t* ids, int n);
  // Switches to n-gram mode (order 1..3); the table is sorted here, and a key given twice is an error.
  void set_ngrams(int order, std::vector<NgramRow> table);
  // Copies the other layer's n-gram mode and table (copies of a model, e.g. training replicas).
  void copy_ngrams(const Embedding& other) {
    ngram_order_ = other.ngram_order_;
    ngrams_ = other.ngrams_;
  }
  int ngram_order() const { return ngram_order_; }
  // N-gram mode: the distinct feature rows of one sample's ids, ascending.
  std::vector<int32_t> ngram_features(const std::vector<int32_t>& ids);

  int vocab_size() const { return static_cast<int>(weight.value.rows()); }
  int dim() const { return static_cast<int>(weight.value.cols()); }
  int padding_index() const { return padding_index_; }

  Parameter weight;  // [vocab, dim]

 private:
  // Every n-gram occurrence in steps [0, length) of sample b, into occurrences_ (ids already checked).
  void collect_ngrams(const TokenBatch& tokens, int b, int length);
  int32_t ngram_row(uint64_t key) const;  // -1: not in the table
  void forward_ngrams(const TokenBatch& tokens, SequenceBatch& out);

  int padding_index_ = 0;
  TokenBatch tokens_;
  int ngram_order_ = 0;  // 0: a plain lookup
  std::vector<NgramRow> ngrams_;  // sorted by key
  struct Share {  // n-gram mode: output column += share × weight.row(row)
    Eigen::Index column;
    int32_t row;
    Scalar share;
  };
  std::vector<Share> shares_;
  struct Occurrence {
    int32_t row, t, n;  // an n-gram's row, its first step and length
  };
  std::vector<Occurrence> occurrences_;  // of the sample at hand
  std::vector<int32_t> counts_;  // occurrences per row in the sample at hand (zero between samples)
};

}  // namespace attnlens
