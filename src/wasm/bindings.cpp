// The classifier's JS API (embind). Used by the page and by other pages exactly as:
//
//   import createAttnlens from './dist/attnlens.js';
//   const lens = await createAttnlens();        // emscripten module options, e.g. {wasmBinary}
//   const model = lens.Model.fromBytes(bytes);   // Uint8Array of a .safetensors file
//   const result = model.classify(text);         // {label, probability, logit, explanation, tokens: [{text, start, end, weight, oov}]}
//   model.classify(text, {explanation: 'gradient-x-input'});  // or 'attention' ({layer, head} for a Transformer's
//                                                // self-attention: attentionLayer, attentionHead in the result), 'auto'
//   const score = model.predict(text);           // {label, probability, logit}: the forward pass alone, no explanation
//   const scores = model.predict([a, b, c]);     // an array of those, the texts run as one padded batch
//   const info = model.info();                   // {architecture, description, vocabularySize, testAccuracy, transformerLayers, …}
//   const received = model.selfAttention(text, layer, head);  // Transformer models: per token, the attention it
//                                                // receives (mean over queries) in that layer and head (head −1: mean over heads)
//   model.explain(text, {method: 'integrated-gradients', steps: 50});  // explanations beyond attention, and
//   model.faithfulness(text, {methods: ['attention', 'occlusion']});  // how faithful they are, and the
//   model.attentionExperiments(text);            // attention experiments: see explain_js.hpp
//   model.delete();                              // frees the model: the one handle this module hands out
//
// attnlens.js is built without gradients (ATTNLENS_GRADIENTS=0): it predicts with every model,
// classify() explains the attention models, and explain()/faithfulness() run the forward-only
// methods; a model that explains by gradient × input, or a gradient method, throws.
// attnlens-train.js links this same file against the engine with gradients, so its Model explains
// every model. lens.hasGradients says which of the two a module is.
//
// Token offsets are UTF-16 code units into the JS string given to classify(), so
// text.slice(start, end) is the token's original text, emoji and accents included.
// Every failure (bad model bytes, …) is thrown as a JS Error with the engine's message.
// Training is in the module with gradients: see train_bindings.cpp (web/dist/attnlens-train.js).
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "wasm/common.hpp"
#include "wasm/classifier_js.hpp"
#include "wasm/explain_js.hpp"
#include "io/model_file.hpp"
#include "core/loss.hpp"
#include "layers/transformer.hpp"
#include "pipeline/classify.hpp"

using emscripten::val;
using namespace attnlens;
using namespace attnlens::wasm;

class JsModel {
 public:
  explicit JsModel(ClassifierBundle bundle) : bundle_(std::move(bundle)) {}

  static JsModel* from_bytes(const val& bytes) {
    return js_errors([&] {
      const std::vector<uint8_t> data = bytes_of(bytes, "Model.fromBytes");
      return new JsModel(load_classifier(data.data(), data.size(), "model"));
    });
  }

  val classify(const val& text) { return classify_with(text, val::undefined()); }

  val classify_with(const val& text, const val& options) {
    return js_errors([&] {
      return classify_to_js(bundle_, text, options);
    });
  }

  val explain(const val& text) { return explain_with(text, val::undefined()); }
  val explain_with(const val& text, const val& options) {
    return js_errors([&] { return explain_to_js(bundle_, text, options); });
  }
  val faithfulness(const val& text) { return faithfulness_with(text, val::undefined()); }
  val faithfulness_with(const val& text, const val& options) {
    return js_errors([&] { return faithfulness_to_js(bundle_, text, options); });
  }
  val attention_experiments(const val& text) { return attention_experiments_with(text, val::undefined()); }
  val attention_experiments_with(const val& text, const val& options) {
    return js_errors([&] { return attention_experiments_to_js(bundle_, text, options); });
  }

  val predict(const val& texts) {
    return js_errors([&] {
      const bool many = val::global("Array").call<bool>("isArray", texts);
      std::vector<std::string> utf8;
      if (many) {
        const size_t n = texts["length"].as<size_t>();
        utf8.reserve(n);
        for (size_t i = 0; i < n; ++i) utf8.push_back(utf8_of(texts[i], "predict"));
      } else {
        utf8.push_back(utf8_of(texts, "predict"));
      }
      const std::vector<double> logits = attnlens::predict(bundle_, utf8);
      const auto to_js = [](double logit) {
        val result = val::object();
        result.set("label", std::string(label_of(logit)));
        result.set("probability", sigmoid(logit));
        result.set("logit", logit);
        return result;
      };
      if (!many) return to_js(logits.at(0));
      val out = val::array();
      for (size_t i = 0; i < logits.size(); ++i) out.set(i, to_js(logits[i]));
      return out;
    });
  }

  val self_attention(const val& text, int layer, int head) {
    return js_errors([&] {
      const std::vector<double> received = self_attention_of(bundle_, utf8_of(text, "selfAttention"), layer, head);
      val out = val::array();
      for (size_t k = 0; k < received.size(); ++k) out.set(k, received[k]);
      return out;
    });
  }

  val info() {
    const ClassifierConfig& c = bundle_.model->config();
    const nlohmann::json& p = bundle_.provenance;
    val info = val::object();
    info.set("architecture", c.architecture);
    info.set("vocabularySize", bundle_.vocabulary.size());
    info.set("embeddingDim", c.embedding_dim);
    info.set("description", c.describe());
    info.set("hasAttention", c.has_attention());
    info.set("ngramPath", c.ngram_path);
    const TransformerEncoder* encoder = bundle_.model->transformer();
    info.set("transformerLayers", encoder ? encoder->layers() : 0);
    info.set("transformerHeads", encoder && encoder->layers() > 0 ? encoder->self_attention(0).heads() : 0);
    info.set("parameters", static_cast<double>(bundle_.model->parameter_count()));
    info.set("testAccuracy", optional_number(p, "test_accuracy"));
    info.set("testCount", optional_number(p, "test_count"));
    info.set("validationAccuracy", optional_number(p, "validation_accuracy"));
    info.set("trainedAt", p.contains("date") && p["date"].is_string() ? val(p["date"].get<std::string>()) : val::null());
    info.set("provenance", json_to_js(p));
    return info;
  }

 private:
  ClassifierBundle bundle_;
};

EMSCRIPTEN_BINDINGS(attnlens) {
  // false in attnlens.js, whose models explain by attention only; true in attnlens-train.js.
  emscripten::constant("hasGradients", kHasGradients);
  auto model = emscripten::class_<JsModel>("Model")
                   .class_function("fromBytes", &JsModel::from_bytes, emscripten::allow_raw_pointers())
                   .function("classify", &JsModel::classify)
                   .function("classify", &JsModel::classify_with)
                   .function("predict", &JsModel::predict)
                   .function("info", &JsModel::info)
                   .function("selfAttention", &JsModel::self_attention);
  // Explanations beyond attention, in both modules: in attnlens.js the forward-only methods
  // (attention, attention-rollout, occlusion, random), the faithfulness metrics over them and the
  // attention experiments; a gradient method there is an Error naming attnlens-train.js.
  model.function("explain", &JsModel::explain)
      .function("explain", &JsModel::explain_with)
      .function("faithfulness", &JsModel::faithfulness)
      .function("faithfulness", &JsModel::faithfulness_with)
      .function("attentionExperiments", &JsModel::attention_experiments)
      .function("attentionExperiments", &JsModel::attention_experiments_with);
}
