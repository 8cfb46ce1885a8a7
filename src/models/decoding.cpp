#include "models/decoding.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"

namespace attnlens {

namespace {

TokenBatch pad_sources(const std::vector<std::vector<int32_t>>& sources) {
  TokenBatch batch;
  batch.batch = static_cast<int>(sources.size());
  for (const auto& s : sources) {
    check(!s.empty(), "translate: a source sentence has no tokens");
    batch.steps = std::max(batch.steps, static_cast<int>(s.size()));
    batch.lengths.push_back(static_cast<int>(s.size()));
  }
  batch.ids.assign(static_cast<size_t>(batch.steps) * batch.batch, 0);
  for (int b = 0; b < batch.batch; ++b)
    for (size_t t = 0; t < sources[static_cast<size_t>(b)].size(); ++t)
      batch.ids[t * batch.batch + static_cast<size_t>(b)] = sources[static_cast<size_t>(b)][t];
  return batch;
}

int default_max_length(int source_length, int max_length) {
  return max_length > 0 ? max_length : 2 * source_length + 10;
}

Matrix stack_rows(const std::vector<Vector>& rows, Eigen::Index cols) {
  Matrix m(static_cast<Eigen::Index>(rows.size()), cols);
  for (size_t i = 0; i < rows.size(); ++i) m.row(static_cast<Eigen::Index>(i)) = rows[i].transpose();
  return m;
}

}  // namespace

std::vector<Hypothesis> greedy_decode(Translator& model, const std::vector<std::vector<int32_t>>& sources, int max_length) {
  std::vector<Hypothesis> result(sources.size());
  if (sources.empty()) return result;
  const TokenBatch batch = pad_sources(sources);
  const int B = batch.batch;
  Translator::Encoded e;
  model.encode(batch, nullptr, e);
  Matrix hidden = e.initial, feed = Matrix::Zero(model.config().output_size, B), x(model.config().embedding_dim, B), log_probs;
  std::vector<int32_t> previous(static_cast<size_t>(B), kBos);
  std::vector<bool> active(static_cast<size_t>(B), true);
  std::vector<std::vector<Vector>> rows(static_cast<size_t>(B));
  int longest = 0;
  for (int b = 0; b < B; ++b) longest = std::max(longest, default_max_length(batch.lengths[b], max_length));
  Translator::StepCache cache;
  for (int i = 0; i < longest; ++i) {
    for (int b = 0; b < B; ++b) x.col(b) = model.target_embedding(previous[static_cast<size_t>(b)]);
    model.step(e, x, hidden, feed, cache);
    model.log_softmax_step(cache.output, log_probs);
    bool any = false;
    for (int b = 0; b < B; ++b) {
      if (!active[static_cast<size_t>(b)]) continue;
      Hypothesis& h = result[static_cast<size_t>(b)];
      Eigen::Index best;
      const Scalar lp = log_probs.col(b).maxCoeff(&best);
      h.log_probability += lp;
      previous[static_cast<size_t>(b)] = static_cast<int32_t>(best);
      if (best == kEos) {
        active[static_cast<size_t>(b)] = false;
        continue;
      }
      h.tokens.push_back(static_cast<int32_t>(best));
      if (model.config().has_attention()) rows[static_cast<size_t>(b)].push_back(cache.attention.weights.col(b).head(batch.lengths[b]));
      if (static_cast<int>(h.tokens.size()) >= default_max_length(batch.lengths[b], max_length)) active[static_cast<size_t>(b)] = false;
      any = any || active[static_cast<size_t>(b)];
    }
    if (!any) break;
  }
  for (int b = 0; b < B; ++b) {
    Hypothesis& h = result[static_cast<size_t>(b)];
    h.score = h.log_probability;
    if (model.config().has_attention()) h.attention = stack_rows(rows[static_cast<size_t>(b)], batch.lengths[b]);
  }
  return result;
}

Hypothesis beam_search(Translator& model, const std::vector<int32_t>& source, const DecodeOptions& options) {
  check(options.beam >= 1 && options.beam <= 64, "translate: beam width must be between 1 and 64");
  check(!source.empty(), "translate: the source sentence has no tokens");
  const int K = options.beam, L = static_cast<int>(source.size());
  const int max_length = default_max_length(L, options.max_length);
  Translator::Encoded e;
  model.encode(pad_sources(std::vector<std::vector<int32_t>>(static_cast<size_t>(K), source)), nullptr, e);
  Matrix hidden = e.initial, feed = Matrix::Zero(model.config().output_size, K), x(model.config().embedding_dim, K), log_probs;
  struct Beam {
    std::vector<int32_t> tokens;
    std::vector<Vector> rows;
    double log_probability = 0;
  };
  std::vector<Beam> beams(1);  // starts with one hypothesis; columns beyond beams.size() are unused
  std::vector<Hypothesis> finished;
  const auto penalty = [&](size_t length) { return std::pow((5.0 + static_cast<double>(length)) / 6.0, options.length_penalty); };
  const auto finish = [&](Beam&& beam, double log_probability) {
    Hypothesis h;
    h.tokens = std::move(beam.tokens);
    if (model.config().has_attention()) h.attention = stack_rows(beam.rows, L);
    h.log_probability = log_probability;
    h.score = log_probability / penalty(h.tokens.size() + 1);
    finished.push_back(std::move(h));
  };
  Translator::StepCache cache;
  for (int i = 0; i < max_length && !beams.empty() && static_cast<int>(finished.size()) < K; ++i) {
    for (int k = 0; k < K; ++k) {
      const int32_t previous = k < static_cast<int>(beams.size()) && !beams[static_cast<size_t>(k)].tokens.empty()
                                   ? beams[static_cast<size_t>(k)].tokens.back()
                                   : kBos;
      x.col(k) = model.target_embedding(previous);
    }
    model.step(e, x, hidden, feed, cache);
    model.log_softmax_step(cache.output, log_probs);
    // Candidates: each live beam's 2K best next tokens; keep the 2K best overall (ties: lower beam, lower id).
    struct Candidate {
      double log_probability;
      int beam;
      int32_t token;
    };
    std::vector<Candidate> candidates;
    const Eigen::Index V = log_probs.rows();
    const int per_beam = static_cast<int>(std::min<Eigen::Index>(2 * K, V));
    std::vector<int32_t> order(static_cast<size_t>(V));
    for (size_t k = 0; k < beams.size(); ++k) {
      std::iota(order.begin(), order.end(), 0);
      const auto col = log_probs.col(static_cast<Eigen::Index>(k));
      std::partial_sort(order.begin(), order.begin() + per_beam, order.end(),
                        [&](int32_t a, int32_t b) { return col(a) > col(b) || (col(a) == col(b) && a < b); });
      for (int r = 0; r < per_beam; ++r)
        candidates.push_back({beams[k].log_probability + col(order[static_cast<size_t>(r)]), static_cast<int>(k),
                              order[static_cast<size_t>(r)]});
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.log_probability > b.log_probability; });
    std::vector<Beam> next;
    std::vector<int> parents;
    for (const Candidate& cand : candidates) {
      if (static_cast<int>(next.size()) >= K || static_cast<int>(finished.size()) >= K) break;
      Beam beam = beams[static_cast<size_t>(cand.beam)];
      if (cand.token == kEos) {
        finish(std::move(beam), cand.log_probability);
        continue;
      }
      beam.tokens.push_back(cand.token);
      if (model.config().has_attention()) beam.rows.push_back(cache.attention.weights.col(cand.beam).head(L));
      beam.log_probability = cand.log_probability;
      next.push_back(std::move(beam));
      parents.push_back(cand.beam);
    }
    // Reorder the decoder state to follow the surviving beams.
    Matrix new_hidden = hidden, new_feed = feed;
    for (size_t k = 0; k < parents.size(); ++k) {
      new_hidden.col(static_cast<Eigen::Index>(k)) = hidden.col(parents[k]);
      new_feed.col(static_cast<Eigen::Index>(k)) = feed.col(parents[k]);
    }
    hidden.swap(new_hidden);
    feed.swap(new_feed);
    beams.swap(next);
  }
  if (finished.empty())  // every hypothesis reached max_length without </s>
    for (Beam& beam : beams) {
      const double lp = beam.log_probability;
      finish(std::move(beam), lp);
    }
  check(!finished.empty(), "translate: beam search produced no hypothesis");
  return *std::max_element(finished.begin(), finished.end(),
                           [](const Hypothesis& a, const Hypothesis& b) { return a.score < b.score; });
}

}  // namespace attnlens
