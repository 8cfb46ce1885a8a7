#include "text/encoding.hpp"

#include <algorithm>

namespace attnlens {

std::vector<int32_t> encode(const std::vector<Token>& tokens, const Vocabulary& vocabulary, size_t max_length) {
  const size_t count = max_length ? std::min(max_length, tokens.size()) : tokens.size();
  std::vector<int32_t> ids(count);
  for (size_t i = 0; i < count; ++i) ids[i] = vocabulary.id(tokens[i].text);
  return ids;
}

TokenBatch make_batch(const std::vector<Example>& examples, const std::vector<size_t>& indices, size_t max_length) {
  TokenBatch batch;
  batch.batch = static_cast<int>(indices.size());
  for (size_t b = 0; b < indices.size(); ++b) {
    size_t length = examples.at(indices[b]).ids.size();
    if (max_length) length = std::min(length, max_length);
    batch.lengths.push_back(static_cast<int>(length));
    batch.steps = std::max(batch.steps, static_cast<int>(length));
  }
  batch.ids.assign(static_cast<size_t>(batch.steps) * indices.size(), 0);
  for (size_t b = 0; b < indices.size(); ++b) {
    const auto& ids = examples[indices[b]].ids;
    for (int t = 0; t < batch.lengths[b]; ++t) batch.ids[static_cast<size_t>(t) * indices.size() + b] = ids[t];
  }
  return batch;
}

TokenBatch single_batch(std::vector<int32_t> ids) {
  TokenBatch batch;
  batch.batch = 1;
  batch.steps = static_cast<int>(ids.size());
  batch.lengths = {batch.steps};
  batch.ids = std::move(ids);
  return batch;
}

}  // namespace attnlens
