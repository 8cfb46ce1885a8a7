// The compact n-gram vocabulary (text/ngram_list.hpp, io/ngram_layout.hpp): the layout, the bytes
// and their decoder on malformed input, model files that store it and load back exactly, and the
// one int8 scale of a large table of one value per row.
#include <catch2/catch.hpp>
#include <algorithm>
#include <set>
#include <cstdio>
#include <unistd.h>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "helpers.hpp"
#include "io/model_file.hpp"
#include "io/ngram_layout.hpp"
#include "io/safetensors.hpp"
#include "pipeline/classify.hpp"
#include "text/ngram_list.hpp"
#include "train/session.hpp"
#include "train/synthetic.hpp"
#include "train/trainer.hpp"

using namespace attnlens;

namespace {

Vocabulary::Builder builder_of(const Vocabulary& vocabulary, int count) {
  Vocabulary::Builder builder;
  for (int32_t id = 0; id < count; ++id) builder.add(vocabulary.word(id));
  return builder;
}

std::vector<std::string> decoded(const Vocabulary& vocabulary, int words, const std::vector<uint8_t>& bytes, int order = 3) {
  Vocabulary::Builder builder = builder_of(vocabulary, words);
  decode_ngram_list(bytes.data(), bytes.size(), order, vocabulary.size() - words, builder);
  return std::move(builder).build().words();
}

// A mixed vocabulary: n-grams before words, one of an unknown word, one of <unk>, one too long.
Vocabulary mixed() {
  return Vocabulary({"<pad>", "<unk>", "not good", "the", "not", "good", "the film", "film", "not good film", "zzz film",
                     "<unk> film", "the film not good"});
}

std::vector<LabelledText> cue_data() {
  std::vector<LabelledText> data;
  for (const auto& t : make_cue_task(CueTaskOptions{600, 12, 10, 0.4, 7})) data.push_back({t.text, t.label});
  return data;
}

std::vector<double> logits(ClassifierBundle& bundle, const std::vector<std::string>& texts) {
  std::vector<double> out;
  for (const std::string& text : texts) out.push_back(classify(bundle, text).logit);
  return out;
}

const std::vector<std::string> kTexts = {"not good at all , not good", "a good film", "zzz", "", "good good bad not bad"};

}  // namespace

TEST_CASE("n-gram list: the layout puts the words first and the n-grams in order, and the bytes round-trip", "[ngram_list]") {
  const Vocabulary vocabulary = mixed();
  CHECK(ngram_layout_words(vocabulary, 3) == -1);
  const NgramLayout layout = ngram_layout(vocabulary, 3);
  CHECK(layout.words == 6);
  CHECK(layout.vocabulary.words() ==
        std::vector<std::string>{"<pad>", "<unk>", "the", "not", "good", "film", "the film", "not good", "not good film"});
  CHECK(layout.new_ids == std::vector<int32_t>{0, 1, 7, 2, 3, 4, 6, 5, 8, -1, -1, -1});
  CHECK(ngram_layout_words(layout.vocabulary, 3) == 6);
  CHECK(ngram_layout_words(layout.vocabulary, 2) == -1);  // a 3-word n-gram is not one of order 2
  CHECK(ngram_layout(layout.vocabulary, 2).vocabulary.size() == 8);
  const std::vector<uint8_t> bytes = encode_ngram_list(layout.vocabulary, layout.words);
  CHECK(decoded(layout.vocabulary, layout.words, bytes) == layout.vocabulary.words());

  // Many n-grams: about two bytes each, back exactly.
  std::vector<std::string> words = {"<pad>", "<unk>"};
  for (int i = 0; i < 3000; ++i) words.push_back("w" + std::to_string(i));
  Rng rng(5);
  std::set<std::string> grams;
  while (grams.size() < 20000) {
    const auto word = [&] { return words[2 + rng.below(3000)]; };
    std::string gram = word() + " " + word();
    if (rng.below(2) == 0) gram += " " + word();
    grams.insert(gram);
  }
  std::vector<std::string> entries = words;
  entries.insert(entries.end(), grams.begin(), grams.end());
  const NgramLayout large = ngram_layout(Vocabulary(entries), 3);
  REQUIRE(large.vocabulary.size() == static_cast<int>(entries.size()));
  const std::vector<uint8_t> list = encode_ngram_list(large.vocabulary, large.words);
  INFO(list.size() << " bytes for 20,000 n-grams of 3,000 words");
  CHECK(list.size() < 20000 * 4);  // sparse: real n-grams share more (2.2 bytes for the shipped trigram model's)
  CHECK(decoded(large.vocabulary, large.words, list) == large.vocabulary.words());
  CHECK_THROWS_WITH(encode_ngram_list(vocabulary, 2), Catch::Contains("not an n-gram of the vocabulary's words"));
}

TEST_CASE("n-gram list: the decoder refuses every malformed list by name", "[ngram_list][hostile]") {
  const NgramLayout layout = ngram_layout(mixed(), 3);
  const std::vector<uint8_t> good = encode_ngram_list(layout.vocabulary, layout.words);
  const auto refused = [&](const std::vector<uint8_t>& bytes, const std::string& message, int order = 3, int count = 3) {
    Vocabulary::Builder builder = builder_of(layout.vocabulary, layout.words);
    INFO(message);
    CHECK_THROWS_WITH(decode_ngram_list(bytes.data(), bytes.size(), order, count, builder), Catch::Contains(message));
  };
  for (size_t cut = 0; cut < good.size(); ++cut)
    refused(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)), "n-gram list:");
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  refused(longer, "1 bytes after the last n-gram");
  refused(good, "it holds 3 n-grams, the config 4", 3, 4);
  refused(good, "3-word n-grams in a model of 2-word n-grams", 2);
  refused({1, 0, 0}, "does not follow the one before", 3, 1);               // a step of 0
  refused({1, 0, 2 * 60, 3}, "names word 60, not one of the vocabulary's 6 words", 3, 1);
  refused({1, 0, 2 * 2, 1}, "names word 1, not one of the vocabulary's 6 words", 3, 1);  // <unk>
  refused({1, 0, 2 * 2 + 1}, "names word 0", 3, 1);                          // k = 1 first: word 0
  refused({0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "longer than 5 bytes");
  refused({0xff, 0xff, 0xff, 0xff, 0x7f}, "beyond 32 bits");
  refused({0xff, 0xff, 0x03, 0, 4, 3}, "cannot fit in", 3, 65535);

  // A few bytes naming n-grams of long words: refused before their texts pass 32 MiB.
  {
    Vocabulary::Builder long_words;
    long_words.add(Vocabulary::kPadToken);
    long_words.add(Vocabulary::kUnkToken);
    for (int i = 0; i < 20; ++i) long_words.add(std::string(size_t{1} << 20, static_cast<char>('a' + i)));  // 1 MiB each
    std::vector<uint8_t> list = {20, 0, 2 * 2, 2};  // "w2 w2", then "w3 w3", …: 2 MiB each, 40 MiB in all
    for (int i = 3; i < 22; ++i) list.insert(list.end(), {2 * 1, static_cast<uint8_t>(i)});
    CHECK_THROWS_WITH(decode_ngram_list(list.data(), list.size(), 2, 20, long_words), Catch::Contains("exceed 32 MiB"));
    CHECK(long_words.size() == 2 + 20 + 15);  // 15 n-grams of 2 MiB + 1 fit; the 16th does not
  }

  // Random damage: refused with attnlens::Error, or n-grams in order (so none twice) that build.
  Rng rng(9);
  int refusals = 0, accepted = 0;
  for (int round = 0; round < 4000; ++round) {
    std::vector<uint8_t> bytes = good;
    for (int k = 0, flips = 1 + static_cast<int>(rng.below(3)); k < flips; ++k)
      bytes[rng.below(bytes.size())] = static_cast<uint8_t>(rng.below(256));
    Vocabulary::Builder builder = builder_of(layout.vocabulary, layout.words);
    try {
      decode_ngram_list(bytes.data(), bytes.size(), 3, 3, builder);
      const Vocabulary built = std::move(builder).build();
      CHECK(ngram_layout_words(built, 3) == layout.words);
      ++accepted;
    } catch (const Error&) {
      ++refusals;
    }
  }
  INFO(refusals << " refused, " << accepted << " accepted");
  CHECK(refusals > 0);
}

TEST_CASE("n-gram list in model files: n-gram models and n-gram paths store their n-grams compactly and load back exactly",
          "[ngram_list][safetensors]") {
  const std::vector<LabelledText> data = cue_data();
  ClassifierConfig ngram = ClassifierConfig::from_json(
      {{"architecture", "ngram"}, {"ngram_order", 3}, {"embedding_dim", 1}, {"pooling", "sum"}});
  ClassifierConfig path;
  path.embedding_dim = 4;
  path.hidden_size = 4;
  path.ngram_path = 2;
  path.embedding_words = 8;
  for (const ClassifierConfig& config : {ngram, path}) {
    const bool is_path = config.ngram_path > 0;
    DYNAMIC_SECTION(config.describe()) {
      PreparedTraining prepared =
          prepare_training(config, data, is_path ? DatasetOptions{8, 1, 0.25, 3, 400, 1} : DatasetOptions{400, 1, 0.25, 3});
      ClassifierBundle& bundle = prepared.bundle;
      // Training builds the vocabulary in the layout (a path's network words first, as before).
      const int words = ngram_layout_words(bundle.vocabulary, is_path ? 2 : 3);
      REQUIRE(words > 2);
      REQUIRE(words < bundle.vocabulary.size());
      TrainOptions options;
      options.epochs = 1;
      options.batch_size = 16;
      options.learning_rate = 0.02;
      options.threads = 1;
      Trainer(*bundle.model, options).fit(prepared.examples, prepared.split.train, prepared.split.validation,
                                         [](const EpochStats&) {});
      const std::vector<double> before = logits(bundle, kTexts);

      const std::vector<uint8_t> bytes = serialize_classifier(bundle);
      const safetensors::File file = safetensors::File::parse(bytes.data(), bytes.size(), "compact");
      REQUIRE(file.tensors().count(kNgramListTensor) == 1);
      CHECK(file.tensors().at(kNgramListTensor).dtype == "U8");
      CHECK(nlohmann::json::parse(file.metadata().at("vocabulary")).size() == static_cast<size_t>(words));
      ClassifierBundle loaded = load_classifier(bytes.data(), bytes.size(), "compact");
      CHECK(loaded.vocabulary.words() == bundle.vocabulary.words());
      CHECK(logits(loaded, kTexts) == before);
      CHECK(serialize_classifier(loaded) == bytes);
      // The loader binds the n-grams from the decoder's word ids (bind_ngrams): the same table as
      // reading their texts back (bind_vocabulary), each n-gram found as itself.
      Classifier rebound(*loaded.model);
      rebound.bind_vocabulary(loaded.vocabulary);
      for (int32_t id = words; id < loaded.vocabulary.size(); ++id) {
        std::vector<int32_t> ids;
        const std::string entry(loaded.vocabulary.word(id));
        for (size_t begin = 0, end; begin <= entry.size(); begin = end + 1) {
          end = std::min(entry.find(' ', begin), entry.size());
          ids.push_back(loaded.vocabulary.id(entry.substr(begin, end - begin)));
        }
        const std::vector<int32_t> features = loaded.model->ngram_features(ids);
        CHECK(features == rebound.ngram_features(ids));
        CHECK(std::count(features.begin(), features.end(), id) == 1);
      }

      // The same model with its entries reversed (n-grams before words): stored as before, as JSON
      // strings; put in the layout, it computes exactly the same.
      std::vector<std::string> reversed = bundle.vocabulary.words();
      std::reverse(reversed.begin() + (is_path ? 8 : 2), reversed.end());
      ClassifierBundle old;
      old.vocabulary = Vocabulary(reversed);
      old.tokenizer = bundle.tokenizer;
      old.model = std::make_unique<Classifier>(bundle.model->config());
      const std::string table = is_path ? "ngrams.weight" : "embedding.weight";
      const auto from = bundle.model->parameters(), to = old.model->parameters();
      for (size_t i = 0; i < from.size(); ++i) {
        to[i]->value = from[i]->value;
        if (from[i]->name == table)
          for (int32_t id = 0; id < bundle.vocabulary.size(); ++id)
            to[i]->value.row(old.vocabulary.id(bundle.vocabulary.word(id))) = from[i]->value.row(id);
      }
      old.model->bind_vocabulary(old.vocabulary);
      CHECK(logits(old, kTexts) == before);
      const std::vector<uint8_t> legacy = serialize_classifier(old);
      CHECK(safetensors::File::parse(legacy.data(), legacy.size(), "legacy").tensors().count(kNgramListTensor) == 0);
      ClassifierBundle legacy_loaded = load_classifier(legacy.data(), legacy.size(), "legacy");
      CHECK(legacy_loaded.vocabulary.words() == reversed);
      put_in_ngram_layout(legacy_loaded);
      CHECK(ngram_layout_words(legacy_loaded.vocabulary, is_path ? 2 : 3) == words);
      if (is_path)  // the network's words keep their ids
        for (int32_t id = 0; id < 8; ++id) CHECK(legacy_loaded.vocabulary.word(id) == bundle.vocabulary.word(id));
      CHECK(logits(legacy_loaded, kTexts) == before);
      CHECK(serialize_classifier(legacy_loaded).size() < legacy.size());

      // Hostile compact files: refused by name.
      const auto refused = [&](nlohmann::json header, const std::string& message) {
        const std::string text = header.dump();
        std::vector<uint8_t> changed(8);
        for (int i = 0; i < 8; ++i) changed[static_cast<size_t>(i)] = static_cast<uint8_t>(text.size() >> (8 * i));
        changed.insert(changed.end(), text.begin(), text.end());
        uint64_t length = 0;
        for (int i = 7; i >= 0; --i) length = length << 8 | bytes[static_cast<size_t>(i)];
        changed.insert(changed.end(), bytes.begin() + 8 + static_cast<std::ptrdiff_t>(length), bytes.end());
        CHECK_THROWS_WITH(load_classifier(changed.data(), changed.size(), "hostile"), Catch::Contains(message));
      };
      uint64_t length = 0;
      for (int i = 7; i >= 0; --i) length = length << 8 | bytes[static_cast<size_t>(i)];
      const nlohmann::json header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(length));
      nlohmann::json h = header;
      nlohmann::json config_json = nlohmann::json::parse(h["__metadata__"]["config"].get<std::string>());
      config_json["vocab_size"] = config_json["vocab_size"].get<int>() + 1;
      h["__metadata__"]["config"] = config_json.dump();
      refused(h, "the config " + std::to_string(bundle.vocabulary.size() - words + 1));
      h = header;
      std::vector<std::string> spaced = nlohmann::json::parse(h["__metadata__"]["vocabulary"].get<std::string>());
      spaced[2] += " x";
      h["__metadata__"]["vocabulary"] = nlohmann::json(spaced).dump();
      refused(h, "word 2 holds a space");
      h = header;
      h[kNgramListTensor]["dtype"] = "I8";
      refused(h, "must be U8 of one dimension");
    }
  }
}

TEST_CASE("int8: a large tensor of one value per row gets one scale, a small one stays float32", "[safetensors][storage]") {
  Parameter table("table", {2000, 1}), small("small", {10, 1});
  Rng rng(3);
  for (Eigen::Index r = 0; r < 2000; ++r) table.value(r, 0) = static_cast<Scalar>(rng.uniform() * 2 - 1);
  for (Eigen::Index r = 0; r < 10; ++r) small.value(r, 0) = static_cast<Scalar>(r) / 7;
  const std::vector<uint8_t> bytes = safetensors::serialize({&table, &small}, {}, safetensors::WeightStorage::Int8);
  const safetensors::File file = safetensors::File::parse(bytes.data(), bytes.size(), "one scale");
  CHECK(file.tensors().at("table").dtype == "I8");
  CHECK(file.tensors().at("table.scale").shape == std::vector<int64_t>{1});
  CHECK(file.tensors().at("small").dtype == "F32");
  CHECK(file.tensors().count("small.scale") == 0);
  CHECK(bytes.size() < 2000 + 10 * 4 + 400);
  ParamMatrix back(2000, 1), small_back(10, 1);
  file.read_parameter("table", {2000, 1}, back);
  file.read_parameter("small", {10, 1}, small_back);
  const double step = table.value.cwiseAbs().maxCoeff() / 127;
  CHECK((back - table.value).cwiseAbs().maxCoeff() <= step / 2 * (1 + 1e-5));
  CHECK(small_back == small.value);
  // Two values per row: a scale per row, as before.
  Parameter pairs("pairs", {1000, 2});
  pairs.value.setConstant(0.5);
  const std::vector<uint8_t> two = safetensors::serialize({&pairs}, {}, safetensors::WeightStorage::Int8);
  CHECK(safetensors::File::parse(two.data(), two.size(), "per row").tensors().at("pairs.scale").shape ==
        std::vector<int64_t>{1000});
  // A scale per row where one is due, and one scale for a small tensor, are refused by name.
  const auto file_of = [](int64_t rows, int64_t scales) {
    const nlohmann::json header = {
        {"t", {{"dtype", "I8"}, {"shape", {rows, 1}}, {"data_offsets", {0, rows}}}},
        {"t.scale", {{"dtype", "F32"}, {"shape", {scales}}, {"data_offsets", {rows, rows + 4 * scales}}}}};
    const std::string text = header.dump();
    std::vector<uint8_t> out(8);
    for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(text.size() >> (8 * i));
    out.insert(out.end(), text.begin(), text.end());
    out.resize(out.size() + static_cast<size_t>(rows + 4 * scales), 0);
    return out;
  };
  ParamMatrix into(2000, 1), into_small(10, 1);
  const std::vector<uint8_t> per_row = file_of(2000, 2000), one_small = file_of(10, 1), right = file_of(2000, 1);
  CHECK_THROWS_WITH(safetensors::File::parse(per_row.data(), per_row.size(), "f").read_parameter("t", {2000, 1}, into),
                    Catch::Contains("'t.scale' must be F32 of shape [1]"));
  CHECK_THROWS_WITH(safetensors::File::parse(one_small.data(), one_small.size(), "f").read_parameter("t", {10, 1}, into_small),
                    Catch::Contains("'t.scale' must be F32 of shape [10]"));
  CHECK_NOTHROW(safetensors::File::parse(right.data(), right.size(), "f").read_parameter("t", {2000, 1}, into));
}
