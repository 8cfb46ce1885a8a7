#include "models/translator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.hpp"
#include "core/init.hpp"
#include "layers/gru.hpp"

namespace attnlens {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Config

std::string TranslatorConfig::describe() const {
  const std::string decoder = attention == "none"       ? "GRU decoder " + std::to_string(decoder_size) + ", fixed context (no attention)"
                              : attention == "additive" ? "GRU decoder " + std::to_string(decoder_size) + " + additive (Bahdanau) attention"
                                                        : "GRU decoder " + std::to_string(decoder_size) + " + " + attention +
                                                              " (Luong) attention";
  return "embedding " + std::to_string(embedding_dim) + " → BiGRU " + std::to_string(hidden_size) + " → " + decoder +
         " → " + std::to_string(output_size) + " → softmax " + std::to_string(target_vocab_size);
}

int64_t TranslatorConfig::parameter_count() const {
  const int64_t E = embedding_dim, H = hidden_size, D = decoder_size, A = attention_size, O = output_size;
  const bool luong = attention == "dot" || attention == "general";
  const int64_t cell_input = E + (luong ? O : 2 * H);
  int64_t n = int64_t{source_vocab_size} * E + int64_t{target_vocab_size} * E;
  n += 2 * (3 * H * E + 3 * H * H + 6 * H);           // encoder, both directions
  n += D * 2 * H + D;                                 // bridge
  n += 3 * D * cell_input + 3 * D * D + 6 * D;        // decoder cell
  if (attention == "additive") n += A * D + A + A * 2 * H + A;
  if (attention == "general") n += D * 2 * H;
  n += O * (D + 2 * H) + O;                           // combine
  n += int64_t{target_vocab_size} * O + target_vocab_size;  // output layer
  return n;
}

json TranslatorConfig::to_json() const {
  return {{"architecture", architecture},   {"source_vocab_size", source_vocab_size},
          {"target_vocab_size", target_vocab_size}, {"embedding_dim", embedding_dim},
          {"hidden_size", hidden_size},     {"decoder_size", decoder_size},
          {"attention", attention},         {"attention_size", attention_size},
          {"output_size", output_size},     {"dropout", dropout}};
}

TranslatorConfig TranslatorConfig::from_json(const json& j) {
  check(j.is_object(), "config: expected a JSON object");
  static const char* const kKnown[] = {"architecture", "source_vocab_size", "target_vocab_size", "embedding_dim",
                                       "hidden_size",  "decoder_size",      "attention",         "attention_size",
                                       "output_size",  "dropout"};
  for (const auto& item : j.items())
    check(std::find_if(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return item.key() == k; }) !=
              std::end(kKnown),
          "config." + item.key() + ": unknown field");
  TranslatorConfig c;
  const auto integer = [&](const char* key, int& out, int lo, int hi) {
    if (!j.contains(key)) return;
    check(j[key].is_number_integer(), std::string("config.") + key + ": expected an integer");
    const int64_t v = j[key].get<int64_t>();
    check(v >= lo && v <= hi, std::string("config.") + key + ": must be between " + std::to_string(lo) + " and " +
                                  std::to_string(hi) + ", got " + std::to_string(v));
    out = static_cast<int>(v);
  };
  if (j.contains("architecture")) {
    check(j["architecture"].is_string(), "config.architecture: expected a string");
    c.architecture = j["architecture"].get<std::string>();
  }
  integer("source_vocab_size", c.source_vocab_size, 3, 1 << 20);
  integer("target_vocab_size", c.target_vocab_size, 5, 1 << 20);
  integer("embedding_dim", c.embedding_dim, 1, 4096);
  integer("hidden_size", c.hidden_size, 1, 4096);
  integer("decoder_size", c.decoder_size, 1, 4096);
  integer("attention_size", c.attention_size, 1, 4096);
  integer("output_size", c.output_size, 1, 4096);
  if (j.contains("attention")) {
    check(j["attention"].is_string(), "config.attention: expected a string");
    c.attention = j["attention"].get<std::string>();
  }
  check(c.attention == "none" || c.attention == "additive" || c.attention == "dot" || c.attention == "general",
        "config.attention: expected 'none', 'additive', 'dot' or 'general', got '" + c.attention + "'");
  check(c.attention != "dot" || c.decoder_size == 2 * c.hidden_size,
        "config.decoder_size: dot attention needs decoder_size = 2 × hidden_size (" + std::to_string(2 * c.hidden_size) + ")");
  if (j.contains("dropout")) {
    check(j["dropout"].is_number(), "config.dropout: expected a number");
    c.dropout = j["dropout"].get<double>();
    check(c.dropout >= 0 && c.dropout < 1, "config.dropout: must be in [0, 1)");
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Model

Translator::Translator(const TranslatorConfig& config)
    : config_(TranslatorConfig::from_json(config.to_json())),
      source_embedding_("encoder.embedding.weight", config.source_vocab_size, config.embedding_dim),
      target_embedding_("decoder.embedding.weight", config.target_vocab_size, config.embedding_dim),
      source_dropout_(config.dropout),
      target_dropout_(config.dropout),
      output_dropout_(config.dropout),
      encoder_(std::make_unique<GRU>("encoder.rnn", "_l0", config.embedding_dim, config.hidden_size, false),
               std::make_unique<GRU>("encoder.rnn", "_l0_reverse", config.embedding_dim, config.hidden_size, true)),
      bridge_weight_("bridge.weight", {config.decoder_size, 2 * config.hidden_size}),
      bridge_bias_("bridge.bias", {config.decoder_size}),
      cell_("decoder.rnn", config.embedding_dim + (config.attention == "dot" || config.attention == "general"
                                                       ? config.output_size
                                                       : 2 * config.hidden_size),
            config.decoder_size),
      combine_weight_("decoder.combine.weight", {config.output_size, config.decoder_size + 2 * config.hidden_size}),
      combine_bias_("decoder.combine.bias", {config.output_size}),
      out_weight_("decoder.out.weight", {config.target_vocab_size, config.output_size}),
      out_bias_("decoder.out.bias", {config.target_vocab_size}) {
  if (config_.has_attention()) {
    attention_kind_ = attention_kind_from_string(config_.attention);
    attention_ = DecoderAttention("decoder.attention", attention_kind_, config_.decoder_size, memory_size(),
                                  config_.attention_size);
  }
}

Translator::Translator(const Translator& other) = default;
Translator& Translator::operator=(const Translator& other) = default;

void Translator::init(Rng& rng) {
  source_embedding_.init(rng);
  target_embedding_.init(rng);
  encoder_.init(rng);
  init::xavier_uniform(bridge_weight_.value, rng);
  bridge_bias_.value.setZero();
  cell_.init(rng);
  if (config_.has_attention()) attention_.init(rng);
  init::xavier_uniform(combine_weight_.value, rng);
  combine_bias_.value.setZero();
  init::xavier_uniform(out_weight_.value, rng);
  out_bias_.value.setZero();
}

std::vector<Parameter*> Translator::parameters() {
  std::vector<Parameter*> params = {&source_embedding_.weight};
  for (Parameter* p : encoder_.parameters()) params.push_back(p);
  params.push_back(&bridge_weight_);
  params.push_back(&bridge_bias_);
  params.push_back(&target_embedding_.weight);
  for (Parameter* p : cell_.parameters()) params.push_back(p);
  if (config_.has_attention())
    for (Parameter* p : attention_.parameters()) params.push_back(p);
  for (Parameter* p : {&combine_weight_, &combine_bias_, &out_weight_, &out_bias_}) params.push_back(p);
  return params;
}

int64_t Translator::parameter_count() {
  int64_t n = 0;
  for (Parameter* p : parameters()) n += p->size();
  return n;
}

void Translator::encode(const TokenBatch& source, Rng* dropout_rng, Encoded& e) {
  check(source.batch > 0 && source.steps > 0, "translate: empty source batch");
  for (int length : source.lengths) check(length >= 1, "translate: every source sentence needs at least one token");
  for (int32_t id : source.ids)
    check(id >= 0 && id < config_.source_vocab_size, "translate: source id " + std::to_string(id) + " is out of range");
  source_embedding_.forward(source, e.embedded);
  source_dropout_.forward(e.embedded.values, dropout_rng);
  encoder_.forward(e.embedded, e.states);
  const int B = source.batch;
  const Eigen::Index H = config_.hidden_size;
  e.summary.resize(2 * H, B);
  for (int b = 0; b < B; ++b) {
    const Eigen::Index last = static_cast<Eigen::Index>(source.lengths[b] - 1) * B + b;
    e.summary.col(b).head(H) = e.states.values.col(last).head(H);  // forward direction's final state
    e.summary.col(b).tail(H) = e.states.values.col(b).tail(H);     // reverse direction's final state (at t = 0)
  }
  e.initial.noalias() = bridge_weight_.value * e.summary;
  e.initial.colwise() += bridge_bias_.value.col(0);
  e.initial = e.initial.array().tanh().matrix();
  if (config_.has_attention()) attention_.prepare(e.states.values, source.steps, B, source.lengths, e.memory);
}

void Translator::step(const Encoded& e, const Matrix& x, Matrix& hidden, Matrix& feed, StepCache& c) const {
  const Eigen::Index E = x.rows(), B = x.cols(), D = config_.decoder_size;
  const bool luong = attention_kind_ != AttentionKind::Additive && config_.has_attention();
  Matrix input(cell_.input_size(), B);
  input.topRows(E) = x;
  if (!config_.has_attention()) c.context = e.summary;
  else if (!luong) attention_.forward(e.memory, hidden, c.context, c.attention);  // Bahdanau: query s_{i-1}
  input.bottomRows(input.rows() - E) = luong ? feed : c.context;
  Matrix next;
  cell_.forward(input, hidden, next, c.cell);
  hidden.swap(next);
  if (luong) attention_.forward(e.memory, hidden, c.context, c.attention);  // Luong: query s_i
  c.combined.resize(D + c.context.rows(), B);
  c.combined.topRows(D) = hidden;
  c.combined.bottomRows(c.context.rows()) = c.context;
  c.output.noalias() = combine_weight_.value * c.combined;
  c.output.colwise() += combine_bias_.value.col(0);
  c.output = c.output.array().tanh().matrix();
  feed = c.output;
}

void Translator::log_softmax_step(const Matrix& output, Matrix& log_probs) const {
  log_probs.noalias() = out_weight_.value * output;
  log_probs.colwise() += out_bias_.value.col(0);
  for (Eigen::Index k = 0; k < log_probs.cols(); ++k) {
    auto col = log_probs.col(k);
    const Scalar top = col.maxCoeff();
    const Scalar log_sum = top + std::log((col.array() - top).exp().sum());
    col.array() -= log_sum;
  }
}

Translator::Stats Translator::forward(const TranslationBatch& batch, Rng* dropout_rng) {
  const TokenBatch& input = batch.decoder_input;
  const int T = input.steps, B = input.batch;
  check(batch.source.batch == B, "translate: source and target batches differ in size");
  check(batch.targets.size() == input.ids.size(), "translate: targets and decoder inputs differ in size");
  for (int32_t id : input.ids)
    check(id >= 0 && id < config_.target_vocab_size, "translate: target id " + std::to_string(id) + " is out of range");
  encode(batch.source, dropout_rng, encoded_);
  target_embedding_.forward(input, target_embedded_);
  target_dropout_.forward(target_embedded_.values, dropout_rng);
  steps_.resize(static_cast<size_t>(T));
  Matrix hidden = encoded_.initial, feed = Matrix::Zero(config_.output_size, B);
  outputs_.resize(config_.output_size, static_cast<Eigen::Index>(T) * B);
  for (int i = 0; i < T; ++i) {
    step(encoded_, target_embedded_.step(i), hidden, feed, steps_[static_cast<size_t>(i)]);
    outputs_.middleCols(static_cast<Eigen::Index>(i) * B, B) = steps_[static_cast<size_t>(i)].output;
  }
  output_dropout_.forward(outputs_, dropout_rng);
  probabilities_.noalias() = out_weight_.value * outputs_;
  probabilities_.colwise() += out_bias_.value.col(0);
  Stats stats;
  targets_ = batch.targets;
  decoder_input_ = input;
  source_input_ = batch.source;
  for (int i = 0; i < T; ++i) {
    for (int b = 0; b < B; ++b) {
      const Eigen::Index col = static_cast<Eigen::Index>(i) * B + b;
      auto p = probabilities_.col(col);
      if (!input.real(i, b)) {
        p.setZero();
        continue;
      }
      const int32_t target = targets_[static_cast<size_t>(col)];
      check(target >= 0 && target < config_.target_vocab_size && target != 0,
            "translate: target id " + std::to_string(target) + " is out of range");
      Eigen::Index best;
      const Scalar top = p.maxCoeff(&best);
      p = (p.array() - top).exp().matrix();
      const Scalar sum = p.sum();
      stats.loss_sum += -(std::log(static_cast<double>(p(target))) - std::log(static_cast<double>(sum)));
      p /= sum;
      stats.correct += best == target;
      ++stats.tokens;
    }
  }
  target_tokens_ = stats.tokens;
  return stats;
}

void Translator::backward(double scale) {
  const TokenBatch& input = decoder_input_;
  const int T = input.steps, B = input.batch;
  const Eigen::Index D = config_.decoder_size, E = config_.embedding_dim, M = memory_size();
  const bool luong = attention_kind_ != AttentionKind::Additive && config_.has_attention();
  // dL/dlogits = scale (softmax − onehot) on real positions (probabilities_ is zero elsewhere).
  Matrix& dlogits = probabilities_;
  for (int i = 0; i < T; ++i)
    for (int b = 0; b < B; ++b)
      if (input.real(i, b)) dlogits(targets_[static_cast<size_t>(i) * B + b], static_cast<Eigen::Index>(i) * B + b) -= 1;
  dlogits *= static_cast<Scalar>(scale);
  out_weight_.grad.noalias() += dlogits * outputs_.transpose();
  out_bias_.grad.col(0) += dlogits.rowwise().sum();
  Matrix doutputs = out_weight_.value.transpose() * dlogits;
  output_dropout_.backward(doutputs);

  const Encoded& e = encoded_;
  Matrix dstates = Matrix::Zero(M, e.states.values.cols());
  Matrix dkeys;
  if (config_.has_attention()) dkeys.setZero(e.memory.keys.rows(), e.memory.keys.cols());
  Matrix dsummary = Matrix::Zero(M, B);
  SequenceBatch dtarget;
  dtarget.steps = T;
  dtarget.batch = B;
  dtarget.lengths = input.lengths;
  dtarget.values.resize(E, static_cast<Eigen::Index>(T) * B);
  Matrix ds = Matrix::Zero(D, B), dfeed = Matrix::Zero(config_.output_size, B), ds_prev, dinput, dpre, dcombined;
  for (int i = T - 1; i >= 0; --i) {
    StepCache& c = steps_[static_cast<size_t>(i)];
    dpre = doutputs.middleCols(static_cast<Eigen::Index>(i) * B, B) + dfeed;
    dpre.array() *= 1 - c.output.array().square();
    combine_weight_.grad.noalias() += dpre * c.combined.transpose();
    combine_bias_.grad.col(0) += dpre.rowwise().sum();
    dcombined.noalias() = combine_weight_.value.transpose() * dpre;
    ds += dcombined.topRows(D);
    Matrix dcontext = dcombined.bottomRows(M);
    if (luong) attention_.backward(e.memory, c.attention, dcontext, ds, dkeys, dstates);
    cell_.backward(ds, c.cell, dinput, ds_prev);
    dtarget.values.middleCols(static_cast<Eigen::Index>(i) * B, B) = dinput.topRows(E);
    const auto dlower = dinput.bottomRows(dinput.rows() - E);
    if (!config_.has_attention()) {
      dsummary += dcontext + dlower;
    } else if (!luong) {
      dcontext += dlower;
      attention_.backward(e.memory, c.attention, dcontext, ds_prev, dkeys, dstates);
    } else {
      dfeed = dlower;
    }
    ds.swap(ds_prev);
  }
  // s_0 = tanh(W_b summary + b_b)
  ds.array() *= 1 - e.initial.array().square();
  bridge_weight_.grad.noalias() += ds * e.summary.transpose();
  bridge_bias_.grad.col(0) += ds.rowwise().sum();
  dsummary.noalias() += bridge_weight_.value.transpose() * ds;
  if (config_.has_attention()) attention_.backward_keys(e.memory, dkeys, dstates);
  const Eigen::Index H = config_.hidden_size;
  const TokenBatch& source = source_input_;
  for (int b = 0; b < B; ++b) {
    dstates.col(static_cast<Eigen::Index>(source.lengths[b] - 1) * B + b).head(H) += dsummary.col(b).head(H);
    dstates.col(b).tail(H) += dsummary.col(b).tail(H);
  }
  target_dropout_.backward(dtarget.values);
  target_embedding_.backward(dtarget);
  SequenceBatch grad_states = e.states, grad_embedded;
  grad_states.values = std::move(dstates);
  encoder_.backward(grad_states, &grad_embedded);
  source_dropout_.backward(grad_embedded.values);
  source_embedding_.backward(grad_embedded);
}

// ---------------------------------------------------------------------------------------------
// Decoding

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

std::vector<Hypothesis> Translator::greedy(const std::vector<std::vector<int32_t>>& sources, int max_length) {
  std::vector<Hypothesis> result(sources.size());
  if (sources.empty()) return result;
  const TokenBatch batch = pad_sources(sources);
  const int B = batch.batch;
  Encoded e;
  encode(batch, nullptr, e);
  Matrix hidden = e.initial, feed = Matrix::Zero(config_.output_size, B), x(config_.embedding_dim, B), log_probs;
  std::vector<int32_t> previous(static_cast<size_t>(B), kBos);
  std::vector<bool> active(static_cast<size_t>(B), true);
  std::vector<std::vector<Vector>> rows(static_cast<size_t>(B));
  int longest = 0;
  for (int b = 0; b < B; ++b) longest = std::max(longest, default_max_length(batch.lengths[b], max_length));
  StepCache cache;
  for (int i = 0; i < longest; ++i) {
    for (int b = 0; b < B; ++b) x.col(b) = target_embedding_.weight.value.row(previous[static_cast<size_t>(b)]).transpose();
    step(e, x, hidden, feed, cache);
    log_softmax_step(cache.output, log_probs);
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
      if (config_.has_attention()) rows[static_cast<size_t>(b)].push_back(cache.attention.weights.col(b).head(batch.lengths[b]));
      if (static_cast<int>(h.tokens.size()) >= default_max_length(batch.lengths[b], max_length)) active[static_cast<size_t>(b)] = false;
      any = any || active[static_cast<size_t>(b)];
    }
    if (!any) break;
  }
  for (int b = 0; b < B; ++b) {
    Hypothesis& h = result[static_cast<size_t>(b)];
    h.score = h.log_probability;
    if (config_.has_attention()) h.attention = stack_rows(rows[static_cast<size_t>(b)], batch.lengths[b]);
  }
  return result;
}

Hypothesis Translator::translate(const std::vector<int32_t>& source, const DecodeOptions& options) {
  check(options.beam >= 1 && options.beam <= 64, "translate: beam width must be between 1 and 64");
  check(!source.empty(), "translate: the source sentence has no tokens");
  const int K = options.beam, L = static_cast<int>(source.size());
  const int max_length = default_max_length(L, options.max_length);
  Encoded e;
  encode(pad_sources(std::vector<std::vector<int32_t>>(static_cast<size_t>(K), source)), nullptr, e);
  Matrix hidden = e.initial, feed = Matrix::Zero(config_.output_size, K), x(config_.embedding_dim, K), log_probs;
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
    if (config_.has_attention()) h.attention = stack_rows(beam.rows, L);
    h.log_probability = log_probability;
    h.score = log_probability / penalty(h.tokens.size() + 1);
    finished.push_back(std::move(h));
  };
  StepCache cache;
  for (int i = 0; i < max_length && !beams.empty() && static_cast<int>(finished.size()) < K; ++i) {
    for (int k = 0; k < K; ++k) {
      const int32_t previous = k < static_cast<int>(beams.size()) && !beams[static_cast<size_t>(k)].tokens.empty()
                                   ? beams[static_cast<size_t>(k)].tokens.back()
                                   : kBos;
      x.col(k) = target_embedding_.weight.value.row(previous).transpose();
    }
    step(e, x, hidden, feed, cache);
    log_softmax_step(cache.output, log_probs);
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
      if (config_.has_attention()) beam.rows.push_back(cache.attention.weights.col(cand.beam).head(L));
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
