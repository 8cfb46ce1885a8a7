#include "models/classifier.hpp"

// The classifier's passes: forward (from tokens or from embeddings), the head, backward, and the
// output as a function of the attention weights. Building it: classifier_structure.cpp.
#include "core/error.hpp"
#include "text/vocabulary.hpp"

namespace attnlens {

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
  embedding_.copy_ngrams(other.embedding_);
  ngram_path_.copy_ngrams(other.ngram_path_);
  ngrams_bound_ = other.ngrams_bound_;
  return *this;
}

const Matrix& Classifier::forward(const TokenBatch& tokens, Rng* dropout_rng, const Matrix* perturbation) {
  check((config_.ngram_order == 0 && config_.ngram_path == 0) || ngrams_bound_,
        "classifier: an n-gram model or path needs its vocabulary (bind_vocabulary)");
  const TokenBatch* network_tokens = &tokens;
  if (config_.ngram_path > 0) {
    ngram_path_.forward(tokens, ngram_out_);  // first: it checks every id against the whole vocabulary
    network_tokens_ = tokens;
    for (int32_t& id : network_tokens_.ids)
      if (id >= config_.embedding_words) id = Vocabulary::kUnk;
    network_tokens = &network_tokens_;
  }
  embedding_.forward(*network_tokens, embedded_);  // [E, T*B]
  if (perturbation) {
    check(perturbation->rows() == embedded_.values.rows() && perturbation->cols() == embedded_.values.cols(),
          "classifier: the perturbation's shape differs from the embedded tokens'");
    embedded_.values += *perturbation;
  }
  embedding_dropout_.forward(embedded_.values, dropout_rng);
  from_tokens_ = true;
  const Matrix& network = forward_from_embedded(dropout_rng);
  if (config_.ngram_path == 0) return network;
  const int T = tokens.steps, B = tokens.batch;
  const Scalar gain = ngram_gain_.value(0, 0);
  ngram_sums_.setZero(1, B);
  ngram_shares_.resize(T, B);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b) {
      const Scalar share = ngram_out_.values(0, static_cast<Eigen::Index>(t) * B + b);
      ngram_sums_(0, b) += share;
      ngram_shares_(t, b) = gain * share;
    }
  logits_ = network + gain * ngram_sums_;
  return logits_;
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
  double logit = head(nullptr)(0, 0);
  if (config_.ngram_path > 0 && from_tokens_) logit += ngram_gain_.value(0, 0) * ngram_sums_(0, 0);  // α does not change it
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
  if (encoder_.empty()) std::swap(grad_embedded_, grad_a_);  // an n-gram model pools its embeddings
  for (size_t i = encoder_.size(); i-- > 0;) {
    SequenceBatch* target = i == 0 ? &grad_embedded_ : &grad_b_;
    encoder_[i]->backward(grad_a_, target);
    if (i > 0) std::swap(grad_a_, grad_b_);
  }
  embedding_dropout_.backward(grad_embedded_.values);
  if (from_tokens_) embedding_.backward(grad_embedded_);  // given embeddings have no table rows to update
  if (config_.ngram_path > 0 && from_tokens_ && !InputGradientsOnly::active()) {  // logit += gain · Σ_t shares
    const int B = static_cast<int>(grad_logits.cols());
    check(ngram_sums_.cols() == B, "classifier: backward's batch differs from the forward pass's");
    ngram_gain_.grad(0, 0) += (grad_logits.array() * ngram_sums_.array()).sum();
    SequenceBatch grad_shares;
    grad_shares.steps = ngram_out_.steps;
    grad_shares.batch = B;
    grad_shares.lengths = ngram_out_.lengths;
    grad_shares.values.resize(1, ngram_out_.values.cols());
    for (Eigen::Index column = 0; column < grad_shares.values.cols(); ++column)
      grad_shares.values(0, column) = ngram_gain_.value(0, 0) * grad_logits(0, column % B);
    ngram_path_.backward(grad_shares);
  }
}

}  // namespace attnlens
