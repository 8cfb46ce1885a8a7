#include "models/predict.hpp"

#include <algorithm>

#include "layers/loss.hpp"
#include "train/dataset.hpp"

namespace attnlens {

Prediction classify(ClassifierBundle& bundle, std::string_view text) {
  if (!kHasGradients && !bundle.model->config().has_attention())
    throw Error("classify: the " + bundle.model->config().architecture +
                " model explains by gradient × input, and this build of attnlens has no gradients: use the full engine "
                "(web/dist/attnlens-train.js), or predict() for the label alone");
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
  std::vector<Example> examples(texts.size());
  std::vector<size_t> order(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    examples[i].ids = encode(tokenize(texts[i], bundle.tokenizer), bundle.vocabulary);
    order[i] = i;
  }
  // Batches of similar length, bounded so memory stays small however many texts come: at most
  // 65,536 token columns, and for a Transformer (one L × L attention matrix per text and head)
  // at most 2²² attention entries per head.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return examples[a].ids.size() < examples[b].ids.size(); });
  const bool quadratic = bundle.model->transformer() != nullptr;
  std::vector<double> out(texts.size());
  for (size_t begin = 0; begin < order.size();) {
    std::vector<size_t> batch;
    for (size_t end = begin; end < order.size(); ++end) {
      const size_t longest = std::max<size_t>(1, examples[order[end]].ids.size()), count = batch.size() + 1;
      if (!batch.empty() && (count * longest > 65536 || (quadratic && count * longest * longest > (size_t{1} << 22)))) break;
      batch.push_back(order[end]);
    }
    const Matrix& logits = bundle.model->forward(make_batch(examples, batch));
    for (size_t i = 0; i < batch.size(); ++i) out[batch[i]] = logits(0, static_cast<Eigen::Index>(i));
    begin += batch.size();
  }
  return out;
}

}  // namespace attnlens
