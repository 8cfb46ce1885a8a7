// The sentiment classifier: Embedding → dropout → (Bi)LSTM → attention pooling →
// dropout → Dense → one logit (positive class). Built from a ClassifierConfig, which
// is stored in the model file so the file alone rebuilds the model.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "layers/attention_pooling.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/embedding.hpp"
#include "layers/module.hpp"

namespace attnlens {

struct ClassifierConfig {
  std::string architecture = "bilstm-attention";
  std::string cell = "lstm";          // recurrent cell
  bool bidirectional = true;
  std::string pooling = "attention";  // attention pooling over real steps
  int vocab_size = 20000;             // including PAD (0) and UNK (1)
  int embedding_dim = 64;
  int hidden_size = 64;               // per direction
  double embedding_dropout = 0.0;     // on embedded tokens, training only
  double dropout = 0.0;               // on the pooled vector, training only

  nlohmann::json to_json() const;
  // Validates every field; errors name the field ("config.hidden_size: ...").
  static ClassifierConfig from_json(const nlohmann::json& j);
};

class Classifier : public Module {
 public:
  explicit Classifier(const ClassifierConfig& config);
  Classifier(const Classifier& other);
  Classifier& operator=(const Classifier& other);

  void init(Rng& rng);
  // tokens → logits [1, batch]. dropout_rng == nullptr means inference (no dropout).
  const Matrix& forward(const TokenBatch& tokens, Rng* dropout_rng = nullptr);
  // dL/dlogits [1, batch] → parameter gradients (accumulated) and grad_embedded().
  void backward(const Matrix& grad_logits);
  // α [steps, batch] of the last forward; zero on padding.
  const Matrix& attention() const { return pooling_.weights(); }
  // dL/d(embedded tokens) [embedding_dim, steps*batch] of the last backward.
  const SequenceBatch& grad_embedded() const { return grad_embedded_; }
  std::vector<Parameter*> parameters() override;
  const ClassifierConfig& config() const { return config_; }
  int64_t parameter_count();

 private:
  ClassifierConfig config_;
  Embedding embedding_;
  Dropout embedding_dropout_;
  std::unique_ptr<SequenceLayer> encoder_;
  AttentionPooling pooling_;
  Dropout dropout_;
  Dense output_;
  // Activations and gradients reused between calls.
  SequenceBatch embedded_, encoded_, grad_encoded_, grad_embedded_;
  Matrix pooled_, grad_pooled_;
};

}  // namespace attnlens
