// Explanations beyond attention as the JS API gives them (pipeline/explain.hpp,
// faithfulness.hpp, attention_experiments.hpp), for the classifier modules' Model:
//
//   model.explain(text, {method, steps, baseline, rule, window, occlude, seed, layer, head})
//     → {label, probability, logit, method, aggregation, tokens: [{text, start, end, score, oov}],
//        output, baselineOutput, completenessGap (integrated gradients, contribution)}
//   model.faithfulness(text, {methods: ['attention', 'occlusion', …], removal: 'delete' | 'pad', seed,
//                             steps, baseline, rule, window, layer, head})
//     (methods default to the model's attention, or gradient-x-input for a model without any; the
//     other options are explain()'s, for every method; leave-one-out and the random baseline are
//     computed once for all the methods, leave-one-out from occlusion's scores when it is asked for
//     with a 1-token window)
//     → {probability (of the predicted class, the p the metrics are differences of), methods: {<method>: {comprehensiveness: {1, 5, 10, 20, 50}, sufficiency: {…},
//        aopcComprehensiveness, aopcSufficiency, decisionFlipTop1, decisionFlipFraction,
//        kendallTauLoo, deletionCurve: [[fraction, p], …], explanation: what explain() gives}},
//        random: {aopcComprehensiveness, aopcSufficiency}}
//   model.attentionExperiments(text, {permutations, seed, tolerance})
//     → {attention, probability, permuted: {medianAbsChange, maxAbsChange}, uniform: {absChange},
//        adversarial: {attention, jsd, absChange}}
//
// Option names and values are those of `attnlens explain` (method names with dashes). Built
// field by field, as classifier_js.hpp, so the small engine carries no JSON writer.
#pragma once
#include "pipeline/attention_experiments.hpp"
#include "pipeline/explain.hpp"
#include "pipeline/faithfulness.hpp"
#include "wasm/classifier_js.hpp"
#include "wasm/common.hpp"

namespace attnlens::wasm {

namespace detail {

inline bool has(const val& options, const char* key) {
  return !options.isUndefined() && !options.isNull() && !options[key].isUndefined();
}
inline void check_options(const val& options, const char* who) {
  if (!options.isUndefined() && !options.isNull() && options.typeOf().as<std::string>() != "object")
    throw Error(std::string(who) + ": options must be an object");
}
inline int whole_number(const val& options, const char* key, const char* who) {
  const val value = options[key];
  const double x = value.isNumber() ? value.as<double>() : NAN;
  if (!(x == std::floor(x) && std::abs(x) <= 2147483647.0))  // NaN and ±Infinity fail too
    throw Error(std::string(who) + ": " + key + " must be a whole number");
  return static_cast<int>(x);
}
// A seed: a whole number from 0 to 2⁵³ (what a JS number holds exactly), as the CLI's --seed.
inline uint64_t seed_of(const val& options, const char* who) {
  const val value = options["seed"];
  const double x = value.isNumber() ? value.as<double>() : NAN;
  if (!(x == std::floor(x) && x >= 0 && x <= 9007199254740992.0))
    throw Error(std::string(who) + ": seed must be a whole number from 0 to 2^53");
  return static_cast<uint64_t>(x);
}
inline std::string choice(const val& options, const char* key, const char* who) {
  if (!options[key].isString()) throw Error(std::string(who) + ": " + key + " must be a string");
  return options[key].as<std::string>();
}
inline val numbers(const std::vector<double>& values) {
  val out = val::array();
  for (size_t i = 0; i < values.size(); ++i) out.set(i, values[i]);
  return out;
}
inline val optional_value(const std::optional<double>& value) { return value ? val(*value) : val::null(); }

}  // namespace detail

inline ExplainRequest explain_request_of(const val& options) {
  using namespace detail;
  check_options(options, "explain");
  ExplainRequest request;
  if (has(options, "method")) request.method = explain_request_method(choice(options, "method", "explain"));
  if (has(options, "steps")) request.steps = whole_number(options, "steps", "explain");
  if (has(options, "baseline")) {
    const std::string b = choice(options, "baseline", "explain");
    if (b != "zero" && b != "pad") throw Error("explain: baseline must be 'zero' or 'pad'");
    request.baseline = b == "pad" ? ExplainRequest::Baseline::Pad : ExplainRequest::Baseline::Zero;
  }
  if (has(options, "rule")) {
    const std::string r = choice(options, "rule", "explain");
    if (r != "gauss-legendre" && r != "riemann") throw Error("explain: rule must be 'gauss-legendre' or 'riemann'");
    request.rule = r == "riemann" ? ExplainRequest::Rule::Riemann : ExplainRequest::Rule::GaussLegendre;
  }
  if (has(options, "window")) request.window = whole_number(options, "window", "explain");
  if (has(options, "occlude")) {
    const std::string o = choice(options, "occlude", "explain");
    if (o != "delete" && o != "pad") throw Error("explain: occlude must be 'delete' or 'pad'");
    request.occlude = o == "pad" ? ExplainRequest::Occlude::Pad : ExplainRequest::Occlude::Delete;
  }
  if (has(options, "seed")) request.seed = seed_of(options, "explain");
  if (has(options, "layer")) request.layer = whole_number(options, "layer", "explain");
  if (has(options, "head")) request.head = whole_number(options, "head", "explain");
  return request;
}

inline val explanation_to_js(const Explanation& e, const std::string& utf8) {
  const val tokens = scored_tokens_to_js(e.tokens, utf8, "score");
  val out = val::object();
  out.set("label", e.label);
  out.set("probability", e.probability);
  out.set("logit", e.logit);
  out.set("method", e.method);
  out.set("aggregation", e.aggregation);
  out.set("tokens", tokens);
  if (e.completeness_gap) {
    out.set("output", *e.output);
    out.set("baselineOutput", *e.baseline_output);
    out.set("completenessGap", *e.completeness_gap);
  }
  return out;
}

inline val explain_to_js(ClassifierBundle& bundle, const val& text, const val& options) {
  const std::string utf8 = utf8_of(text, "explain");
  return explanation_to_js(explain(bundle, utf8, explain_request_of(options)), utf8);
}

inline val faithfulness_to_js(ClassifierBundle& bundle, const val& text, const val& options) {
  using namespace detail;
  check_options(options, "faithfulness");
  const std::string utf8 = utf8_of(text, "faithfulness");
  // By default the method classify() explains this model by: attention where the model has it.
  const bool attention = bundle.model->config().has_attention() || bundle.model->transformer();
  std::vector<std::string> methods = {attention ? "attention" : "gradient-x-input"};
  if (has(options, "methods")) {
    const val list = options["methods"];
    if (!val::global("Array").call<bool>("isArray", list) || list["length"].as<size_t>() == 0)
      throw Error("faithfulness: methods must be a non-empty array of method names");
    methods.clear();
    for (size_t i = 0; i < list["length"].as<size_t>(); ++i) {
      if (!list[i].isString()) throw Error("faithfulness: methods must be method names");
      methods.push_back(list[i].as<std::string>());
    }
  }
  FaithfulnessOptions settings;
  if (has(options, "removal")) {
    const std::string r = choice(options, "removal", "faithfulness");
    if (r != "delete" && r != "pad") throw Error("faithfulness: removal must be 'delete' or 'pad'");
    settings.removal = r == "pad" ? ExplainRequest::Occlude::Pad : ExplainRequest::Occlude::Delete;
  }
  if (has(options, "seed")) settings.seed = seed_of(options, "faithfulness");
  // The methods' own options (steps, baseline, rule, window, layer, head) as explain() takes them;
  // occlusion removes tokens as the metrics do.
  const ExplainRequest base = explain_request_of(options);
  std::vector<Explanation> explanations;
  std::optional<std::vector<double>> loo_logits;  // occlusion's copies are leave-one-out's: run them once
  for (const std::string& name : methods) {
    ExplainRequest request = base;
    request.method = explain_request_method(name);
    request.occlude = settings.removal;
    request.seed = settings.seed;
    explanations.push_back(explain(bundle, utf8, request));
    if (!loo_logits) loo_logits = leave_one_out_logits(explanations.back(), request, settings);
  }
  // p(x), leave-one-out and the random baseline, computed once for every method.
  const FaithfulnessReference reference = faithfulness_reference(bundle, utf8, settings, loo_logits ? &*loo_logits : nullptr);
  val by_method = val::object(), random = val::object();
  double probability = 0;
  for (size_t i = 0; i < methods.size(); ++i) {
    const std::string& name = methods[i];
    const Explanation& e = explanations[i];
    std::vector<double> scores;
    for (const TokenScore& t : e.tokens) scores.push_back(t.weight);
    const Faithfulness f = faithfulness(bundle, utf8, scores, settings, &reference);
    val comprehensiveness = val::object(), sufficiency = val::object(), curve = val::array();
    for (size_t i = 0; i < Faithfulness::kFractions.size(); ++i) {
      const std::string key = std::to_string(static_cast<int>(std::lround(100 * Faithfulness::kFractions[i])));
      comprehensiveness.set(key, f.comprehensiveness[i]);
      sufficiency.set(key, f.sufficiency[i]);
    }
    for (size_t i = 0; i < f.deletion_curve.size(); ++i) curve.set(i, numbers({f.deletion_curve[i].first, f.deletion_curve[i].second}));
    val m = val::object();
    m.set("comprehensiveness", comprehensiveness);
    m.set("sufficiency", sufficiency);
    m.set("aopcComprehensiveness", f.aopc_comprehensiveness);
    m.set("aopcSufficiency", f.aopc_sufficiency);
    m.set("decisionFlipTop1", f.decision_flip_top1);
    m.set("decisionFlipFraction", optional_value(f.decision_flip_fraction));
    m.set("kendallTauLoo", optional_value(f.kendall_tau_loo));
    m.set("deletionCurve", curve);
    m.set("explanation", explanation_to_js(e, utf8));
    by_method.set(name, m);
    random.set("aopcComprehensiveness", f.random_aopc_comprehensiveness);  // the same orderings for every method
    random.set("aopcSufficiency", f.random_aopc_sufficiency);
    probability = f.probability;
  }
  val out = val::object();
  out.set("probability", probability);
  out.set("methods", by_method);
  out.set("random", random);
  return out;
}

inline val attention_experiments_to_js(ClassifierBundle& bundle, const val& text, const val& options) {
  using namespace detail;
  check_options(options, "attentionExperiments");
  AttentionExperimentOptions settings;
  if (has(options, "permutations")) settings.permutations = whole_number(options, "permutations", "attentionExperiments");
  if (has(options, "seed")) settings.seed = seed_of(options, "attentionExperiments");
  if (has(options, "tolerance")) {
    if (!options["tolerance"].isNumber()) throw Error("attentionExperiments: tolerance must be a number");
    settings.tolerance = options["tolerance"].as<double>();
  }
  const AttentionExperiments e = attention_experiments(bundle, utf8_of(text, "attentionExperiments"), settings);
  val permuted = val::object(), uniform = val::object(), adversarial = val::object(), out = val::object();
  permuted.set("medianAbsChange", e.permuted_median_change);
  permuted.set("maxAbsChange", e.permuted_max_change);
  uniform.set("absChange", e.uniform_change);
  adversarial.set("attention", numbers(e.adversarial));
  adversarial.set("jsd", e.adversarial_jsd);
  adversarial.set("absChange", e.adversarial_change);
  out.set("attention", numbers(e.attention));
  out.set("probability", e.probability);
  out.set("permuted", permuted);
  out.set("uniform", uniform);
  out.set("adversarial", adversarial);
  return out;
}

}  // namespace attnlens::wasm
