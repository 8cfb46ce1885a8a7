#include "models/classifier.hpp"

#include "core/error.hpp"
#include "layers/bidirectional.hpp"
#include "layers/lstm.hpp"

namespace attnlens {

nlohmann::json ClassifierConfig::to_json() const {
  return {{"architecture", architecture}, {"cell", cell},
          {"bidirectional", bidirectional}, {"pooling", pooling},
          {"vocab_size", vocab_size},     {"embedding_dim", embedding_dim},
          {"hidden_size", hidden_size},   {"embedding_dropout", embedding_dropout},
          {"dropout", dropout}};
}

namespace {
template <typename T>
T field(const nlohmann::json& j, const char* name, const T& fallback) {
  if (!j.contains(name)) return fallback;
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string("config.") + name + ": wrong type (" + j.at(name).type_name() + ")");
  }
}
void check_range(const char* name, double value, double lo, double hi) {
  check(value >= lo && value <= hi, std::string("config.") + name + ": " + std::to_string(value) + " is outside [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
}
}  // namespace

ClassifierConfig ClassifierConfig::from_json(const nlohmann::json& j) {
  check(j.is_object(), "config: expected a JSON object");
  ClassifierConfig c;
  c.architecture = field(j, "architecture", c.architecture);
  c.cell = field(j, "cell", c.cell);
  c.bidirectional = field(j, "bidirectional", c.bidirectional);
  c.pooling = field(j, "pooling", c.pooling);
  c.vocab_size = field(j, "vocab_size", c.vocab_size);
  c.embedding_dim = field(j, "embedding_dim", c.embedding_dim);
  c.hidden_size = field(j, "hidden_size", c.hidden_size);
  c.embedding_dropout = field(j, "embedding_dropout", c.embedding_dropout);
  c.dropout = field(j, "dropout", c.dropout);
  check(c.cell == "lstm", "config.cell: '" + c.cell + "' is not supported (supported: lstm)");
  check(c.pooling == "attention", "config.pooling: '" + c.pooling + "' is not supported (supported: attention)");
  check_range("vocab_size", c.vocab_size, 2, 5'000'000);
  check_range("embedding_dim", c.embedding_dim, 1, 4096);
  check_range("hidden_size", c.hidden_size, 1, 4096);
  check_range("embedding_dropout", c.embedding_dropout, 0, 0.95);
  check_range("dropout", c.dropout, 0, 0.95);
  return c;
}

Classifier::Classifier(const ClassifierConfig& config)
    : config_(config),
      embedding_("embedding", config.vocab_size, config.embedding_dim, 0),
      embedding_dropout_(config.embedding_dropout),
      pooling_("attention", config.hidden_size * (config.bidirectional ? 2 : 1)),
      dropout_(config.dropout),
      output_("fc", config.hidden_size * (config.bidirectional ? 2 : 1), 1) {
  if (config.bidirectional) {
    encoder_ = std::make_unique<Bidirectional>(
        std::make_unique<LSTM>("rnn", "_l0", config.embedding_dim, config.hidden_size, false),
        std::make_unique<LSTM>("rnn", "_l0_reverse", config.embedding_dim, config.hidden_size, true));
  } else {
    encoder_ = std::make_unique<LSTM>("rnn", "_l0", config.embedding_dim, config.hidden_size, false);
  }
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
  encoder_->init(rng);
  pooling_.init(rng);
  output_.init(rng);
}

std::vector<Parameter*> Classifier::parameters() {
  std::vector<Parameter*> params = embedding_.parameters();
  for (auto* p : encoder_->parameters()) params.push_back(p);
  for (auto* p : pooling_.parameters()) params.push_back(p);
  for (auto* p : output_.parameters()) params.push_back(p);
  return params;
}

int64_t Classifier::parameter_count() {
  int64_t total = 0;
  for (auto* p : parameters()) total += p->size();
  return total;
}

const Matrix& Classifier::forward(const TokenBatch& tokens, Rng* dropout_rng) {
  embedding_.forward(tokens, embedded_);                      // [E, T*B]
  embedding_dropout_.forward(embedded_.values, dropout_rng);
  encoder_->forward(embedded_, encoded_);                     // [C, T*B]
  pooled_ = pooling_.forward(encoded_);                       // [C, B]
  dropout_.forward(pooled_, dropout_rng);
  return output_.forward(pooled_);                            // [1, B]
}

void Classifier::backward(const Matrix& grad_logits) {
  grad_pooled_ = output_.backward(grad_logits);
  dropout_.backward(grad_pooled_);
  pooling_.backward(grad_pooled_, grad_encoded_);
  encoder_->backward(grad_encoded_, &grad_embedded_);
  embedding_dropout_.backward(grad_embedded_.values);
  embedding_.backward(grad_embedded_);
}

}  // namespace attnlens
