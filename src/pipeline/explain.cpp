#include "pipeline/explain.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/loss.hpp"
#include "core/rng.hpp"
#include "layers/transformer.hpp"

namespace attnlens {

namespace {

using Method = ExplainRequest::Method;

struct NamedMethod {
  Method method;
  const char* name;
};
constexpr NamedMethod kMethods[] = {{Method::Attention, "attention"},
                                    {Method::AttentionRollout, "attention-rollout"},
                                    {Method::Gradient, "gradient"},
                                    {Method::GradientXInput, "gradient-x-input"},
                                    {Method::IntegratedGradients, "integrated-gradients"},
                                    {Method::Occlusion, "occlusion"},
                                    {Method::Random, "random"},
                                    {Method::Contribution, "contribution"}};

// ∂F/∂(embedded), F = sign · logit, left in model.grad_embedded().
void gradients_at(Classifier& model, const SequenceBatch& embedded, double sign) {
  model.forward_embedded(embedded);
  InputGradientsOnly input_gradients_only;
  model.backward(Matrix::Constant(1, embedded.batch, static_cast<Scalar>(sign)));
}

// Integrated gradients of F = sign · logit from `baseline` to `input` (both [E, L]), with the
// quadrature's points run in batches of at most 65,536 token columns (and, for a Transformer,
// 2²² attention entries a head). Returns the per-token scores and F at the baseline.
std::vector<double> integrated_gradients(Classifier& model, const Matrix& input, const Matrix& baseline, double sign,
                                         const Quadrature& rule, double& baseline_output) {
  const Eigen::Index E = input.rows(), L = input.cols();
  const size_t points = rule.nodes.size();
  size_t chunk = std::max<size_t>(1, 65536 / static_cast<size_t>(std::max<Eigen::Index>(1, L)));
  if (model.transformer()) chunk = std::min(chunk, std::max<size_t>(1, (size_t{1} << 22) / static_cast<size_t>(L * L)));
  const Eigen::MatrixXd difference = (input - baseline).cast<double>();
  Eigen::MatrixXd average = Eigen::MatrixXd::Zero(E, L);  // Σ_k w_k ∂F/∂e at e′ + α_k (e − e′)
  for (size_t begin = 0; begin < points; begin += chunk) {
    const int B = static_cast<int>(std::min(chunk, points - begin));
    SequenceBatch batch;
    batch.steps = static_cast<int>(L);
    batch.batch = B;
    batch.lengths.assign(static_cast<size_t>(B), static_cast<int>(L));
    batch.values.resize(E, L * B);
    for (Eigen::Index t = 0; t < L; ++t)
      for (int b = 0; b < B; ++b)
        batch.values.col(t * B + b) = baseline.col(t) + static_cast<Scalar>(rule.nodes[begin + b]) * (input.col(t) - baseline.col(t));
    gradients_at(model, batch, sign);
    const Matrix& gradient = model.grad_embedded().values;
    for (Eigen::Index t = 0; t < L; ++t)
      for (int b = 0; b < B; ++b) average.col(t) += rule.weights[begin + b] * gradient.col(t * B + b).cast<double>();
  }
  SequenceBatch at_baseline;
  at_baseline.steps = static_cast<int>(L);
  at_baseline.batch = 1;
  at_baseline.lengths = {static_cast<int>(L)};
  at_baseline.values = baseline;
  baseline_output = sign * model.forward_embedded(at_baseline)(0, 0);
  std::vector<double> scores(static_cast<size_t>(L));
  for (Eigen::Index t = 0; t < L; ++t) scores[static_cast<size_t>(t)] = difference.col(t).dot(average.col(t));
  return scores;
}

// Occlusion: for each window of `window` tokens, F(x) − F(x with the window deleted or set to
// <pad>), all occluded copies scored as batches; a token's score is the mean over the windows
// covering it.
std::vector<double> occlusion(Classifier& model, const std::vector<int32_t>& ids, double sign, int window,
                              ExplainRequest::Occlude occlude) {
  const int L = static_cast<int>(ids.size());
  const int width = std::min(window, L);
  std::vector<Example> copies = {Example{ids, 0}};  // the whole text, scored in the same batches as the copies
  for (int start = 0; start + width <= L; ++start) {
    Example copy;
    copy.ids = ids;
    if (occlude == ExplainRequest::Occlude::Delete) copy.ids.erase(copy.ids.begin() + start, copy.ids.begin() + start + width);
    else std::fill(copy.ids.begin() + start, copy.ids.begin() + start + width, Vocabulary::kPad);
    copies.push_back(std::move(copy));
  }
  const std::vector<double> logits = logits_of(model, copies);
  const double output = sign * logits[0];
  std::vector<double> sum(static_cast<size_t>(L), 0.0);
  std::vector<int> covering(static_cast<size_t>(L), 0);
  for (size_t start = 0; start + 1 < copies.size(); ++start)
    for (int t = static_cast<int>(start); t < static_cast<int>(start) + width; ++t) {
      sum[static_cast<size_t>(t)] += output - sign * logits[start + 1];
      ++covering[static_cast<size_t>(t)];
    }
  for (size_t t = 0; t < sum.size(); ++t) sum[t] /= std::max(1, covering[t]);
  return sum;
}

}  // namespace

ExplainRequest::Method explain_request_method(std::string_view name) {
  for (const NamedMethod& m : kMethods)
    if (name == m.name) return m.method;
  throw Error("unknown explanation method \"" + std::string(name) +
              "\": use attention, attention-rollout, gradient, gradient-x-input, integrated-gradients, occlusion, random or "
              "contribution");
}

const char* method_name(ExplainRequest::Method method) {
  for (const NamedMethod& m : kMethods)
    if (m.method == method) return m.name;
  return "?";
}

Quadrature quadrature(ExplainRequest::Rule rule, int n) {
  check(n >= 1 && n <= 1000, "integrated gradients: steps must be between 1 and 1000, got " + std::to_string(n));
  Quadrature q;
  q.nodes.resize(static_cast<size_t>(n));
  q.weights.resize(static_cast<size_t>(n));
  if (rule == ExplainRequest::Rule::Riemann) {
    for (int k = 0; k < n; ++k) {
      q.nodes[static_cast<size_t>(k)] = (k + 0.5) / n;  // midpoints
      q.weights[static_cast<size_t>(k)] = 1.0 / n;
    }
    return q;
  }
  // Gauss–Legendre: the roots x_i of the Legendre polynomial P_n on [−1, 1], found by Newton's
  // method from cos(π (i + 3/4) / (n + 1/2)), with weights 2 / ((1 − x²) P_n′(x)²); mapped to [0, 1].
  const double pi = std::acos(-1.0);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(pi * (i + 0.75) / (n + 0.5)), derivative = 0;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double p0 = 1, p1 = x;  // P_0, P_1; then the recurrence (k+1) P_{k+1} = (2k+1) x P_k − k P_{k−1}
      for (int k = 1; k < n; ++k) {
        const double p2 = ((2.0 * k + 1) * x * p1 - k * p0) / (k + 1);
        p0 = p1;
        p1 = p2;
      }
      derivative = n * (x * p1 - p0) / (x * x - 1);
      const double step = p1 / derivative;
      x -= step;
      if (std::abs(step) < 1e-15) break;
    }
    const double weight = 2 / ((1 - x * x) * derivative * derivative);
    q.nodes[static_cast<size_t>(i)] = (1 - x) / 2;  // x is descending from near 1: ascending nodes
    q.nodes[static_cast<size_t>(n - 1 - i)] = (1 + x) / 2;
    q.weights[static_cast<size_t>(i)] = q.weights[static_cast<size_t>(n - 1 - i)] = weight / 2;
  }
  return q;
}

Explanation explain(ClassifierBundle& bundle, std::string_view text, const ExplainRequest& request) {
  Classifier& model = *bundle.model;
  const bool gradients = request.method == Method::Gradient || request.method == Method::GradientXInput ||
                         request.method == Method::IntegratedGradients;
  if (!kHasGradients && gradients)
    throw Error(std::string("explain: ") + method_name(request.method) +
                " needs gradients, and this build of attnlens has none: use the full engine (web/dist/attnlens-train.js)");
  check(request.window == 1 || request.window == 3, "explain: the occlusion window must be 1 or 3 tokens");
  const Quadrature rule = request.method == Method::IntegratedGradients ? quadrature(request.rule, request.steps) : Quadrature{};

  Explanation result;
  result.method = method_name(request.method);
  if (request.method == Method::Attention) {
    const Prediction p = classify(bundle, text, {ExplainOptions::Method::Attention, request.layer, request.head});
    result.label = p.label;
    result.probability = p.probability;
    result.logit = p.logit;
    result.tokens = p.tokens;
    result.aggregation = p.explanation == "attention"
                             ? "the attention pooling's weight α_t (the weights sum to 1)"
                             : "the self-attention token t receives, layer " + std::to_string(p.attention_layer + 1) +
                                   (p.attention_head < 0 ? ", mean over heads" : ", head " + std::to_string(p.attention_head + 1)) +
                                   ", mean over queries (the weights sum to 1)";
    return result;
  }

  if (request.method == Method::AttentionRollout && !model.transformer())
    throw Error("explain: attention rollout needs a Transformer, and the " + model.config().architecture + " model has none");
  if (request.method == Method::Contribution && !model.config().has_attention())
    throw Error("explain: contribution needs attention pooling, and the " + model.config().architecture + " model has none");
  const std::vector<Token> tokens = tokenize(text, bundle.tokenizer);
  const std::vector<int32_t> ids = encode(tokens, bundle.vocabulary);
  const int L = static_cast<int>(ids.size());
  const TokenBatch batch = single_batch(ids);
  {
    // Only the gradient methods go backward from this pass and only rollout reads its attention
    // matrices: the others run it forward-only (a Transformer's memory linear in L).
    std::optional<ForwardOnly> forward_only;
    if (request.method != Method::Gradient && request.method != Method::GradientXInput &&
        request.method != Method::AttentionRollout)
      forward_only.emplace();
    result.logit = model.forward(batch)(0, 0);
  }
  // With an n-gram path: each token's exact share of the path's logit, for the signed gradient
  // methods. The path is linear in the presence of its features, so the gradient × input and the
  // integrated gradients (from no features) of a feature are its weight, shared as the shares are.
  const Matrix* path_shares = model.ngram_shares();
  const std::vector<double> ngram_shares = path_shares != nullptr && L > 0
      ? std::vector<double>(path_shares->data(), path_shares->data() + L) : std::vector<double>();
  if (L > 0 && request.method == Method::AttentionRollout) {
    const std::vector<double> rollout = attention_rollout(model);
    result.tokens.reserve(tokens.size());
    for (size_t t = 0; t < tokens.size(); ++t)
      result.tokens.push_back({tokens[t].text, tokens[t].start, tokens[t].end, rollout[t], ids[t] == Vocabulary::kUnk});
  }
  result.probability = sigmoid(result.logit);
  result.label = label_of(result.logit);
  const double sign = result.logit > 0 ? 1.0 : -1.0;  // F = the predicted class's logit
  const double output = sign * result.logit;
  std::vector<double> scores(static_cast<size_t>(L), 0.0);

  if constexpr (!kHasGradients) {
    // No gradient method reaches here (checked above): the engine without gradients leaves them out.
  } else if (L > 0 && (request.method == Method::Gradient || request.method == Method::GradientXInput)) {
    const Matrix embedded = model.embedded().values;
    {
      InputGradientsOnly input_gradients_only;
      model.backward(Matrix::Constant(1, 1, static_cast<Scalar>(sign)));
    }
    const Matrix& gradient = model.grad_embedded().values;
    for (int t = 0; t < L; ++t)
      scores[static_cast<size_t>(t)] = request.method == Method::Gradient
                                           ? static_cast<double>(gradient.col(t).norm())
                                           : static_cast<double>(gradient.col(t).dot(embedded.col(t)));
    if (request.method == Method::GradientXInput)
      for (size_t t = 0; t < ngram_shares.size(); ++t) scores[t] += sign * ngram_shares[t];
  } else if (request.method == Method::IntegratedGradients) {
    double baseline_output = 0;
    if (L > 0) {
      const Matrix input = model.embedded().values;
      Matrix baseline = Matrix::Zero(input.rows(), L);
      if (request.baseline == ExplainRequest::Baseline::Pad) {  // what the model's embedding gives L <pad> tokens
        TokenBatch pads = batch;
        std::fill(pads.ids.begin(), pads.ids.end(), Vocabulary::kPad);
        model.forward(pads);
        baseline = model.embedded().values;
      }
      scores = integrated_gradients(model, input, baseline, sign, rule, baseline_output);
      for (size_t t = 0; t < ngram_shares.size(); ++t) scores[t] += sign * ngram_shares[t];
    } else {
      baseline_output = output;  // nothing to attribute: F(x′) = F(x)
    }
    double total = 0;
    for (double s : scores) total += s;
    result.output = output;
    result.baseline_output = baseline_output;
    result.completeness_gap = std::abs(total - (output - baseline_output));
  }
  if (request.method == Method::Contribution) {
    double rest = result.logit;  // no token: the logit is the head's own
    if (L > 0) {
      const std::vector<double> parts = attention_contributions(model, rest);
      if (parts.size() != scores.size()) throw_shortened_attention(model.config().architecture, parts.size(), scores.size());
      for (size_t t = 0; t < parts.size(); ++t) scores[t] = sign * parts[t];
    }
    double total = 0;
    for (double s : scores) total += s;
    result.output = output;
    result.baseline_output = sign * rest;
    result.completeness_gap = std::abs(total - (output - sign * rest));
  }
  if (L > 0 && request.method == Method::Occlusion) {
    check(L <= kMaxPerturbedTokens, "explain: occlusion scores one copy of the text per token: at most " +
                                        std::to_string(kMaxPerturbedTokens) + " tokens, this text has " + std::to_string(L));
    scores = occlusion(model, ids, sign, request.window, request.occlude);
  } else if (request.method == Method::Random) {
    Rng rng(request.seed);
    for (double& s : scores) s = rng.uniform();
  }

  const std::string towards = "the predicted class's logit (the logit, or its negation for a negative prediction)";
  const std::string plus_path =
      path_shares != nullptr ? ", plus the token's exact share of the n-gram path's part of F (the path is linear in its features)" : "";
  switch (request.method) {
    case Method::Gradient:
      result.aggregation = "‖∂F/∂e_t‖₂, the L2 norm over the embedding of the gradient; F is " + towards +
                           (path_shares != nullptr ? " (the n-gram path has no embedding: it is not in this score)" : "");
      break;
    case Method::GradientXInput:
      result.aggregation = "Σ_d ∂F/∂e_{t,d} · e_{t,d}, signed, summed over the embedding" + plus_path + "; F is " + towards;
      break;
    case Method::IntegratedGradients:
      result.aggregation = "Σ_d (e − e′)_{t,d} · ∫₀¹ ∂F/∂e_{t,d} dα, signed, summed over the embedding, " +
                           std::to_string(request.steps) + " " +
                           (request.rule == ExplainRequest::Rule::GaussLegendre ? "Gauss–Legendre" : "midpoint Riemann") +
                           " points, baseline " +
                           (request.baseline == ExplainRequest::Baseline::Zero ? "zero embeddings"
                                                                               : "the embeddings of <pad> tokens (zero vectors: the embedding gives <pad> none)") +
                           (path_shares != nullptr ? " and no n-gram features" : "") + plus_path + "; F is " + towards;
      break;
    case Method::Occlusion:
      result.aggregation = std::string("F(x) − F(x with ") + (request.window == 1 ? "the token" : "a 3-token window") +
                           (request.occlude == ExplainRequest::Occlude::Delete ? " deleted" : " replaced by <pad>") + ")" +
                           (request.window == 1 ? "" : ", mean over the windows covering the token") + "; F is " + towards;
      break;
    case Method::Random: result.aggregation = "uniform in [0, 1), seed " + std::to_string(request.seed); break;
    case Method::Contribution:
      result.aggregation = "α_t · ∂F/∂α_t, signed: the token's attention weight times what its encoder state adds to F "
                           "through the head (α_t · w·h_t for a one-layer head, whose scores add up to F less its bias)" +
                           plus_path + "; F is " + towards;
      break;
    case Method::AttentionRollout:
      result.aggregation = "attention rolled out across the " + std::to_string(model.transformer()->layers()) +
                           " layers: Ã_1 ⋯ Ã_n · p, Ã_l = ½ (layer l's attention, mean over heads) + ½ I for the "
                           "residual (Abnar & Zuidema 2020), p the pooling's weights (" +
                           (model.attention() != nullptr ? std::string("attention pooling's α") : std::string("1/L each, the mean")) +
                           "); the weights sum to 1";
      return result;
    case Method::Attention: break;
  }
  result.tokens.reserve(tokens.size());
  for (size_t t = 0; t < tokens.size(); ++t)
    result.tokens.push_back({tokens[t].text, tokens[t].start, tokens[t].end, scores[t], ids[t] == Vocabulary::kUnk});
  return result;
}

std::vector<double> attention_rollout(const Classifier& model) {
  const TransformerEncoder* encoder = model.transformer();
  check(encoder != nullptr, "attention rollout: the " + model.config().architecture + " model has no Transformer encoder");
  // From the output back to layer l's input: Ã_l ⋯ Ã_n · p, where p is how the pooling reads the
  // last layer's tokens: attention pooling's weights α, or 1/L each (the mean; also used for the
  // max and the last token, which have no weights of their own).
  Eigen::VectorXd flow;
  for (int l = encoder->layers() - 1; l >= 0; --l) {
    const MultiHeadSelfAttention& attention = encoder->self_attention(l);
    const Eigen::Index L = attention.attention(0, 0).rows();  // [keys, queries]; columns sum to 1
    if (flow.size() == 0 && model.attention() != nullptr) flow = model.attention()->col(0).head(L).cast<double>();
    if (flow.size() == 0) flow = Eigen::VectorXd::Constant(L, 1.0 / static_cast<double>(L));
    Eigen::VectorXd mixed = Eigen::VectorXd::Zero(L);
    for (int h = 0; h < attention.heads(); ++h) mixed += attention.attention(0, h).cast<double>() * flow;
    flow = 0.5 * mixed / attention.heads() + 0.5 * flow;
  }
  return std::vector<double>(flow.data(), flow.data() + flow.size());
}

nlohmann::json to_json(const Explanation& e) {
  nlohmann::json tokens = nlohmann::json::array();
  for (const TokenScore& t : e.tokens)
    tokens.push_back({{"text", t.text}, {"start", t.start}, {"end", t.end}, {"score", t.weight}, {"oov", t.oov}});
  nlohmann::json out = {{"label", e.label},   {"probability", e.probability}, {"logit", e.logit},
                        {"method", e.method}, {"aggregation", e.aggregation}, {"tokens", std::move(tokens)}};
  if (e.completeness_gap) {
    out["output"] = *e.output;
    out["baseline_output"] = *e.baseline_output;
    out["completeness_gap"] = *e.completeness_gap;
  }
  return out;
}

}  // namespace attnlens
