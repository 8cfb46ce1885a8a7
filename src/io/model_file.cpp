#include "io/model_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "core/error.hpp"
#include "io/json_text.hpp"
#include "io/safetensors.hpp"
#include "text/ngram_list.hpp"

namespace attnlens {

using nlohmann::json;

json tokenizer_to_json(const TokenizerOptions& options) {
  json j = {{"type", "attnlens.words"}, {"lowercase", options.lowercase}, {"strip_html_breaks", options.strip_html_breaks}};
  if (options.split_elisions) j["split_elisions"] = true;
  if (options.split_hyphens) j["split_hyphens"] = true;
  return j;
}

TokenizerOptions tokenizer_from_json(const json& j) {
  check(j.is_object(), "tokenizer: expected a JSON object");
  check(j.value("type", "") == "attnlens.words", "tokenizer.type: expected 'attnlens.words'");
  TokenizerOptions options;
  check(j.contains("lowercase") && j["lowercase"].is_boolean(), "tokenizer.lowercase: expected true or false");
  check(j.contains("strip_html_breaks") && j["strip_html_breaks"].is_boolean(), "tokenizer.strip_html_breaks: expected true or false");
  options.lowercase = j["lowercase"].get<bool>();
  options.strip_html_breaks = j["strip_html_breaks"].get<bool>();
  for (const char* key : {"split_elisions", "split_hyphens"})
    check(!j.contains(key) || j[key].is_boolean(), std::string("tokenizer.") + key + ": expected true or false");
  options.split_elisions = j.value("split_elisions", false);
  options.split_hyphens = j.value("split_hyphens", false);
  return options;
}

namespace {

// The n-grams' greatest length: a model's features (ngram_order) or its path's (ngram_path).
int ngram_order_of(const ClassifierConfig& config) {
  return config.ngram_order > 0 ? config.ngram_order : config.ngram_path;
}

}  // namespace

std::vector<uint8_t> serialize_classifier(const ClassifierBundle& bundle) {
  check(bundle.model != nullptr, "save: no model");
  check(bundle.vocabulary.size() == bundle.model->config().vocab_size, "save: vocabulary size differs from the model's");
  std::vector<std::string> words = bundle.vocabulary.words();
  std::vector<safetensors::ByteTensor> bytes;
  const int order = ngram_order_of(bundle.model->config());
  const int leading = order >= 2 ? ngram_layout_words(bundle.vocabulary, order) : -1;
  if (leading >= 0 && leading < bundle.vocabulary.size()) {  // in the n-gram layout: the n-grams compactly
    bytes.push_back({kNgramListTensor, encode_ngram_list(bundle.vocabulary, leading)});
    words.resize(static_cast<size_t>(leading));
  }
  return detail::serialize_model(kClassifierFormat, kClassifierFormatVersion,
                                 {{"config", bundle.model->config().to_json().dump()},
                                  {"tokenizer", tokenizer_to_json(bundle.tokenizer).dump()},
                                  {"vocabulary", json(words).dump()}},
                                 *bundle.model, bundle.provenance, bundle.storage, bytes);
}

void save_classifier(const std::string& path, const ClassifierBundle& bundle) {
  safetensors::write_file_atomic(path, serialize_classifier(bundle));
}

namespace detail {

std::vector<uint8_t> serialize_model(const char* format, const char* version, std::map<std::string, std::string> metadata,
                                     Module& model, const json& provenance, safetensors::WeightStorage storage,
                                     const std::vector<safetensors::ByteTensor>& bytes) {
  metadata["format"] = format;
  metadata["format_version"] = version;
  metadata["provenance"] = provenance.dump();
  metadata["weights"] = safetensors::storage_name(storage);
  std::vector<const Parameter*> tensors;
  for (Parameter* p : model.parameters()) tensors.push_back(p);
  return safetensors::serialize(tensors, metadata, storage, bytes);
}

json metadata_json(const safetensors::File& file, const std::string& key) {
  const auto it = file.metadata().find(key);
  check(it != file.metadata().end(), file.source() + ": __metadata__." + key + " is missing");
  return parse_json(it->second, file.source() + ": __metadata__." + key, kMaxMetadataValues);
}

namespace {

// Reads a JSON array of strings straight into a vocabulary, with no JSON tree or vector of strings
// in between (a model's vocabulary is tens of thousands of words, read on every load, and a
// hostile file's may be millions). Anything else is refused.
class WordListReader : public nlohmann::json_sax<json> {
 public:
  Vocabulary::Builder words;
  std::string problem;    // empty: the input was an array of strings (or too long, below)
  bool too_many = false;  // it held more words than the limit: reading stopped there

  bool null() override { return other(); }
  bool boolean(bool) override { return other(); }
  bool number_integer(number_integer_t) override { return other(); }
  bool number_unsigned(number_unsigned_t) override { return other(); }
  bool number_float(number_float_t, const string_t&) override { return other(); }
  bool binary(binary_t&) override { return other(); }
  bool string(string_t& value) override {
    if (depth_ != 1) return other();
    if (words.size() == limit_) {
      too_many = true;
      return false;
    }
    words.add(value);
    return true;
  }
  bool start_object(std::size_t) override { return other(); }
  bool key(string_t&) override { return other(); }
  bool end_object() override { return other(); }
  bool start_array(std::size_t) override {
    if (depth_ != 0) return other();
    depth_ = 1;
    return true;
  }
  bool end_array() override {
    depth_ = 2;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    problem = std::string("is not valid JSON (") + e.what() + ")";
    return false;
  }
  explicit WordListReader(size_t limit) : limit_(limit) {}

 private:
  size_t limit_;  // more words than this cannot be right: stop reading
  int depth_ = 0;  // 0 before the array, 1 inside it, 2 after it
  bool other() {
    problem = depth_ == 1 ? "entry " + std::to_string(words.size()) + " is not a string" : "must be an array of strings";
    return false;
  }
};

}  // namespace

namespace {

// The words of __metadata__.<key>, at most `limit` of them (more is an error).
Vocabulary::Builder read_words(const safetensors::File& file, const std::string& key, int limit, const std::string& size_field) {
  const std::string& source = file.source();
  const auto it = file.metadata().find(key);
  check(it != file.metadata().end(), source + ": __metadata__." + key + " is missing");
  const std::string& text = it->second;
  const size_t expected = static_cast<size_t>(std::max(limit, 0));
  WordListReader reader(expected);  // room for the words the config promises, as many as the text can hold ("w", is 4 bytes)
  reader.words.reserve(std::min(expected, text.size() / 4 + 1), text.size());
  sax_parse_json(text.data(), text.data() + text.size(), reader);
  check(reader.problem.empty(), source + ": __metadata__." + key + " " + reader.problem);
  check(!reader.too_many, source + ": __metadata__." + key + " has more than " + std::to_string(limit) + " words, " +
                              size_field + " is " + std::to_string(limit));
  return std::move(reader.words);
}

Vocabulary build_vocabulary(Vocabulary::Builder words, const std::string& where) {
  try {
    return std::move(words).build();
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
}

// A classifier's vocabulary: its words from __metadata__.vocabulary, then, when the file has them
// (kNgramListTensor), its n-grams, stored compactly; their word ids go to `grams`, and the first
// n-gram's id to `first_ngram`.
Vocabulary read_classifier_vocabulary(const safetensors::File& file, const ClassifierConfig& config,
                                      std::vector<NgramWords>& grams, int32_t& first_ngram) {
  if (file.tensors().count(kNgramListTensor) == 0)
    return read_vocabulary(file, "vocabulary", config.vocab_size, "config.vocab_size");
  const std::string where = file.source() + ": tensor '" + kNgramListTensor + "'";
  const int order = ngram_order_of(config);
  check(order >= 2, where + ": the config has no n-grams (ngram_order or ngram_path of 2 or 3)");
  Vocabulary::Builder words = read_words(file, "vocabulary", config.vocab_size, "config.vocab_size");
  const int count = config.vocab_size - static_cast<int>(words.size());
  check(words.size() >= 2 && count > 0, where + ": no n-grams are left of config.vocab_size for it");
  const auto [bytes, size] = file.read_bytes(kNgramListTensor);
  first_ngram = static_cast<int32_t>(words.size());
  try {
    decode_ngram_list(bytes, size, order, count, words, &grams);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  return build_vocabulary(std::move(words), file.source() + ": __metadata__.vocabulary");
}

}  // namespace

Vocabulary read_vocabulary(const safetensors::File& file, const std::string& key, int expected_size,
                           const std::string& size_field) {
  Vocabulary::Builder words = read_words(file, key, expected_size, size_field);
  check(words.size() == static_cast<size_t>(std::max(expected_size, 0)),
        file.source() + ": __metadata__." + key + " has " + std::to_string(words.size()) + " words, " + size_field +
            " is " + std::to_string(expected_size));
  return build_vocabulary(std::move(words), file.source() + ": __metadata__." + key);
}

void check_format(const safetensors::File& file, const char* format, const char* version) {
  const auto& meta = file.metadata();
  const std::string& source = file.source();
  const auto found = meta.find("format");
  check(found != meta.end(), source + ": __metadata__.format is missing (not an attnlens model file?)");
  check(found->second == format, source + ": __metadata__.format is '" + found->second + "', expected '" + format + "'");
  const auto v = meta.find("format_version");
  check(v != meta.end() && v->second == version, source + ": __metadata__.format_version must be '" + version + "'");
}

// Reads every parameter of `model` from the file and rejects tensors the model does not have.
void read_parameters(const safetensors::File& file, Module& model, const std::string& architecture) {
  std::set<std::string> expected;
  for (Parameter* p : model.parameters()) {
    file.read_parameter(p->name, p->shape, p->value);
    expected.insert(p->name);
  }
  for (const auto& [name, info] : file.tensors())
    check(expected.count(name) == 1 || file.is_scale_tensor(name) || name == kNgramListTensor,
          file.source() + ": unexpected tensor '" + name + "' for architecture " + architecture);
}

}  // namespace detail

using namespace detail;

ClassifierBundle load_classifier(const uint8_t* bytes, size_t size, const std::string& source) {
  const safetensors::File file = safetensors::File::parse(bytes, size, source);
  check_format(file, kClassifierFormat, kClassifierFormatVersion);
  const auto& meta = file.metadata();
  ClassifierBundle bundle;
  ClassifierConfig config;
  try {
    config = ClassifierConfig::from_json(metadata_json(file, "config"));
    bundle.tokenizer = tokenizer_from_json(metadata_json(file, "tokenizer"));
  } catch (const Error& e) {
    throw Error(source + ": __metadata__." + e.what());
  }
  {
    const ParameterBudget budget(file.weight_values(), source);  // the config cannot ask for more weights than these
    bundle.model = std::make_unique<Classifier>(config);
  }
  // After the model: config.vocab_size is now backed by the embedding's rows in the file.
  std::vector<NgramWords> grams;
  int32_t first_ngram = 0;
  bundle.vocabulary = read_classifier_vocabulary(file, config, grams, first_ngram);
  if (first_ngram > 0) bundle.model->bind_ngrams(grams, first_ngram);  // the decoder's ids: no texts read back
  else bundle.model->bind_vocabulary(bundle.vocabulary);
  if (meta.count("provenance")) bundle.provenance = metadata_json(file, "provenance");
  read_parameters(file, *bundle.model, config.architecture);
  bundle.storage = file.storage();
  return bundle;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::error_code error;
  check(!std::filesystem::is_directory(path, error), path + ": is a directory, not a model file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  check(in.good(), path + ": cannot open model file");
  const std::streamoff size = in.tellg();
  if (size < 0) {  // a pipe: read it as it comes
    in.clear();
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(size));  // one allocation of exactly the file's size
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  check(in.gcount() == size, path + ": cannot read the whole file");
  return bytes;
}

ClassifierBundle load_classifier(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return load_classifier(bytes.data(), bytes.size(), path);
}

std::string model_format(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const safetensors::File file = safetensors::File::parse(bytes.data(), bytes.size(), path);
  const auto found = file.metadata().find("format");
  check(found != file.metadata().end(), path + ": __metadata__.format is missing (not an attnlens model file?)");
  return found->second;
}

}  // namespace attnlens
