#include "pipeline/classify.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "core/loss.hpp"
#include "layers/transformer.hpp"
#include "text/encoding.hpp"

namespace attnlens {

const char* label_of(double logit) { return logit > 0 ? "positive" : "negative"; }

nlohmann::json to_json(const Prediction& prediction) {
  nlohmann::json tokens = nlohmann::json::array();
  for (const TokenScore& t : prediction.tokens)
    tokens.push_back({{"text", t.text}, {"start", t.start}, {"end", t.end}, {"weight", t.weight}, {"oov", t.oov}});
  nlohmann::json out = {{"label", prediction.label}, {"probability", prediction.probability}, {"logit", prediction.logit},
                        {"explanation", prediction.explanation}};
  if (prediction.explanation == "self-attention") {
    out["attention_layer"] = prediction.attention_layer;
    out["attention_head"] = prediction.attention_head;
  }
  out["tokens"] = std::move(tokens);
  return out;
}

ExplainOptions::Method explain_method(std::string_view name) {
  if (name == "auto") return ExplainOptions::Method::Auto;
  if (name == "attention") return ExplainOptions::Method::Attention;
  if (name == "gradient-x-input") return ExplainOptions::Method::GradientXInput;
  if (name == "contribution") return ExplainOptions::Method::Contribution;
  throw Error("unknown explanation \"" + std::string(name) + "\": use auto, attention, gradient-x-input or contribution");
}

void throw_shortened_attention(const std::string& architecture, size_t steps, size_t tokens) {
  char message[160];
  std::snprintf(message, sizeof message,
                " model's attention weighs %zu steps for %zu tokens (its encoder shortens the sequence), so it cannot be shown "
                "per token", steps, tokens);
  throw Error("the " + architecture + message);
}

namespace {

// The self-attention of `layer`, after checking that the model has it and a head `head` (−1: all).
const MultiHeadSelfAttention& attention_of(const Classifier& model, int layer, int head) {
  const TransformerEncoder* encoder = model.transformer();
  if (!encoder) throw Error("self-attention: the " + model.config().architecture + " model has no Transformer encoder");
  if (layer < 0 || layer >= encoder->layers()) throw Error("self-attention: layer " + std::to_string(layer) + " does not exist");
  const MultiHeadSelfAttention& attention = encoder->self_attention(layer);
  if (head < -1 || head >= attention.heads()) throw Error("self-attention: head " + std::to_string(head) + " does not exist");
  return attention;
}

}  // namespace

std::vector<double> received_self_attention(const Classifier& model, int layer, int head) {
  const MultiHeadSelfAttention& attention = attention_of(model, layer, head);
  const int heads = attention.heads();
  std::vector<double> received;
  for (int h = head < 0 ? 0 : head; h < (head < 0 ? heads : head + 1); ++h) {
    const auto by_head = attention.received(0, h);  // the mean over the queries; the text is sample 0, all its rows
    if (received.empty()) received.assign(static_cast<size_t>(by_head.size()), 0.0);
    for (size_t k = 0; k < received.size(); ++k) received[k] += static_cast<double>(by_head(static_cast<Eigen::Index>(k)));
  }
  const double count = head < 0 ? heads : 1;
  for (double& w : received) w /= count;
  return received;
}

std::vector<double> attention_contributions(Classifier& model, double& rest) {
  const Matrix* attention = model.attention();
  if (!attention) throw Error("contribution: the " + model.config().architecture + " model has no attention pooling");
  const Vector alpha = attention->col(0);
  const Eigen::Index L = alpha.size();
  Vector grad;
  model.logit_with_attention(alpha, &grad);  // dlogit/dα_t = ∂head/∂c · h_t
  const Matrix* path = model.ngram_shares();
  std::vector<double> parts(static_cast<size_t>(L));
  double path_logit = 0;
  for (Eigen::Index t = 0; t < L; ++t) {
    const double share = path ? static_cast<double>((*path)(t, 0)) : 0.0;
    parts[static_cast<size_t>(t)] = static_cast<double>(alpha(t)) * static_cast<double>(grad(t)) + share;
    path_logit += share;
  }
  rest = model.logit_with_attention(Vector::Zero(L)) - path_logit;  // the head at c = 0, without the path
  return parts;
}

Prediction classify(ClassifierBundle& bundle, std::string_view text, const ExplainOptions& options) {
  using Method = ExplainOptions::Method;
  const ClassifierConfig& config = bundle.model->config();
  const bool pooled_attention = config.has_attention();
  const bool contribution = options.method == Method::Contribution ||
                            (options.method == Method::Auto && pooled_attention && config.ngram_path > 0);
  if (contribution && !pooled_attention)
    throw Error("classify: the " + config.architecture + " model has no attention pooling to take contributions from: use "
                "gradient-x-input or auto");
  bool self_attention = options.method == Method::Attention && !pooled_attention;
  if (self_attention && !bundle.model->transformer())
    throw Error("classify: the " + config.architecture + " model has no attention to show: use gradient-x-input or auto");
  bool gradients = options.method == Method::GradientXInput || (options.method == Method::Auto && !pooled_attention);
  if (!kHasGradients && gradients)
    throw Error("classify: the " + config.architecture +
                " model explains by gradient × input, and this build of attnlens has no gradients: use the full engine "
                "(web/dist/attnlens-train.js), or predict() for the label alone");
  const std::vector<Token> tokens = tokenize(text, bundle.tokenizer);
  const TokenBatch batch = single_batch(encode(tokens, bundle.vocabulary));
  // Auto on a Transformer: gradient × input keeps every head's L × L attention, and a text too
  // long for that is explained by the self-attention each token receives (memory linear in L).
  if (const TransformerEncoder* encoder = bundle.model->transformer();
      options.method == Method::Auto && gradients && encoder &&
      tokens.size() > static_cast<size_t>(encoder->self_attention(0).longest_kept_text())) {
    gradients = false;
    self_attention = true;
  }
  // Without gradients nothing goes backward: a Transformer keeps only the attention each token
  // receives, in memory linear in the length.
  std::optional<ForwardOnly> forward_only;
  if (!gradients) forward_only.emplace();
  const Matrix& logits = bundle.model->forward(batch);
  Prediction prediction;
  prediction.logit = logits(0, 0);
  prediction.probability = sigmoid(prediction.logit);
  prediction.label = label_of(prediction.logit);
  std::vector<double> weights(tokens.size(), 0.0);
  if (self_attention) {
    prediction.explanation = "self-attention";
    prediction.attention_layer = options.layer < 0 ? bundle.model->transformer()->layers() - 1 : options.layer;
    prediction.attention_head = options.head;
    if (!tokens.empty()) weights = received_self_attention(*bundle.model, prediction.attention_layer, options.head);
  }
  // An encoder that shortens the sequence (max pooling, a valid convolution) leaves the attention
  // fewer steps than there are tokens: it cannot be shown per token.
  const size_t steps = self_attention ? weights.size()
                       : gradients    ? tokens.size()
                                      : static_cast<size_t>(bundle.model->attention()->rows());
  if (steps != tokens.size()) {
    if (options.method != Method::Auto || !kHasGradients) throw_shortened_attention(config.architecture, steps, tokens.size());
    gradients = true;
  }
  if (self_attention) {
    // the weights are in place
  } else if (contribution && !gradients) {
    prediction.explanation = "contribution";
    double rest = 0;
    if (!tokens.empty()) weights = attention_contributions(*bundle.model, rest);
    const double sign = prediction.logit > 0 ? 1.0 : -1.0;  // towards the predicted class, as explain()'s scores
    for (double& w : weights) w *= sign;
  } else if (!gradients) {
    prediction.explanation = "attention";
    const Matrix* attention = bundle.model->attention();
    for (size_t t = 0; t < tokens.size(); ++t) weights[t] = (*attention)(static_cast<Eigen::Index>(t), 0);
  } else {
    prediction.explanation = "gradient×input";
    if (forward_only) {  // the attention could not be shown: again, keeping what backward needs
      forward_only.reset();
      bundle.model->forward(batch);
    }
    {
      InputGradientsOnly input_gradients_only;
      bundle.model->backward(Matrix::Ones(1, 1));  // ∂logit/∂(embedded tokens)
    }
    const Matrix& x = bundle.model->embedded().values;
    const Matrix& g = bundle.model->grad_embedded().values;
    const Matrix* path = bundle.model->ngram_shares();  // an n-gram path's exact shares join the network's part
    double total = 0;
    for (size_t t = 0; t < tokens.size(); ++t) {
      const auto column = static_cast<Eigen::Index>(t);
      weights[t] = std::abs(static_cast<double>(x.col(column).dot(g.col(column))) + (path ? (*path)(column, 0) : 0.0));
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

std::vector<double> self_attention_of(ClassifierBundle& bundle, std::string_view text, int layer, int head) {
  attention_of(*bundle.model, layer, head);
  const std::string utf8(text);
  // A text without tokens has nothing to receive attention (and the layers still hold the last text's).
  if (tokenize(utf8, bundle.tokenizer).empty()) return {};
  predict(bundle, {utf8});  // the forward pass keeps each head's attention
  return received_self_attention(*bundle.model, layer, head);
}

std::vector<double> predict(ClassifierBundle& bundle, const std::vector<std::string>& texts) {
  std::vector<Example> examples(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) examples[i].ids = encode(tokenize(texts[i], bundle.tokenizer), bundle.vocabulary);
  return logits_of(*bundle.model, examples);
}

std::vector<double> logits_of(Classifier& model, const std::vector<Example>& examples) {
  std::vector<size_t> order(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) order[i] = i;
  // Batches of similar length, bounded so memory stays small however many texts come: at most
  // 65,536 token columns, and for a Transformer (whose self-attention work grows as L² per text)
  // at most 2²² query–key pairs per head. Under ForwardOnly its attention takes memory linear in
  // the length, a block of queries at a time.
  // (By length, then position: what a stable sort gives, with std::sort's smaller code.)
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const size_t la = examples[a].ids.size(), lb = examples[b].ids.size();
    return la < lb || (la == lb && a < b);
  });
  ForwardOnly forward_only;  // scores only: nothing goes backward
  const bool quadratic = model.transformer() != nullptr;
  std::vector<double> out(examples.size());
  for (size_t begin = 0; begin < order.size();) {
    std::vector<size_t> batch;
    for (size_t end = begin; end < order.size(); ++end) {
      const size_t longest = std::max<size_t>(1, examples[order[end]].ids.size()), count = batch.size() + 1;
      if (!batch.empty() && (count * longest > 65536 || (quadratic && count * longest * longest > (size_t{1} << 22)))) break;
      batch.push_back(order[end]);
    }
    const Matrix& logits = model.forward(make_batch(examples, batch));
    for (size_t i = 0; i < batch.size(); ++i) out[batch[i]] = logits(0, static_cast<Eigen::Index>(i));
    begin += batch.size();
  }
  return out;
}

}  // namespace attnlens
