// A classification as the JS API returns it (shared by the classifier and the trainer modules).
#pragma once
#include "models/predict.hpp"
#include "wasm/common.hpp"

namespace attnlens::wasm {

inline val prediction_to_js(const Prediction& prediction, const std::string& utf8) {
  const std::vector<uint32_t> offsets = utf16_offsets(utf8);
  val tokens = val::array();
  for (size_t i = 0; i < prediction.tokens.size(); ++i) {
    const TokenScore& t = prediction.tokens[i];
    val token = token_to_js(t.text, offsets[t.start], offsets[t.end], t.oov);
    token.set("weight", t.weight);
    tokens.set(i, token);
  }
  val result = val::object();
  result.set("label", prediction.label);
  result.set("probability", prediction.probability);
  result.set("logit", prediction.logit);
  result.set("explanation", prediction.explanation);
  result.set("tokens", tokens);
  return result;
}

inline val classify_to_js(ClassifierBundle& bundle, const val& text) {
  const std::string utf8 = utf8_of(text, "classify");
  return prediction_to_js(attnlens::classify(bundle, utf8), utf8);
}

}  // namespace attnlens::wasm
