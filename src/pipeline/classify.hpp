// Classifying text with a loaded model file: the whole text (no truncation), each token with its
// byte offsets and its weight in the explanation chosen; the forward pass alone for batches; the
// self-attention a Transformer's tokens receive. What the CLI, the wasm bindings and the tests
// call, so all of them show the same numbers.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "io/model_file.hpp"
#include "text/encoding.hpp"

namespace attnlens {

struct TokenScore {
  std::string text;
  size_t start = 0, end = 0;  // byte offsets into the input
  double weight = 0;          // attention weight α_t, self-attention received, normalised |gradient × input|, or the
                              // token's signed part of the logit (contribution; see explanation)
  bool oov = false;           // mapped to <unk>
};

struct Prediction {
  std::string label;    // "positive" or "negative"
  double probability;   // of positive
  double logit;
  std::string explanation;  // "attention", "self-attention", "gradient×input" or "contribution"
  int attention_layer = -1, attention_head = -1;  // for "self-attention": the layer, and the head (−1: mean over heads)
  std::vector<TokenScore> tokens;
};

// Which per-token weights classify() gives.
struct ExplainOptions {
  enum class Method {
    Auto,            // the attention pooling's weights where the model has one (with an n-gram path beside it:
                     // the contributions, which include the path's evidence), else gradient × input (a
                     // Transformer on a text too long to keep its L × L attention: the self-attention received)
    Attention,       // the attention pooling's weights; a Transformer without one: the self-attention each token receives
    GradientXInput,  // |∂logit/∂embedding · embedding| per token, normalised to sum to 1 (needs a build with gradients)
    Contribution,    // attention pooling: each token's signed part of the predicted class's logit (attention_contributions)
  };
  Method method = Method::Auto;
  int layer = -1;  // Transformer self-attention: the layer (−1: the last)
  int head = -1;   // and the head (−1: the mean over heads)
};

// The label of a logit: "positive" above 0, else "negative" (the rule evaluation counts by).
const char* label_of(double logit);

// A prediction as JSON (the CLI's --json, one object per text): {label, probability, logit,
// explanation, [attention_layer, attention_head,] tokens: [{text, start, end, weight, oov}]},
// offsets in bytes of the UTF-8 text.
nlohmann::json to_json(const Prediction& prediction);

// Throws: attention that an encoder has shortened (max pooling, a valid convolution) weighs fewer
// steps than there are tokens, and cannot be shown per token.
[[noreturn]] void throw_shortened_attention(const std::string& architecture, size_t steps, size_t tokens);

// "auto", "attention", "gradient-x-input", "contribution" → the method; anything else throws, naming the choices.
ExplainOptions::Method explain_method(std::string_view name);

// Token weights: the attention weights α for models with attention pooling; otherwise
// gradient × input saliency, |Σ_d ∂logit/∂x_{t,d} · x_{t,d}| over the embedding, normalised
// to sum to 1; or the contributions, signed (positive: for the predicted class), which Auto
// gives a model with attention pooling and an n-gram path. `explanation` says which.
Prediction classify(ClassifierBundle& bundle, std::string_view text, const ExplainOptions& options = {});

// After a forward pass of one text through a model with attention pooling: each token's part of
// the logit, α_t · ∂logit/∂α_t (its attention weight times what its encoder state h_t adds through
// the head: α_t · w·h_t when the head is one Dense layer w, as in every shipped attention model),
// plus, with an n-gram path, the token's exact share of the path's logit. `rest` receives the logit
// with no token contributing: the head's output for a zero pooled vector (its bias, for one Dense
// layer). With a one-layer head the parts and `rest` add up to the logit exactly; with hidden
// layers α_t · ∂logit/∂α_t is their first-order share. Throws for a model without attention pooling.
std::vector<double> attention_contributions(Classifier& model, double& rest);

// After a forward pass of one text through a Transformer encoder: for each token, the attention it
// receives in `layer` from every query (the mean over queries), for `head` or the mean over heads
// (−1). The weights sum to 1. Throws for a model without a Transformer or a layer/head it lacks.
std::vector<double> received_self_attention(const Classifier& model, int layer, int head);

// The self-attention each token of `text` receives (received_self_attention after a forward pass
// of the whole text). Throws, naming the model, for one without a Transformer encoder.
std::vector<double> self_attention_of(ClassifierBundle& bundle, std::string_view text, int layer, int head);

// The forward pass alone, no explanation: the logit of each text (whole texts, one padded
// batch). What batch scoring and perturbation-based explanations need.
std::vector<double> predict(ClassifierBundle& bundle, const std::vector<std::string>& texts);
// The same for texts already encoded as token ids.
std::vector<double> logits_of(Classifier& model, const std::vector<Example>& examples);

}  // namespace attnlens
