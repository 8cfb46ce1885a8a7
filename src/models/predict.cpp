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
  std::vector<double> weights(tokens.size(), 0.0);
  if (const Matrix* attention = bundle.model->attention()) {
    prediction.explanation = "attention";
    for (size_t t = 0; t < tokens.size(); ++t) weights[t] = (*attention)(static_cast<Eigen::Index>(t), 0);
  } else {
    prediction.explanation = "gradient×input";
    {
      InputGradientsOnly input_gradients_only;
      bundle.model->backward(Matrix::Ones(1, 1));  // ∂logit/∂(embedded tokens)
    }
    const Matrix& x = bundle.model->embedded().values;
    const Matrix& g = bundle.model->grad_embedded().values;
    double total = 0;
    for (size_t t = 0; t < tokens.size(); ++t) {
      weights[t] = std::abs(static_cast<double>(x.col(static_cast<Eigen::Index>(t)).dot(g.col(static_cast<Eigen::Index>(t)))));
      total += weights[t];
    }
    if (total > 0)
      for (double& w : weights) w /= total;
  }
  prediction.tokens.reserve(tokens.size());
  for (size_t t = 0; t < tokens.size(); ++t)
    prediction.tokens.push_back({tokens[t].text, tokens[t].start, tokens[t].end, weights[t], batch.ids[t] == Vocabulary::kUnk});
  return prediction;
}

std::vector<double> score(ClassifierBundle& bundle, const std::vector<std::string>& texts) {
  if (texts.empty()) return {};
  std::vector<Example> examples(texts.size());
  std::vector<size_t> indices(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    examples[i].ids = encode(tokenize(texts[i], bundle.tokenizer), bundle.vocabulary);
    indices[i] = i;
  }
  const Matrix& logits = bundle.model->forward(make_batch(examples, indices));
  std::vector<double> out(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) out[i] = logits(0, static_cast<Eigen::Index>(i));
  return out;
}

}  // namespace attnlens
