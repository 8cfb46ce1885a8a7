// The text classifier: Embedding → dropout → encoder layers → pooling → dropout →
// [Dense → ReLU]* → Dense → one logit (positive class). Everything is built from a
// ClassifierConfig, which the model file stores, so the file alone rebuilds the model.
//
// Architectures of the attention tutorials, as configs:
//   bilstm-attention  encoder [bilstm 64], pooling attention
//   lstm              encoder [lstm 64], pooling last, dense [32]
//   cnn               encoder [conv1d 128×5, relu, maxpool 5, conv1d 128×5, relu], pooling max, dense […]
//   gru-attention     encoder [gru 64 (bi)], pooling attention
//   transformer       encoder [transformer 2 layers × 4 heads], pooling mean
//   ngram             bag of words and bigrams (ngram_order 2), embedding 1, pooling sum: the classical baseline
#pragma once
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/embedding.hpp"
#include "layers/module.hpp"
#include "layers/pooling.hpp"

namespace attnlens {

class Vocabulary;

// One encoder layer. Types: "lstm", "gru" (size = hidden size per direction, bidirectional),
// "conv1d" (size = filters, kernel_size, padding "same" | "valid"), "relu", "maxpool1d" (pool_size),
// "transformer" (layers, heads, feedforward: a pre-norm Transformer encoder on the embedding width).
struct LayerSpec {
  std::string type;
  int size = 0;
  bool bidirectional = false;
  int kernel_size = 0;
  std::string padding = "same";
  int pool_size = 0;
  int layers = 0, heads = 0, feedforward = 0;
  nlohmann::json to_json() const;
  static LayerSpec from_json(const nlohmann::json& j, const std::string& where);
};

struct ClassifierConfig {
  std::string architecture = "bilstm-attention";
  int vocab_size = 20000;             // including PAD (0) and UNK (1)
  int embedding_dim = 64;
  // Shorthand for a one-layer recurrent encoder, used when `encoder` is empty.
  std::string cell = "lstm";
  bool bidirectional = true;
  int hidden_size = 64;               // per direction
  std::vector<LayerSpec> encoder;     // explicit encoder layers (wins over the shorthand)
  std::string pooling = "attention";  // attention | max | mean | last
  std::vector<int> dense;             // hidden Dense + ReLU layers before the output
  double embedding_dropout = 0.0;     // on embedded tokens, training only
  double dropout = 0.0;               // on the pooled vector, training only
  // 1..3: a linear bag-of-n-grams model (the classical baseline, architecture "ngram"): the
  // vocabulary holds the words and the n-grams (words joined by one space), the embedding
  // (dim 1) gives each feature present its weight shared among its tokens (layers/embedding.hpp),
  // no encoder, sum pooling, no hidden layers: the logit is bias + the weights of the n-grams
  // present, and each token's share of it is exact. 0: the neural models.
  int ngram_order = 0;
  // 1..3: a neural model with an n-gram path (issue 18's "way 2"): beside the network, a linear
  // bag-of-n-grams as above over the same vocabulary, whose logit is added to the network's:
  // logit = network(tokens) + gain · Σ weights of the n-grams present. The vocabulary holds the
  // network's words first, ids 2 .. embedding_words − 1 (the embedding's rows), then the other
  // features (rarer words and n-grams), which the network reads as <unk>. Each token's share of
  // the n-gram logit is exact (ngram_shares()). 0: no n-gram path.
  int ngram_path = 0;
  int embedding_words = 0;  // with an n-gram path: the embedding's rows (< vocab_size); else unused

  // The embedding's rows: every id, or with an n-gram path the network's words only.
  int embedding_rows() const { return ngram_path > 0 ? embedding_words : vocab_size; }
  std::vector<LayerSpec> encoder_layers() const;  // the explicit list, or the shorthand's one layer
  bool has_attention() const { return pooling == "attention"; }
  std::string describe() const;  // one line, e.g. "embedding 64 → BiLSTM 64 → attention pooling → dense 1"
  nlohmann::json to_json() const;
  // Validates every field; errors name the field ("config.encoder[1].kernel_size: ...").
  static ClassifierConfig from_json(const nlohmann::json& j);
};

class Classifier : public Module {
 public:
  explicit Classifier(const ClassifierConfig& config);
  Classifier(const Classifier& other);
  Classifier& operator=(const Classifier& other);

  void init(Rng& rng);
  // tokens → logits [1, batch]. dropout_rng == nullptr means inference (no dropout). perturbation
  // [E, steps*batch], when given, is added to the embedded tokens before their dropout (adversarial
  // training); backward() then updates the table rows looked up as usual.
  const Matrix& forward(const TokenBatch& tokens, Rng* dropout_rng = nullptr, const Matrix* perturbation = nullptr);
  // The same from given embedded tokens [E, steps*batch] (e.g. interpolated ones, for integrated
  // gradients), with no dropout; backward() then gives dL/d(them) in grad_embedded(). With an
  // n-gram path: the network's logits alone (the path reads tokens, not embeddings).
  // Like the attention, ngram_shares() stays the last forward pass's from tokens.
  const Matrix& forward_embedded(const SequenceBatch& embedded);
  // dL/dlogits [1, batch] → parameter gradients (accumulated) and grad_embedded().
  void backward(const Matrix& grad_logits);
  // After a forward pass of one review through an attention-pooling model: the logit had its
  // attention weights been `weights` [steps] (the encoder's outputs kept, only the weights
  // replaced) and, when `grad` is given, dlogit/dweights [steps] (no parameter gradients: this
  // works in an engine without them). What the attention experiments vary.
  double logit_with_attention(const Vector& weights, Vector* grad = nullptr);
  // N-gram models: finds the vocabulary's n-grams (entries of 2..ngram_order words joined by one
  // space, each word itself in the vocabulary; others are never features) for the embedding. Every
  // n-gram model needs this once its vocabulary is known (the loader and prepare_training call
  // it); a no-op for the others.
  void bind_vocabulary(const Vocabulary& vocabulary);
  // The same from the n-grams' word ids (the third 0 for two words), the n-gram at position i being
  // vocabulary row `first_row` + i: what a loader that decoded them has (decode_ngram_list), with no
  // texts to read back. The rows must lie in the vocabulary; a no-op for a model without n-grams.
  void bind_ngrams(const std::vector<std::array<int32_t, 3>>& grams, int32_t first_row);
  // N-gram models and the n-gram path: the distinct feature rows (vocabulary ids of the words and
  // n-grams) in `ids`.
  std::vector<int32_t> ngram_features(const std::vector<int32_t>& ids) {
    return (config_.ngram_path > 0 ? ngram_path_ : embedding_).ngram_features(ids);
  }
  // With an n-gram path, after a forward pass from tokens: each token's exact share of the path's
  // logit [steps, batch] (zero on padding; a sample's column sums to its n-gram logit), else nullptr.
  const Matrix* ngram_shares() const { return config_.ngram_path > 0 ? &ngram_shares_ : nullptr; }
  // α [steps, batch] of the last forward for attention models (zero on padding), else nullptr.
  const Matrix* attention() const { return pooling_->step_weights(); }
  // The Transformer encoder layers' self-attention, when the encoder has one (else nullptr).
  const class TransformerEncoder* transformer() const;
  // The embedded tokens of the last forward and dL/d(them) of the last backward, [E, steps*batch]:
  // what input attributions (gradient × input) are made of.
  const SequenceBatch& embedded() const { return embedded_; }
  const SequenceBatch& grad_embedded() const { return grad_embedded_; }
  std::vector<Parameter*> parameters() override;
  const ClassifierConfig& config() const { return config_; }
  int64_t parameter_count();

 private:
  const Matrix& forward_from_embedded(Rng* dropout_rng);  // embedded_ → logits
  const Matrix& head(Rng* dropout_rng);                    // pooled_ → logits: dropout, hidden layers, output
  void head_backward(const Matrix& grad_logits);           // → grad_pooled_
  ClassifierConfig config_;
  Embedding embedding_;
  Dropout embedding_dropout_;
  std::vector<std::unique_ptr<SequenceLayer>> encoder_;
  std::unique_ptr<Pooling> pooling_;
  Dropout dropout_;
  std::vector<Dense> hidden_;
  Dense output_;
  Embedding ngram_path_;   // with an n-gram path: its table (dim 1, n-gram mode)
  Parameter ngram_gain_;   // and the factor on its sum (naive Bayes weights start shrunk by it)
  // Activations and gradients reused between calls.
  SequenceBatch embedded_, grad_embedded_;
  bool from_tokens_ = true;  // the last forward looked its embeddings up (not forward_embedded)
  bool ngrams_bound_ = false;  // an n-gram model's vocabulary has been bound
  std::vector<SequenceBatch> encoded_;
  SequenceBatch grad_a_, grad_b_;
  Matrix pooled_, grad_pooled_;
  std::vector<Matrix> hidden_out_;
  TokenBatch network_tokens_;         // with an n-gram path: the ids the network reads (its words, else <unk>)
  SequenceBatch ngram_out_;           // the path's table rows' shares [1, steps*batch]
  Matrix ngram_sums_, ngram_shares_;  // the path's per-sample sums [1, batch] (before the gain), shares × gain [steps, batch]
  Matrix logits_;                     // with an n-gram path: the network's logits plus the path's
};

}  // namespace attnlens
