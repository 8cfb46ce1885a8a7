// A classification as the JS API returns it (shared by the classifier and the trainer modules).
#pragma once
#include "pipeline/classify.hpp"
#include "wasm/common.hpp"

namespace attnlens::wasm {

// The JS API's form of a Prediction: the fields of pipeline's to_json(), with offsets in UTF-16 code
// units of the string the caller passed and names in camelCase. Built here field by field rather
// than from to_json(): nlohmann's object builder would add 7 KB to attnlens.wasm.
// Scored tokens as JS objects {text, start, end, oov, <key>: the token's weight or score}, with
// offsets in UTF-16 code units of `utf8` once it is a JS string.
inline val scored_tokens_to_js(const std::vector<TokenScore>& scored, const std::string& utf8, const char* key) {
  const std::vector<uint32_t> offsets = utf16_offsets(utf8);
  val tokens = val::array();
  for (size_t i = 0; i < scored.size(); ++i) {
    const TokenScore& t = scored[i];
    val token = token_to_js(t.text, offsets[t.start], offsets[t.end], t.oov);
    token.set(key, t.weight);
    tokens.set(i, token);
  }
  return tokens;
}

inline val prediction_to_js(const Prediction& prediction, const std::string& utf8) {
  const val tokens = scored_tokens_to_js(prediction.tokens, utf8, "weight");
  val result = val::object();
  result.set("label", prediction.label);
  result.set("probability", prediction.probability);
  result.set("logit", prediction.logit);
  result.set("explanation", prediction.explanation);
  if (prediction.explanation == "self-attention") {
    result.set("attentionLayer", prediction.attention_layer);
    result.set("attentionHead", prediction.attention_head);
  } else if (prediction.explanation == "contribution") {  // signed parts of the logit, not shares of a total
    result.set("signed", true);
    result.set("scale", "score");
  }
  result.set("tokens", tokens);
  return result;
}

// classify(text[, {explanation: 'auto' | 'attention' | 'gradient-x-input' | 'contribution', layer, head}]).
inline val classify_to_js(ClassifierBundle& bundle, const val& text, const val& options = val::undefined()) {
  const std::string utf8 = utf8_of(text, "classify");
  ExplainOptions explain;
  if (!options.isUndefined() && !options.isNull()) {
    if (options.typeOf().as<std::string>() != "object") throw Error("classify: options must be an object such as {explanation: 'attention'}");
    const val method = options["explanation"];
    if (!method.isUndefined()) {
      if (!method.isString()) throw Error("classify: explanation must be 'auto', 'attention', 'gradient-x-input' or 'contribution'");
      explain.method = explain_method(method.as<std::string>());
    }
    for (const auto& [key, field] : {std::pair{"layer", &explain.layer}, std::pair{"head", &explain.head}}) {
      const val value = options[key];
      if (value.isUndefined()) continue;
      if (!value.isNumber() || value.as<double>() != static_cast<double>(value.as<int>()))
        throw Error(std::string("classify: ") + key + " must be a whole number (−1: " + (*key == 'l' ? "the last" : "the mean") + ")");
      *field = value.as<int>();
    }
  }
  return prediction_to_js(attnlens::classify(bundle, utf8, explain), utf8);
}

}  // namespace attnlens::wasm
