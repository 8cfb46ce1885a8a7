// The embedding's n-gram mode (layers/embedding.hpp): the table of n-grams and a linear bag of
// n-grams' forward pass. Apart from the lookup so that the wasm build can compile it for size
// (CMakeLists.txt): it runs once per review, its cost is the review's length, not a matrix product.
#include <algorithm>

#include "core/error.hpp"
#include "layers/embedding.hpp"

namespace attnlens {

uint64_t Embedding::pack_ngram(const int32_t* ids, int n) {
  uint64_t key = 0;
  for (int i = 0; i < n; ++i) key = key << 20 | static_cast<uint64_t>(ids[i]);
  return key | static_cast<uint64_t>(n) << 60;  // the length keeps "a b" apart from "0 a b"
}

void Embedding::set_ngrams(int order, std::vector<NgramRow> table) {
  check(order >= 1 && order <= kMaxNgramOrder, "embedding: n-gram order must be 1, 2 or 3");
  check(vocab_size() <= (1 << 20), "embedding: n-gram mode needs ids below 2^20");
  std::sort(table.begin(), table.end(), [](const NgramRow& a, const NgramRow& b) { return a.key < b.key; });
  for (size_t i = 0; i < table.size(); ++i) {
    check(table[i].row >= 0 && table[i].row < vocab_size(), "embedding: n-gram row outside the table");
    check(i == 0 || table[i].key != table[i - 1].key, "embedding: an n-gram is listed twice");
  }
  ngram_order_ = order;
  ngrams_ = std::move(table);
}

int32_t Embedding::ngram_row(uint64_t key) const {
  const auto found = std::lower_bound(ngrams_.begin(), ngrams_.end(), key,
                                      [](const NgramRow& row, uint64_t k) { return row.key < k; });
  return found != ngrams_.end() && found->key == key ? found->row : -1;
}

void Embedding::collect_ngrams(const TokenBatch& tokens, int b, int length) {
  occurrences_.clear();
  int32_t window[kMaxNgramOrder];
  for (int t = 0; t < length; ++t) {
    const int32_t id = tokens.ids[static_cast<size_t>(t) * tokens.batch + b];
    if (id == padding_index_) continue;
    occurrences_.push_back({id, t, 1});
    window[0] = id;
    for (int n = 2; n <= ngram_order_ && t + n <= length; ++n) {
      const int32_t next = tokens.ids[static_cast<size_t>(t + n - 1) * tokens.batch + b];
      if (next == padding_index_) break;
      window[n - 1] = next;
      const int32_t row = ngram_row(pack_ngram(window, n));
      if (row >= 0) occurrences_.push_back({row, t, n});
    }
  }
}

void Embedding::forward_ngrams(const TokenBatch& tokens, SequenceBatch& out) {
  out.values.setZero(dim(), static_cast<Eigen::Index>(tokens.steps) * tokens.batch);
  shares_.clear();
  counts_.resize(static_cast<size_t>(vocab_size()), 0);
  for (int b = 0; b < tokens.batch; ++b) {
    collect_ngrams(tokens, b, std::min(tokens.lengths[b], tokens.steps));
    for (const Occurrence& o : occurrences_) ++counts_[o.row];
    for (const Occurrence& o : occurrences_) {
      const Scalar share = Scalar(1) / static_cast<Scalar>(o.n * counts_[o.row]);
      for (int i = o.t; i < o.t + o.n; ++i) {
        const Eigen::Index column = static_cast<Eigen::Index>(i) * tokens.batch + b;
        out.values.col(column) += share * weight.value.row(o.row).transpose();
        shares_.push_back({column, o.row, share});
      }
    }
    for (const Occurrence& o : occurrences_) counts_[o.row] = 0;
  }
}

std::vector<int32_t> Embedding::ngram_features(const std::vector<int32_t>& ids) {
  const TokenBatch one{static_cast<int>(ids.size()), 1, ids, {static_cast<int>(ids.size())}};
  for (int32_t id : ids)
    if (id < 0 || id >= vocab_size()) throw Error("embedding: token id " + std::to_string(id) + " outside the vocabulary");
  collect_ngrams(one, 0, one.steps);
  std::vector<int32_t> rows;
  for (const Occurrence& o : occurrences_) rows.push_back(o.row);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

}  // namespace attnlens
