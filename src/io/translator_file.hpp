// Translator model files (see also model_file.hpp for the classifier's).
#pragma once
#include "io/model_file.hpp"
#include "models/translator.hpp"

namespace attnlens {

// A translator in one safetensors file; __metadata__ holds format "attnlens.translator",
// format_version "1", config (TranslatorConfig), source_tokenizer, target_tokenizer,
// source_vocabulary, target_vocabulary (ids 2 and 3 are <s> and </s>), source_language,
// target_language, provenance and weights (float32 | float16 | int8, see safetensors.hpp).
constexpr const char* kTranslatorFormat = "attnlens.translator";
constexpr const char* kTranslatorFormatVersion = "1";

struct TranslatorBundle {
  std::unique_ptr<Translator> model;
  Vocabulary source_vocabulary, target_vocabulary;
  TokenizerOptions source_tokenizer, target_tokenizer;
  std::string source_language = "en", target_language = "fr";
  nlohmann::json provenance = nlohmann::json::object();
  safetensors::WeightStorage storage = safetensors::WeightStorage::Float32;  // how save stores the weights
};

std::vector<uint8_t> serialize_translator(const TranslatorBundle& bundle);
void save_translator(const std::string& path, const TranslatorBundle& bundle);
TranslatorBundle load_translator(const uint8_t* bytes, size_t size, const std::string& source);
TranslatorBundle load_translator(const std::string& path);

}  // namespace attnlens
