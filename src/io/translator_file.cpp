#include "io/translator_file.hpp"

#include "core/error.hpp"
#include "io/safetensors.hpp"

namespace attnlens {

using nlohmann::json;
using namespace detail;

std::vector<uint8_t> serialize_translator(const TranslatorBundle& bundle) {
  check(bundle.model != nullptr, "save: no model");
  const TranslatorConfig& config = bundle.model->config();
  check(bundle.source_vocabulary.size() == config.source_vocab_size, "save: source vocabulary size differs from the model's");
  check(bundle.target_vocabulary.size() == config.target_vocab_size, "save: target vocabulary size differs from the model's");
  return serialize_model(kTranslatorFormat, kTranslatorFormatVersion,
                         {{"config", config.to_json().dump()},
                          {"source_tokenizer", tokenizer_to_json(bundle.source_tokenizer).dump()},
                          {"target_tokenizer", tokenizer_to_json(bundle.target_tokenizer).dump()},
                          {"source_vocabulary", json(bundle.source_vocabulary.words()).dump()},
                          {"target_vocabulary", json(bundle.target_vocabulary.words()).dump()},
                          {"source_language", bundle.source_language},
                          {"target_language", bundle.target_language}},
                         *bundle.model, bundle.provenance, bundle.storage);
}

void save_translator(const std::string& path, const TranslatorBundle& bundle) {
  safetensors::write_file_atomic(path, serialize_translator(bundle));
}

TranslatorBundle load_translator(const uint8_t* bytes, size_t size, const std::string& source) {
  const safetensors::File file = safetensors::File::parse(bytes, size, source);
  check_format(file, kTranslatorFormat, kTranslatorFormatVersion);
  TranslatorBundle bundle;
  TranslatorConfig config;
  try {
    config = TranslatorConfig::from_json(metadata_json(file, "config"));
    bundle.source_tokenizer = tokenizer_from_json(metadata_json(file, "source_tokenizer"));
    bundle.target_tokenizer = tokenizer_from_json(metadata_json(file, "target_tokenizer"));
  } catch (const Error& e) {
    throw Error(source + ": __metadata__." + e.what());
  }
  const int64_t stored = file.weight_values();
  check(stored == config.parameter_count(), source + ": the file holds " + std::to_string(stored) +
                                                " weights, but its config describes " +
                                                std::to_string(config.parameter_count()));
  {
    const ParameterBudget budget(stored, source);  // and building the model cannot claim more
    bundle.model = std::make_unique<Translator>(config);
  }
  // After the model: the vocabulary sizes are now backed by the embeddings' rows in the file.
  bundle.source_vocabulary = read_vocabulary(file, "source_vocabulary", config.source_vocab_size, "config.source_vocab_size");
  bundle.target_vocabulary = read_vocabulary(file, "target_vocabulary", config.target_vocab_size, "config.target_vocab_size");
  check(bundle.target_vocabulary.word(kBos) == "<s>" && bundle.target_vocabulary.word(kEos) == "</s>",
        source + ": __metadata__.target_vocabulary must have <s> and </s> at ids 2 and 3");
  for (const char* key : {"source_language", "target_language"}) {
    const auto it = file.metadata().find(key);
    check(it != file.metadata().end() && !it->second.empty() && it->second.size() <= 16,
          source + ": __metadata__." + key + " must be a short language code");
    (std::string(key) == "source_language" ? bundle.source_language : bundle.target_language) = it->second;
  }
  if (file.metadata().count("provenance")) bundle.provenance = metadata_json(file, "provenance");
  read_parameters(file, *bundle.model, config.architecture);
  bundle.storage = file.storage();
  return bundle;
}

TranslatorBundle load_translator(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return load_translator(bytes.data(), bytes.size(), path);
}

}  // namespace attnlens
