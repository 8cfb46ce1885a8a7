#include "models/classifier.hpp"

#include "core/error.hpp"
#include "layers/attention_pooling.hpp"
#include "layers/bidirectional.hpp"
#include "layers/conv1d.hpp"
#include "layers/global_max_pooling.hpp"
#include "layers/last_pooling.hpp"
#include "layers/max_pool.hpp"
#include "layers/mean_pooling.hpp"
#include "layers/relu.hpp"
#include "layers/gru.hpp"
#include "layers/lstm.hpp"
#include "layers/transformer.hpp"

namespace attnlens {

namespace {

bool is_recurrent(const std::string& type) { return type == "lstm" || type == "gru"; }

}  // namespace

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
      const bool lstm = s.type == "lstm";
      const auto make = [&](const std::string& sfx, bool reverse) -> std::unique_ptr<SequenceLayer> {
        if (lstm) return std::make_unique<LSTM>("rnn", sfx, channels, s.size, reverse);
        return std::make_unique<GRU>("rnn", sfx, channels, s.size, reverse);
      };
      if (s.bidirectional)
        encoder_.push_back(std::make_unique<Bidirectional>(make(suffix, false), make(suffix + "_reverse", true),
                                                           lstm ? Bidirectional::copier<LSTM>() : Bidirectional::copier<GRU>()));
      else
        encoder_.push_back(make(suffix, false));
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
  from_tokens_ = true;
  return forward_from_embedded(dropout_rng);
}

const Matrix& Classifier::forward_embedded(const SequenceBatch& embedded) {
  check(embedded.values.rows() == config_.embedding_dim,
        "classifier: embedded tokens have " + std::to_string(embedded.values.rows()) + " rows, expected " +
            std::to_string(config_.embedding_dim));
  embedded_ = embedded;
  embedding_dropout_.forward(embedded_.values, nullptr);  // no dropout: backward passes gradients through
  from_tokens_ = false;
  return forward_from_embedded(nullptr);
}

const Matrix& Classifier::forward_from_embedded(Rng* dropout_rng) {
  const SequenceBatch* current = &embedded_;
  for (size_t i = 0; i < encoder_.size(); ++i) {
    encoder_[i]->forward(*current, encoded_[i]);
    current = &encoded_[i];
  }
  pooled_ = pooling_->forward(*current);  // [C, B]
  return head(dropout_rng);
}

const Matrix& Classifier::head(Rng* dropout_rng) {
  dropout_.forward(pooled_, dropout_rng);
  const Matrix* x = &pooled_;
  for (size_t i = 0; i < hidden_.size(); ++i) {
    hidden_out_[i] = hidden_[i].forward(*x).cwiseMax(Scalar(0));  // Dense → ReLU
    x = &hidden_out_[i];
  }
  return output_.forward(*x);  // [1, B]
}

void Classifier::head_backward(const Matrix& grad_logits) {
  grad_pooled_ = output_.backward(grad_logits);
  for (size_t i = hidden_.size(); i-- > 0;) {
    grad_pooled_ = (hidden_out_[i].array() > 0).select(grad_pooled_, Scalar(0));  // through the ReLU
    grad_pooled_ = hidden_[i].backward(grad_pooled_);
  }
}

double Classifier::logit_with_attention(const Vector& weights, Vector* grad) {
  check(config_.has_attention(), "attention experiments: the " + config_.architecture + " model has no attention pooling");
  const SequenceBatch& h = encoded_.empty() ? embedded_ : encoded_.back();
  check(h.batch == 1 && weights.size() == h.steps,
        "attention experiments: " + std::to_string(weights.size()) + " weights for a forward pass of " +
            std::to_string(h.steps) + " steps and " + std::to_string(h.batch) + " reviews (one is needed)");
  pooled_.noalias() = h.values * weights;  // c = Σ_t α_t h_t
  const double logit = head(nullptr)(0, 0);
  if (grad) {  // dlogit/dα_t = dlogit/dc · h_t
    InputGradientsOnly input_gradients_only;
    head_backward(Matrix::Ones(1, 1));
    grad->noalias() = h.values.transpose() * grad_pooled_.col(0);
  }
  return logit;
}

void Classifier::backward(const Matrix& grad_logits) {
  if constexpr (!kHasGradients) no_gradients("Classifier");  // and the compiler drops the rest
  head_backward(grad_logits);
  dropout_.backward(grad_pooled_);
  pooling_->backward(grad_pooled_, grad_a_);
  for (size_t i = encoder_.size(); i-- > 0;) {
    SequenceBatch* target = i == 0 ? &grad_embedded_ : &grad_b_;
    encoder_[i]->backward(grad_a_, target);
    if (i > 0) std::swap(grad_a_, grad_b_);
  }
  embedding_dropout_.backward(grad_embedded_.values);
  if (from_tokens_) embedding_.backward(grad_embedded_);  // given embeddings have no table rows to update
}

}  // namespace attnlens
