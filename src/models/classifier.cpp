#include "models/classifier.hpp"

#include <sstream>

#include "core/error.hpp"
#include "layers/attention_pooling.hpp"
#include "layers/bidirectional.hpp"
#include "layers/conv1d.hpp"
#include "layers/gru.hpp"
#include "layers/lstm.hpp"
#include "layers/transformer.hpp"

namespace attnlens {

using nlohmann::json;

namespace {

template <typename T>
T field(const json& j, const char* name, const T& fallback, const std::string& where) {
  if (!j.contains(name)) return fallback;
  try {
    return j.at(name).get<T>();
  } catch (const json::exception&) {
    throw Error(where + name + ": wrong type (" + j.at(name).type_name() + ")");
  }
}

void check_range(const std::string& name, double value, double lo, double hi) {
  check(value >= lo && value <= hi, name + ": " + std::to_string(value) + " is outside [" + std::to_string(lo) + ", " +
                                        std::to_string(hi) + "]");
}

bool is_recurrent(const std::string& type) { return type == "lstm" || type == "gru"; }

}  // namespace

json LayerSpec::to_json() const {
  json j = {{"type", type}};
  if (is_recurrent(type)) j.update({{"size", size}, {"bidirectional", bidirectional}});
  if (type == "conv1d") j.update({{"size", size}, {"kernel_size", kernel_size}, {"padding", padding}});
  if (type == "maxpool1d") j["pool_size"] = pool_size;
  if (type == "transformer") j.update({{"layers", layers}, {"heads", heads}, {"feedforward", feedforward}});
  return j;
}

LayerSpec LayerSpec::from_json(const json& j, const std::string& where) {
  check(j.is_object(), where + ": expected an object with a 'type'");
  LayerSpec s;
  s.type = field(j, "type", std::string(), where + ".");
  s.size = field(j, "size", 0, where + ".");
  s.bidirectional = field(j, "bidirectional", false, where + ".");
  s.kernel_size = field(j, "kernel_size", 0, where + ".");
  s.padding = field(j, "padding", std::string("same"), where + ".");
  s.pool_size = field(j, "pool_size", 0, where + ".");
  s.layers = field(j, "layers", 0, where + ".");
  s.heads = field(j, "heads", 0, where + ".");
  s.feedforward = field(j, "feedforward", 0, where + ".");
  if (is_recurrent(s.type)) {
    check_range(where + ".size", s.size, 1, 4096);
  } else if (s.type == "conv1d") {
    check_range(where + ".size", s.size, 1, 4096);
    check_range(where + ".kernel_size", s.kernel_size, 1, 64);
    check(s.padding == "same" || s.padding == "valid", where + ".padding: '" + s.padding + "' (expected same or valid)");
  } else if (s.type == "maxpool1d") {
    check_range(where + ".pool_size", s.pool_size, 1, 64);
  } else if (s.type == "transformer") {
    check_range(where + ".layers", s.layers, 1, 24);
    check_range(where + ".heads", s.heads, 1, 64);
    check_range(where + ".feedforward", s.feedforward, 1, 16384);
  } else {
    check(s.type == "relu", where + ".type: '" + s.type + "' is not supported (lstm, gru, conv1d, relu, maxpool1d, transformer)");
  }
  return s;
}

std::vector<LayerSpec> ClassifierConfig::encoder_layers() const {
  if (!encoder.empty()) return encoder;
  LayerSpec recurrent;
  recurrent.type = cell;
  recurrent.size = hidden_size;
  recurrent.bidirectional = bidirectional;
  return {recurrent};
}

std::string ClassifierConfig::describe() const {
  std::ostringstream out;
  out << "embedding " << embedding_dim;
  for (const LayerSpec& s : encoder_layers()) {
    out << " → ";
    if (is_recurrent(s.type)) {
      out << (s.bidirectional ? "bidirectional " : "") << (s.type == "lstm" ? "LSTM " : "GRU ") << s.size
          << (s.bidirectional ? " per direction" : "");
    } else if (s.type == "conv1d") {
      out << "Conv1D " << s.size << "×" << s.kernel_size << " (" << s.padding << ")";
    } else if (s.type == "maxpool1d") {
      out << "max-pool " << s.pool_size;
    } else if (s.type == "transformer") {
      out << "Transformer encoder (" << s.layers << " pre-norm layers, " << s.heads << " heads, feed-forward " << s.feedforward
          << ", sinusoidal positions)";
    } else {
      out << "ReLU";
    }
  }
  out << " → " << (pooling == "attention" ? "attention pooling (e_t = tanh(w·h_t + b), α = softmax over real tokens)"
                   : pooling == "max"     ? "global max pooling"
                   : pooling == "mean"    ? "mean pooling"
                                          : "last real step");
  for (int d : dense) out << " → dense " << d << " + ReLU";
  out << " → dense 1 → sigmoid";
  return out.str();
}

json ClassifierConfig::to_json() const {
  json layers = json::array();
  for (const LayerSpec& s : encoder_layers()) layers.push_back(s.to_json());
  return {{"architecture", architecture}, {"vocab_size", vocab_size}, {"embedding_dim", embedding_dim},
          {"encoder", layers},            {"pooling", pooling},       {"dense", dense},
          {"embedding_dropout", embedding_dropout},                   {"dropout", dropout}};
}

ClassifierConfig ClassifierConfig::from_json(const json& j) {
  check(j.is_object(), "config: expected a JSON object");
  ClassifierConfig c;
  const std::string where = "config.";
  c.architecture = field(j, "architecture", c.architecture, where);
  c.vocab_size = field(j, "vocab_size", c.vocab_size, where);
  c.embedding_dim = field(j, "embedding_dim", c.embedding_dim, where);
  c.cell = field(j, "cell", c.cell, where);
  c.bidirectional = field(j, "bidirectional", c.bidirectional, where);
  c.hidden_size = field(j, "hidden_size", c.hidden_size, where);
  c.pooling = field(j, "pooling", c.pooling, where);
  c.dense = field(j, "dense", c.dense, where);
  c.embedding_dropout = field(j, "embedding_dropout", c.embedding_dropout, where);
  c.dropout = field(j, "dropout", c.dropout, where);
  if (j.contains("encoder")) {
    check(j["encoder"].is_array() && !j["encoder"].empty(), "config.encoder: expected a non-empty array of layers");
    check(j["encoder"].size() <= 32, "config.encoder: at most 32 layers");
    for (size_t i = 0; i < j["encoder"].size(); ++i)
      c.encoder.push_back(LayerSpec::from_json(j["encoder"][i], "config.encoder[" + std::to_string(i) + "]"));
  } else {
    check(is_recurrent(c.cell), "config.cell: '" + c.cell + "' is not supported (supported: lstm, gru)");
    check_range("config.hidden_size", c.hidden_size, 1, 4096);
  }
  check(c.pooling == "attention" || c.pooling == "max" || c.pooling == "mean" || c.pooling == "last",
        "config.pooling: '" + c.pooling + "' is not supported (attention, max, mean, last)");
  check(c.dense.size() <= 8, "config.dense: at most 8 hidden layers");
  for (int d : c.dense) check_range("config.dense[]", d, 1, 4096);
  check_range("config.vocab_size", c.vocab_size, 2, 5'000'000);
  check_range("config.embedding_dim", c.embedding_dim, 1, 4096);
  check_range("config.embedding_dropout", c.embedding_dropout, 0, 0.95);
  check_range("config.dropout", c.dropout, 0, 0.95);
  return c;
}

Classifier::Classifier(const ClassifierConfig& config)
    : config_(config),
      embedding_("embedding", config.vocab_size, config.embedding_dim, 0),
      embedding_dropout_(config.embedding_dropout),
      dropout_(config.dropout) {
  // Names follow PyTorch: stacked recurrent layers rnn.*_l0, _l1 (…_reverse); conv0, conv1;
  // hidden dense layers dense0, dense1; the output layer fc.
  int channels = config.embedding_dim, rnn_index = 0, conv_index = 0;
  for (const LayerSpec& s : config.encoder_layers()) {
    if (is_recurrent(s.type)) {
      const std::string suffix = "_l" + std::to_string(rnn_index++);
      const auto make = [&](const std::string& sfx, bool reverse) -> std::unique_ptr<SequenceLayer> {
        if (s.type == "lstm") return std::make_unique<LSTM>("rnn", sfx, channels, s.size, reverse);
        return std::make_unique<GRU>("rnn", sfx, channels, s.size, reverse);
      };
      if (s.bidirectional) encoder_.push_back(std::make_unique<Bidirectional>(make(suffix, false), make(suffix + "_reverse", true)));
      else encoder_.push_back(make(suffix, false));
    } else if (s.type == "conv1d") {
      encoder_.push_back(std::make_unique<Conv1D>("conv" + std::to_string(conv_index++), channels, s.size, s.kernel_size,
                                                  s.padding == "valid" ? Conv1D::Padding::Valid : Conv1D::Padding::Same));
    } else if (s.type == "relu") {
      encoder_.push_back(std::make_unique<ReLU>(channels));
    } else if (s.type == "transformer") {
      encoder_.push_back(std::make_unique<TransformerEncoder>("encoder", channels, s.layers, s.heads, s.feedforward));
    } else {
      encoder_.push_back(std::make_unique<MaxPool1D>(channels, s.pool_size));
    }
    channels = encoder_.back()->output_channels();
  }
  encoded_.resize(encoder_.size());
  if (config.pooling == "attention") pooling_ = std::make_unique<AttentionPooling>("attention", channels);
  else if (config.pooling == "max") pooling_ = std::make_unique<GlobalMaxPooling>();
  else if (config.pooling == "mean") pooling_ = std::make_unique<MeanPooling>();
  else pooling_ = std::make_unique<LastPooling>();
  for (size_t i = 0; i < config.dense.size(); ++i) {
    hidden_.emplace_back("dense" + std::to_string(i), channels, config.dense[i]);
    channels = config.dense[i];
  }
  hidden_out_.resize(hidden_.size());
  output_ = Dense("fc", channels, 1);
}

const TransformerEncoder* Classifier::transformer() const {
  for (const auto& layer : encoder_)
    if (auto t = dynamic_cast<const TransformerEncoder*>(layer.get())) return t;
  return nullptr;
}

Classifier::Classifier(const Classifier& other) : Classifier(other.config_) { *this = other; }

Classifier& Classifier::operator=(const Classifier& other) {
  if (this == &other) return *this;
  check(other.config_.to_json() == config_.to_json(), "classifier: cannot assign a model of another architecture");
  auto mine = parameters();
  auto theirs = const_cast<Classifier&>(other).parameters();
  for (size_t i = 0; i < mine.size(); ++i) {
    mine[i]->value = theirs[i]->value;
    mine[i]->grad = theirs[i]->grad;
  }
  return *this;
}

void Classifier::init(Rng& rng) {
  embedding_.init(rng);
  for (auto& layer : encoder_) layer->init(rng);
  pooling_->init(rng);
  for (auto& dense : hidden_) dense.init(rng);
  output_.init(rng);
}

std::vector<Parameter*> Classifier::parameters() {
  std::vector<Parameter*> params = embedding_.parameters();
  for (auto& layer : encoder_)
    for (auto* p : layer->parameters()) params.push_back(p);
  for (auto* p : pooling_->parameters()) params.push_back(p);
  for (auto& dense : hidden_)
    for (auto* p : dense.parameters()) params.push_back(p);
  for (auto* p : output_.parameters()) params.push_back(p);
  return params;
}

int64_t Classifier::parameter_count() {
  int64_t total = 0;
  for (auto* p : parameters()) total += p->size();
  return total;
}

const Matrix& Classifier::forward(const TokenBatch& tokens, Rng* dropout_rng) {
  embedding_.forward(tokens, embedded_);  // [E, T*B]
  embedding_dropout_.forward(embedded_.values, dropout_rng);
  const SequenceBatch* current = &embedded_;
  for (size_t i = 0; i < encoder_.size(); ++i) {
    encoder_[i]->forward(*current, encoded_[i]);
    current = &encoded_[i];
  }
  pooled_ = pooling_->forward(*current);  // [C, B]
  dropout_.forward(pooled_, dropout_rng);
  const Matrix* x = &pooled_;
  for (size_t i = 0; i < hidden_.size(); ++i) {
    hidden_out_[i] = hidden_[i].forward(*x).cwiseMax(Scalar(0));  // Dense → ReLU
    x = &hidden_out_[i];
  }
  return output_.forward(*x);  // [1, B]
}

void Classifier::backward(const Matrix& grad_logits) {
  grad_pooled_ = output_.backward(grad_logits);
  for (size_t i = hidden_.size(); i-- > 0;) {
    grad_pooled_ = (hidden_out_[i].array() > 0).select(grad_pooled_, Scalar(0));  // through the ReLU
    grad_pooled_ = hidden_[i].backward(grad_pooled_);
  }
  dropout_.backward(grad_pooled_);
  pooling_->backward(grad_pooled_, grad_a_);
  for (size_t i = encoder_.size(); i-- > 0;) {
    SequenceBatch* target = i == 0 ? &grad_embedded_ : &grad_b_;
    encoder_[i]->backward(grad_a_, target);
    if (i > 0) std::swap(grad_a_, grad_b_);
  }
  embedding_dropout_.backward(grad_embedded_.values);
  embedding_.backward(grad_embedded_);
}

}  // namespace attnlens
