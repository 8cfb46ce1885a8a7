// A classifier in one safetensors file. Tensors use PyTorch's names and layouts;
// __metadata__ holds (each as a JSON string):
//   format        "attnlens.classifier"     format_version "1"
//   config        the ClassifierConfig       tokenizer      the TokenizerOptions
//   vocabulary    array of words, id order   provenance     data, seed, epochs, accuracies, date, …
//   weights       float32 | float16 | int8 (see safetensors.hpp; the loader reads all three)
// A model with n-grams whose vocabulary is in the n-gram layout (text/ngram_list.hpp; training
// builds it so, io/ngram_layout.hpp puts older models in it) stores only the words in
// __metadata__.vocabulary and its n-grams, compactly, in the U8 tensor "vocabulary.ngrams"; the
// loader reads both forms.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "io/safetensors.hpp"
#include "models/classifier.hpp"
#include "text/tokenizer.hpp"
#include "text/vocabulary.hpp"

namespace attnlens {

constexpr const char* kClassifierFormat = "attnlens.classifier";
constexpr const char* kClassifierFormatVersion = "1";
constexpr const char* kNgramListTensor = "vocabulary.ngrams";

struct ClassifierBundle {
  std::unique_ptr<Classifier> model;
  Vocabulary vocabulary;
  TokenizerOptions tokenizer;
  nlohmann::json provenance = nlohmann::json::object();
  safetensors::WeightStorage storage = safetensors::WeightStorage::Float32;  // how save stores the weights
};

nlohmann::json tokenizer_to_json(const TokenizerOptions& options);
TokenizerOptions tokenizer_from_json(const nlohmann::json& j);

std::vector<uint8_t> serialize_classifier(const ClassifierBundle& bundle);
void save_classifier(const std::string& path, const ClassifierBundle& bundle);
// Validates everything (see safetensors.hpp and the checks in model_file.cpp); errors
// name the source and the tensor or metadata field at fault.
ClassifierBundle load_classifier(const uint8_t* bytes, size_t size, const std::string& source);
ClassifierBundle load_classifier(const std::string& path);

// The __metadata__.format of a model file ("attnlens.classifier", "attnlens.translator"),
// after the full safetensors validation; throws on anything that is not a model file.
std::string model_format(const std::string& path);
// The whole file, read into one allocation of its size. Throws Error for a file that cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Shared by the model-file writers and readers (classifier, translator).
namespace detail {
// format, format_version, provenance and weights are added to `metadata`; the model's parameters
// are stored as `storage` says.
std::vector<uint8_t> serialize_model(const char* format, const char* version, std::map<std::string, std::string> metadata,
                                     Module& model, const nlohmann::json& provenance, safetensors::WeightStorage storage,
                                     const std::vector<safetensors::ByteTensor>& bytes = {});
// A JSON field of __metadata__ (config, tokenizer, provenance, a checkpoint's state), at most
// kMaxMetadataValues values: its tree stays within its text plus about 6.5 MB.
constexpr size_t kMaxMetadataValues = size_t{1} << 16;
nlohmann::json metadata_json(const safetensors::File& file, const std::string& key);
Vocabulary read_vocabulary(const safetensors::File& file, const std::string& key, int expected_size,
                           const std::string& size_field);
void check_format(const safetensors::File& file, const char* format, const char* version);
void read_parameters(const safetensors::File& file, Module& model, const std::string& architecture);
}  // namespace detail

}  // namespace attnlens
