#include "models/translator.hpp"

#include <cmath>

#include "core/error.hpp"
#include "layers/gru.hpp"

namespace attnlens {

Translator::Translator(const TranslatorConfig& config)
    : config_(TranslatorConfig::from_json(config.to_json())),
      source_embedding_("encoder.embedding.weight", config.source_vocab_size, config.embedding_dim),
      target_embedding_("decoder.embedding.weight", config.target_vocab_size, config.embedding_dim),
      source_dropout_(config.dropout),
      target_dropout_(config.dropout),
      output_dropout_(config.dropout),
      encoder_(std::make_unique<GRU>("encoder.rnn", "_l0", config.embedding_dim, config.hidden_size, false),
               std::make_unique<GRU>("encoder.rnn", "_l0_reverse", config.embedding_dim, config.hidden_size, true)),
      bridge_("bridge", 2 * config.hidden_size, config.decoder_size),
      cell_("decoder.rnn", config.embedding_dim + (config.attention == "dot" || config.attention == "general"
                                                       ? config.output_size
                                                       : 2 * config.hidden_size),
            config.decoder_size),
      combine_("decoder.combine", config.decoder_size + 2 * config.hidden_size, config.output_size),
      out_("decoder.out", config.output_size, config.target_vocab_size) {
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
  bridge_.init(rng);
  cell_.init(rng);
  if (config_.has_attention()) attention_.init(rng);
  combine_.init(rng);
  out_.init(rng);
}

std::vector<Parameter*> Translator::parameters() {
  std::vector<Parameter*> params = {&source_embedding_.weight};
  for (Parameter* p : encoder_.parameters()) params.push_back(p);
  for (Parameter* p : bridge_.parameters()) params.push_back(p);
  params.push_back(&target_embedding_.weight);
  for (Parameter* p : cell_.parameters()) params.push_back(p);
  if (config_.has_attention())
    for (Parameter* p : attention_.parameters()) params.push_back(p);
  for (Parameter* p : combine_.parameters()) params.push_back(p);
  for (Parameter* p : out_.parameters()) params.push_back(p);
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
  bridge_.apply_step(e.summary, e.initial);
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
  combine_.apply_step(c.combined, c.output);
  c.output = c.output.array().tanh().matrix();
  feed = c.output;
}

void Translator::log_softmax_step(const Matrix& output, Matrix& log_probs) const {
  out_.apply_step(output, log_probs);
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
  out_.apply(outputs_, probabilities_);
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
  Matrix doutputs;
  out_.backward(dlogits, outputs_, doutputs);
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
    combine_.backward(dpre, c.combined, dcombined);
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
  Matrix dbridge;
  bridge_.backward(ds, e.summary, dbridge);
  dsummary += dbridge;
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

}  // namespace attnlens
