// Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/), small files made from the
// shipped models and configs and from the test fixtures: `tools/fuzz --seeds` runs it.
//   classifier_file, safetensors: each shipped classifier's architecture shrunk to a few weights and
//     its vocabulary's first words, in float32, float16 and int8; the six-word test fixture.
//   translator_file: each shipped translator shrunk the same way; safetensors gets these too.
//   config: the shipped training configs (models/*.json) and each model file's own config.
//   tokenizer, labelled_text, sentence_pairs, imdb_archive: short texts written here (no
//     IMDB or Tatoeba text), plain and compressed.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "../data_helpers.hpp"
#include "../helpers.hpp"
#include "core/rng.hpp"
#include "io/model_file.hpp"
#include "io/ngram_layout.hpp"
#include "io/translator_file.hpp"

using namespace attnlens;
using attnlens::testing::archive_in_memory;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error(path.string() + ": cannot write");
}

void write(const fs::path& path, const std::string& text) { write(path, std::vector<uint8_t>(text.begin(), text.end())); }

// Every size in a config made a few units: the same layers, a few hundred weights.
void shrink(json& j) {
  if (j.is_array())
    for (json& item : j) item.is_number_integer() ? void(item = 3) : shrink(item);
  if (!j.is_object()) return;
  const std::map<std::string, int> sizes = {{"embedding_dim", 4}, {"hidden_size", 3}, {"size", 3},         {"feedforward", 6},
                                            {"heads", 2},         {"layers", 1},      {"kernel_size", 3},  {"pool_size", 2},
                                            {"attention_size", 3}, {"decoder_size", 6}, {"output_size", 4}};
  for (auto& [key, value] : j.items()) {
    const auto size = sizes.find(key);
    if (size != sizes.end() && value.is_number_integer()) value = std::min(value.get<int>(), size->second);
    else shrink(value);
  }
}

Vocabulary first_words(const Vocabulary& vocabulary, int count) {
  const std::vector<std::string>& words = vocabulary.words();
  return Vocabulary(std::vector<std::string>(words.begin(), words.begin() + std::min<size_t>(words.size(), count)));
}

const std::vector<std::pair<const char*, safetensors::WeightStorage>> kStorages = {
    {"f32", safetensors::WeightStorage::Float32}, {"f16", safetensors::WeightStorage::Float16}, {"i8", safetensors::WeightStorage::Int8}};

json provenance() { return {{"seed", 1}, {"purpose", "fuzz seed made by tests/fuzz/make_seeds.cpp"}}; }

void classifier_seeds(const fs::path& models, const fs::path& corpus) {
  for (const auto& file : fs::directory_iterator(models)) {
    const std::string name = file.path().stem().string();
    if (file.path().extension() != ".safetensors" || name.rfind("translate-", 0) == 0) continue;
    const ClassifierBundle shipped = load_classifier(file.path().string());
    json config = shipped.model->config().to_json();
    shrink(config);
    ClassifierBundle bundle;
    bundle.vocabulary = first_words(shipped.vocabulary, 24);
    config["vocab_size"] = bundle.vocabulary.size();
    bundle.model = std::make_unique<Classifier>(ClassifierConfig::from_json(config));
    Rng rng(1);
    bundle.model->init(rng);
    bundle.tokenizer = shipped.tokenizer;
    bundle.provenance = provenance();
    for (const auto& [suffix, storage] : kStorages) {
      bundle.storage = storage;
      const std::vector<uint8_t> bytes = serialize_classifier(bundle);
      write(corpus / "classifier_file" / (name + "-" + suffix + ".safetensors"), bytes);
      if (storage != safetensors::WeightStorage::Float16) write(corpus / "safetensors" / (name + "-" + suffix + ".safetensors"), bytes);
    }
    write(corpus / "config" / (name + "-model.json"), config.dump(1));
  }
  write(corpus / "classifier_file" / "fixture-six-words.safetensors", serialize_classifier(testing::small_bundle()));
  // The n-gram models (models/ngram*.json): words, bigrams and trigrams, the loader's n-gram
  // binding; as files wrote them before the n-gram layout (every entry a JSON string) and in it
  // (the n-grams in the byte tensor vocabulary.ngrams: its decoder).
  ClassifierBundle ngram;
  ngram.vocabulary = Vocabulary({Vocabulary::kPadToken, Vocabulary::kUnkToken, "the", "film", "not", "good", ".", "not good",
                                 "the film", "not good film", "film ."});
  const json config = {{"architecture", "ngram"}, {"ngram_order", 3},    {"embedding_dim", 1},
                       {"pooling", "sum"},        {"vocab_size", ngram.vocabulary.size()}};
  ngram.model = std::make_unique<Classifier>(ClassifierConfig::from_json(config));
  ngram.model->bind_vocabulary(ngram.vocabulary);
  Rng rng(1);
  ngram.model->init(rng);
  ngram.provenance = provenance();
  for (const char* layout : {"strings", "compact"}) {
    if (std::string(layout) == "compact") put_in_ngram_layout(ngram);
    for (const auto& [suffix, storage] : kStorages) {
      if (storage == safetensors::WeightStorage::Float16) continue;
      ngram.storage = storage;
      write(corpus / "classifier_file" / ("ngram-" + std::string(layout) + "-" + suffix + ".safetensors"),
            serialize_classifier(ngram));
    }
  }
  write(corpus / "config" / "ngram-model.json", ngram.model->config().to_json().dump(1));
  // A network with an n-gram path (models/ngram-path/): a BiLSTM of its first 4 words, the path
  // of them all and its n-grams, compact.
  ClassifierConfig path;
  path.embedding_dim = 4;
  path.hidden_size = 3;
  path.ngram_path = 3;
  path.embedding_words = 4;
  path.vocab_size = ngram.vocabulary.size();
  ClassifierBundle joined;
  joined.vocabulary = ngram.vocabulary;
  joined.model = std::make_unique<Classifier>(path);
  joined.model->bind_vocabulary(joined.vocabulary);
  joined.model->init(rng);
  joined.provenance = provenance();
  joined.storage = safetensors::WeightStorage::Int8;
  write(corpus / "classifier_file" / "ngram-path-i8.safetensors", serialize_classifier(joined));
  write(corpus / "config" / "ngram-path-model.json", path.to_json().dump(1));
}

void translator_seeds(const fs::path& models, const fs::path& corpus) {
  for (const auto& file : fs::directory_iterator(models)) {
    const std::string name = file.path().stem().string();
    if (file.path().extension() != ".safetensors" || name.rfind("translate-", 0) != 0) continue;
    const TranslatorBundle shipped = load_translator(file.path().string());
    json config = shipped.model->config().to_json();
    shrink(config);
    TranslatorBundle bundle;
    bundle.source_vocabulary = first_words(shipped.source_vocabulary, 20);
    bundle.target_vocabulary = first_words(shipped.target_vocabulary, 20);
    config["source_vocab_size"] = bundle.source_vocabulary.size();
    config["target_vocab_size"] = bundle.target_vocabulary.size();
    bundle.model = std::make_unique<Translator>(TranslatorConfig::from_json(config));
    Rng rng(1);
    bundle.model->init(rng);
    bundle.source_tokenizer = shipped.source_tokenizer;
    bundle.target_tokenizer = shipped.target_tokenizer;
    bundle.provenance = provenance();
    for (const auto& [suffix, storage] : kStorages) {
      bundle.storage = storage;
      const std::vector<uint8_t> bytes = serialize_translator(bundle);
      write(corpus / "translator_file" / (name + "-" + suffix + ".safetensors"), bytes);
      if (storage == safetensors::WeightStorage::Int8) write(corpus / "safetensors" / (name + "-" + suffix + ".safetensors"), bytes);
    }
    write(corpus / "config" / (name + "-model.json"), config.dump(1));
  }
}

void text_seeds(const fs::path& corpus) {
  // The tokenizer's first byte picks its options (fuzz_tokenizer.cpp).
  const std::vector<std::string> texts = {
      std::string("\x03") + "A fine film.<br /><br />Not bad, NOT GOOD... 7/10!",
      std::string("\x0f") + "L'homme-orchestre n'est pas là : « c'est-à-dire » aujourd'hui.",
      std::string("\x01") + "Caf\xc3\xa9 na\xc3\xafve \xe2\x80\x94 \xf0\x9f\x98\x80 e\xcc\x81 \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xe2\x80\x8b\xe2\x80\x8f",
      std::string("\x02") + "bad bytes \xff\xfe \xc3 \xed\xa0\x80 <br/> <BR> end",
      std::string("\x3f") + "   \t\r\n  ",
  };
  for (size_t i = 0; i < texts.size(); ++i) write(corpus / "tokenizer" / ("text-" + std::to_string(i)), texts[i]);

  const std::string labelled = "text\tlabel\nA fine, moving film.\t1\nDull and far too long.\tneg\r\nNot bad at all!\tpositive\n\nWorst ever\tFALSE\n";
  write(corpus / "labelled_text" / "plain.tsv", labelled);
  write(corpus / "labelled_text" / "crlf-no-header.tsv", "great\ttrue\r\nawful\t0\r\n");
  for (const char* filter : {"gzip", "bzip2", "xz"})
    write(corpus / "labelled_text" / (std::string("compressed.") + filter), archive_in_memory({{"", labelled}}, filter));

  const std::string pairs = "Go.\tVa !\tCC-BY 2.0 (France) Attribution: example\nI am cold.\tJ'ai froid.\r\n\nWho?\tQui ?\n";
  write(corpus / "sentence_pairs" / "plain.tsv", pairs);
  write(corpus / "sentence_pairs" / "compressed.gz", archive_in_memory({{"", pairs}}, "gzip"));

  const std::vector<std::pair<std::string, std::string>> reviews = {
      {"aclImdb/train/pos/3_9.txt", "Great <br />film"},     {"aclImdb/train/neg/7_2.txt", "Awful"},
      {"aclImdb/test/pos/1_10.txt", "Loved it."},            {"aclImdb/test/neg/4_1.txt", "No."},
      {"aclImdb/train/unsup/5_0.txt", "Saw it once."},       {"aclImdb/README", "not a review"}};
  write(corpus / "imdb_archive" / "reviews.tar", archive_in_memory(reviews, "none"));
  write(corpus / "imdb_archive" / "reviews.tar.gz", archive_in_memory(reviews, "gzip"));
  write(corpus / "imdb_archive" / "reviews.tar.xz", archive_in_memory(reviews, "xz"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_seeds MODELS_DIR CORPUS_DIR\n";
    return 2;
  }
  try {
    const fs::path models = argv[1], corpus = argv[2];
    classifier_seeds(models, corpus);
    translator_seeds(models, corpus);
    for (const auto& file : fs::directory_iterator(models))
      if (file.path().extension() == ".json" && file.path().stem().string().find('.') == std::string::npos)
        fs::copy_file(file.path(), corpus / "config" / ("train-" + file.path().filename().string()),
                      fs::copy_options::overwrite_existing);
    text_seeds(corpus);
  } catch (const std::exception& e) {
    std::cerr << "make_seeds: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
