// The translator's JS API (embind), a module of its own (web/dist/attnlens-translate.{js,wasm})
// so the classifier page's first load does not carry the translator's code:
//
//   import createAttnlensTranslate from './dist/attnlens-translate.js';
//   const lens = await createAttnlensTranslate();           // emscripten module options, e.g. {wasmBinary}
//   const translator = lens.Translator.fromBytes(bytes);   // a translator .safetensors file
//   const t = translator.translate(text, {beam: 1, maxLength: 0});
//       // {translation, sourceTokens: [{text, start, end, oov}], targetTokens: [string],
//       //  attention: [[number]] (rows: target tokens, columns: source tokens; [] without attention),
//       //  logProbability, truncated}
//   translator.info();                           // {architecture, description, attention, sourceLanguage, testBleu, …}
//   translator.delete();
//
// Source token offsets are UTF-16 code units into the JS string, as in the classifier's API;
// every failure is thrown as a JS Error with the engine's message.
#include <cmath>

#include "io/translator_file.hpp"
#include "pipeline/translate.hpp"
#include "wasm/common.hpp"

using namespace attnlens;
using namespace attnlens::wasm;

class JsTranslator {
 public:
  explicit JsTranslator(TranslatorBundle bundle) : bundle_(std::move(bundle)) {}

  static JsTranslator* from_bytes(const val& bytes) {
    return js_errors([&] {
      const std::vector<uint8_t> data = bytes_of(bytes, "Translator.fromBytes");
      return new JsTranslator(load_translator(data.data(), data.size(), "translator"));
    });
  }

  val translate(const val& text, const val& options) {
    return js_errors([&] {
      const std::string utf8 = utf8_of(text, "translate");
      DecodeOptions decode;
      if (options.typeOf().as<std::string>() == "object" && !options.isNull()) {
        const val beam = options["beam"], max_length = options["maxLength"];
        if (!beam.isUndefined()) {
          if (!beam.isNumber() || beam.as<double>() != std::floor(beam.as<double>()) || beam.as<double>() < 1 || beam.as<double>() > 16)
            throw Error("translate: options.beam must be an integer from 1 to 16");
          decode.beam = beam.as<int>();
        }
        if (!max_length.isUndefined()) {
          if (!max_length.isNumber() || max_length.as<double>() < 0 || max_length.as<double>() > 500)
            throw Error("translate: options.maxLength must be a number from 0 to 500");
          decode.max_length = max_length.as<int>();
        }
      } else if (!options.isUndefined() && !options.isNull()) {
        throw Error("translate: options must be an object");
      }
      const Translation t = translate_text(bundle_, utf8, decode);
      const std::vector<uint32_t> offsets = utf16_offsets(utf8);
      val source = val::array();
      for (size_t i = 0; i < t.source_tokens.size(); ++i) {
        const SourceToken& s = t.source_tokens[i];
        source.set(i, token_to_js(s.text, offsets[s.start], offsets[s.end], s.oov));
      }
      val target = val::array();
      for (size_t i = 0; i < t.target_tokens.size(); ++i) target.set(i, t.target_tokens[i]);
      val attention = val::array();
      for (Eigen::Index i = 0; i < t.attention.rows(); ++i) {
        val row = val::array();
        for (Eigen::Index j = 0; j < t.attention.cols(); ++j) row.set(static_cast<size_t>(j), t.attention(i, j));
        attention.set(static_cast<size_t>(i), row);
      }
      val result = val::object();
      result.set("translation", t.translation);
      result.set("sourceTokens", source);
      result.set("targetTokens", target);
      result.set("attention", attention);
      result.set("logProbability", t.log_probability);
      result.set("truncated", t.truncated);
      return result;
    });
  }

  val translate_default(const val& text) { return translate(text, val::undefined()); }

  val info() {
    const TranslatorConfig& c = bundle_.model->config();
    const nlohmann::json& p = bundle_.provenance;
    val info = val::object();
    info.set("architecture", c.architecture);
    info.set("description", c.describe());
    info.set("attention", c.attention);
    info.set("hasAttention", c.has_attention());
    info.set("sourceLanguage", bundle_.source_language);
    info.set("targetLanguage", bundle_.target_language);
    info.set("sourceVocabularySize", bundle_.source_vocabulary.size());
    info.set("targetVocabularySize", bundle_.target_vocabulary.size());
    info.set("parameters", static_cast<double>(bundle_.model->parameter_count()));
    const auto bleu = [&](const char* key) {
      return p.contains(key) && p[key].is_object() ? optional_number(p[key], "bleu") : val::null();
    };
    info.set("testBleu", bleu("test_greedy"));
    info.set("testBleuBeam", bleu("test_beam"));
    info.set("credit", p.contains("credit") && p["credit"].is_string() ? val(p["credit"].get<std::string>()) : val::null());
    info.set("provenance", val::global("JSON").call<val>("parse", p.dump()));
    return info;
  }

 private:
  TranslatorBundle bundle_;
};

EMSCRIPTEN_BINDINGS(attnlens_translate) {
  emscripten::class_<JsTranslator>("Translator")
      .class_function("fromBytes", &JsTranslator::from_bytes, emscripten::allow_raw_pointers())
      .function("translate", &JsTranslator::translate)
      .function("translate", &JsTranslator::translate_default)
      .function("info", &JsTranslator::info);
}
