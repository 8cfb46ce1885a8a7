// A classifier in one safetensors file. Tensors use PyTorch's names and layouts;
// __metadata__ holds (each as a JSON string):
//   format        "attnlens.classifier"     format_version "1"
//   config        the ClassifierConfig       tokenizer      the TokenizerOptions
//   vocabulary    array of words, id order   provenance     data, seed, epochs, accuracies, date, …
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "models/classifier.hpp"
#include "models/translator.hpp"
#include "text/tokenizer.hpp"
#include "text/vocabulary.hpp"

namespace attnlens {

constexpr const char* kClassifierFormat = "attnlens.classifier";
constexpr const char* kClassifierFormatVersion = "1";

struct ClassifierBundle {
  std::unique_ptr<Classifier> model;
  Vocabulary vocabulary;
  TokenizerOptions tokenizer;
  nlohmann::json provenance = nlohmann::json::object();
};

nlohmann::json tokenizer_to_json(const TokenizerOptions& options);
TokenizerOptions tokenizer_from_json(const nlohmann::json& j);

std::vector<uint8_t> serialize_classifier(const ClassifierBundle& bundle);
void save_classifier(const std::string& path, const ClassifierBundle& bundle);
// Validates everything (see safetensors.hpp and the checks in model_file.cpp); errors
// name the source and the tensor or metadata field at fault.
ClassifierBundle load_classifier(const uint8_t* bytes, size_t size, const std::string& source);
ClassifierBundle load_classifier(const std::string& path);

// A translator in one safetensors file; __metadata__ holds format "attnlens.translator",
// format_version "1", config (TranslatorConfig), source_tokenizer, target_tokenizer,
// source_vocabulary, target_vocabulary (ids 2 and 3 are <s> and </s>), source_language,
// target_language and provenance.
constexpr const char* kTranslatorFormat = "attnlens.translator";
constexpr const char* kTranslatorFormatVersion = "1";

struct TranslatorBundle {
  std::unique_ptr<Translator> model;
  Vocabulary source_vocabulary, target_vocabulary;
  TokenizerOptions source_tokenizer, target_tokenizer;
  std::string source_language = "en", target_language = "fr";
  nlohmann::json provenance = nlohmann::json::object();
};

std::vector<uint8_t> serialize_translator(const TranslatorBundle& bundle);
void save_translator(const std::string& path, const TranslatorBundle& bundle);
TranslatorBundle load_translator(const uint8_t* bytes, size_t size, const std::string& source);
TranslatorBundle load_translator(const std::string& path);

// The __metadata__.format of a model file ("attnlens.classifier", "attnlens.translator"),
// after the full safetensors validation; throws on anything that is not a model file.
std::string model_format(const std::string& path);
std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace attnlens
