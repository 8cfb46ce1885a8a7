#include "io/model_file.hpp"

#include <fstream>
#include <iterator>
#include <set>

#include "core/error.hpp"
#include "io/safetensors.hpp"

namespace attnlens {

using nlohmann::json;

json tokenizer_to_json(const TokenizerOptions& options) {
  return {{"type", "attnlens.words"}, {"lowercase", options.lowercase}, {"strip_html_breaks", options.strip_html_breaks}};
}

TokenizerOptions tokenizer_from_json(const json& j) {
  check(j.is_object(), "tokenizer: expected a JSON object");
  check(j.value("type", "") == "attnlens.words", "tokenizer.type: expected 'attnlens.words'");
  TokenizerOptions options;
  check(j.contains("lowercase") && j["lowercase"].is_boolean(), "tokenizer.lowercase: expected true or false");
  check(j.contains("strip_html_breaks") && j["strip_html_breaks"].is_boolean(), "tokenizer.strip_html_breaks: expected true or false");
  options.lowercase = j["lowercase"].get<bool>();
  options.strip_html_breaks = j["strip_html_breaks"].get<bool>();
  return options;
}

std::vector<uint8_t> serialize_classifier(const ClassifierBundle& bundle) {
  check(bundle.model != nullptr, "save: no model");
  check(bundle.vocabulary.size() == bundle.model->config().vocab_size, "save: vocabulary size differs from the model's");
  std::map<std::string, std::string> metadata = {
      {"format", kClassifierFormat},
      {"format_version", kClassifierFormatVersion},
      {"config", bundle.model->config().to_json().dump()},
      {"tokenizer", tokenizer_to_json(bundle.tokenizer).dump()},
      {"vocabulary", json(bundle.vocabulary.words()).dump()},
      {"provenance", bundle.provenance.dump()},
  };
  std::vector<const Parameter*> tensors;
  for (Parameter* p : bundle.model->parameters()) tensors.push_back(p);
  return safetensors::serialize(tensors, metadata);
}

void save_classifier(const std::string& path, const ClassifierBundle& bundle) {
  safetensors::write_file_atomic(path, serialize_classifier(bundle));
}

namespace {

json metadata_json(const safetensors::File& file, const std::string& key) {
  const auto it = file.metadata().find(key);
  check(it != file.metadata().end(), file.source() + ": __metadata__." + key + " is missing");
  try {
    return json::parse(it->second);
  } catch (const json::exception& e) {
    throw Error(file.source() + ": __metadata__." + key + " is not valid JSON (" + e.what() + ")");
  }
}

}  // namespace

ClassifierBundle load_classifier(const uint8_t* bytes, size_t size, const std::string& source) {
  const safetensors::File file = safetensors::File::parse(bytes, size, source);
  const auto& meta = file.metadata();
  const auto format = meta.find("format");
  check(format != meta.end(), source + ": __metadata__.format is missing (not an attnlens model file?)");
  check(format->second == kClassifierFormat, source + ": __metadata__.format is '" + format->second + "', expected '" +
                                                 kClassifierFormat + "'");
  const auto version = meta.find("format_version");
  check(version != meta.end() && version->second == kClassifierFormatVersion,
        source + ": __metadata__.format_version must be '" + kClassifierFormatVersion + "'");

  ClassifierBundle bundle;
  ClassifierConfig config;
  try {
    config = ClassifierConfig::from_json(metadata_json(file, "config"));
    bundle.tokenizer = tokenizer_from_json(metadata_json(file, "tokenizer"));
  } catch (const Error& e) {
    throw Error(source + ": __metadata__." + e.what());
  }
  const json words = metadata_json(file, "vocabulary");
  check(words.is_array(), source + ": __metadata__.vocabulary must be an array of strings");
  check(words.size() == static_cast<size_t>(config.vocab_size), source + ": __metadata__.vocabulary has " +
                                                                    std::to_string(words.size()) + " words, config.vocab_size is " +
                                                                    std::to_string(config.vocab_size));
  std::vector<std::string> word_list;
  word_list.reserve(words.size());
  for (const auto& w : words) {
    check(w.is_string(), source + ": __metadata__.vocabulary entry " + std::to_string(word_list.size()) + " is not a string");
    word_list.push_back(w.get<std::string>());
  }
  try {
    bundle.vocabulary = Vocabulary(std::move(word_list));
  } catch (const Error& e) {
    throw Error(source + ": __metadata__." + e.what());
  }
  if (meta.count("provenance")) bundle.provenance = metadata_json(file, "provenance");

  bundle.model = std::make_unique<Classifier>(config);
  std::set<std::string> expected;
  for (Parameter* p : bundle.model->parameters()) {
    file.read_f32(p->name, p->shape, p->value);
    expected.insert(p->name);
  }
  for (const auto& [name, info] : file.tensors())
    check(expected.count(name) == 1, source + ": unexpected tensor '" + name + "' for architecture " + config.architecture);
  return bundle;
}

ClassifierBundle load_classifier(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  check(probe.good(), path + ": cannot open model file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(probe)), std::istreambuf_iterator<char>());
  return load_classifier(bytes.data(), bytes.size(), path);
}

}  // namespace attnlens
