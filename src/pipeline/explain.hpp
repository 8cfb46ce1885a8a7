// Explanations beyond attention, for every classifier architecture: which tokens a prediction
// rests on, by attention, gradients, integrated gradients, occlusion, or (as a baseline) chance.
//
// Gradient methods attribute F, the logit of the predicted class: the logit when the prediction
// is positive, its negation when negative. So a positive score is evidence for the prediction
// and a negative one evidence against it, whatever the label. Occlusion scores the drop in F
// when tokens are taken away, on the same scale. Each result says how its scores are made
// (`aggregation`).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/model_file.hpp"
#include "pipeline/classify.hpp"

namespace attnlens {

struct ExplainRequest {
  enum class Method {
    Attention,            // the attention pooling's α; a Transformer: the self-attention each token receives
    AttentionRollout,     // a Transformer: attention rolled out across the layers (Abnar & Zuidema 2020)
    Gradient,             // ‖∂F/∂e_t‖₂ (unsigned)
    GradientXInput,       // Σ_d ∂F/∂e_{t,d} · e_{t,d} (signed)
    IntegratedGradients,  // Σ_d (e − e′)_{t,d} · ∫₀¹ ∂F/∂e_{t,d}(e′ + α(e − e′)) dα (signed; Sundararajan et al. 2017)
    Occlusion,            // F(x) − F(x without the window), averaged over the windows covering t (signed)
    Random,               // seeded uniform [0, 1): the baseline every method must beat
    Contribution,         // attention pooling: sign · (α_t · ∂logit/∂α_t + the n-gram path's share) (signed; see
                          // attention_contributions: exact for a one-Dense head, the scores then add up to F − F(no token))
  };
  enum class Baseline { Zero, Pad };          // integrated gradients' e′: zero vectors, or what the embedding gives <pad> (zero too, today)
  enum class Rule { GaussLegendre, Riemann };  // integrated gradients' quadrature (Riemann: midpoints)
  enum class Occlude { Delete, Pad };          // occlusion: remove the tokens, or replace them by <pad>

  Method method = Method::Attention;
  int steps = 50;  // integrated gradients: quadrature points
  Baseline baseline = Baseline::Zero;
  Rule rule = Rule::GaussLegendre;
  int window = 1;  // occlusion: tokens taken away at once (1 or 3)
  Occlude occlude = Occlude::Delete;
  uint64_t seed = 1;  // random
  int layer = -1, head = -1;  // attention on a Transformer (−1: the last layer; the mean over heads)
};

struct Explanation {
  std::string label;         // "positive" or "negative"
  double probability = 0;    // of positive
  double logit = 0;
  std::string method;        // "attention", "attention-rollout", "gradient", "gradient-x-input", "integrated-gradients", "occlusion",
                             // "random", "contribution"
  std::string aggregation;   // how a token's score is made, in words
  std::vector<TokenScore> tokens;  // weight: the token's score
  // Integrated gradients: F(x), F(x′) and the completeness gap |Σ_t score_t − (F(x) − F(x′))|,
  // which the quadrature error and nothing else makes non-zero. Contribution: the same with F(x′)
  // the head's output for no token (zero but for rounding with a one-Dense head).
  std::optional<double> output, baseline_output, completeness_gap;
};

// "attention", "attention-rollout", "gradient", "gradient-x-input", "integrated-gradients",
// "occlusion", "random", "contribution".
ExplainRequest::Method explain_request_method(std::string_view name);
const char* method_name(ExplainRequest::Method method);

// Occlusion and the faithfulness metrics score a copy of the text per token (memory and time
// grow with the square of its length): longer texts are refused with a clear error.
constexpr int kMaxPerturbedTokens = 4000;

// Throws for a method the build or the model cannot do (gradients in an engine without them,
// attention in a model without any) and for steps outside 1…1000 or a window other than 1 or 3.
Explanation explain(ClassifierBundle& bundle, std::string_view text, const ExplainRequest& request);

// Attention rollout (Abnar & Zuidema 2020) of the Transformer's last forward pass, batch entry 0:
// with Ã_l = ½ (mean over heads of layer l's attention) + ½ I for the residual connection, how
// much of the pooled output flows from each input token, Ã_1 Ã_2 … Ã_n · p, with p the pooling's
// weights: α for attention pooling, else 1/L each (the weights sum to 1). Computed as
// matrix–vector products, O(layers · L²).
std::vector<double> attention_rollout(const Classifier& model);

// {label, probability, logit, method, aggregation, tokens: [{text, start, end, score, oov}],
// [output, baseline_output, completeness_gap]}; offsets in bytes.
nlohmann::json to_json(const Explanation& explanation);

// Nodes and weights of an n-point rule on [0, 1] (weights sum to 1).
struct Quadrature {
  std::vector<double> nodes, weights;
};
Quadrature quadrature(ExplainRequest::Rule rule, int n);

}  // namespace attnlens
