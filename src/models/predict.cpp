#include "models/predict.hpp"

#include "layers/loss.hpp"
#include "train/dataset.hpp"

namespace attnlens {

Prediction classify(ClassifierBundle& bundle, std::string_view text) {
  const std::vector<Token> tokens = tokenize(text, bundle.tokenizer);
  TokenBatch batch;
  batch.batch = 1;
  batch.steps = static_cast<int>(tokens.size());
  batch.lengths = {batch.steps};
  batch.ids = encode(tokens, bundle.vocabulary);
  const Matrix& logits = bundle.model->forward(batch);
  Prediction prediction;
  prediction.logit = logits(0, 0);
  prediction.probability = sigmoid(prediction.logit);
  prediction.label = prediction.logit > 0 ? "positive" : "negative";  // same rule as evaluation
  const Matrix& attention = bundle.model->attention();
  prediction.tokens.reserve(tokens.size());
  for (size_t t = 0; t < tokens.size(); ++t)
    prediction.tokens.push_back({tokens[t].text, tokens[t].start, tokens[t].end, attention(static_cast<Eigen::Index>(t), 0),
                                 batch.ids[t] == Vocabulary::kUnk});
  return prediction;
}

}  // namespace attnlens
