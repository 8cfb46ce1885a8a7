// The loader trusts nothing: each kind of corrupt or hostile file gets an error that
// names the problem, never a crash. Also: a full model save/load round trip.

#include <catch2/catch.hpp>
#include <malloc.h>
#include <unistd.h>
#include <cmath>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/json_integer.hpp"
#include "data_helpers.hpp"
#include "helpers.hpp"
#include "io/json_text.hpp"
#include "io/model_file.hpp"
#include "io/safetensors.hpp"
#include "io/translator_file.hpp"
#include "pipeline/classify.hpp"

using namespace attnlens;
using attnlens::testing::small_bundle;
using nlohmann::json;

namespace {

std::vector<uint8_t> from_parts(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes(8 + header.size() + data.size());
  const uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(length >> (8 * i));
  std::copy(header.begin(), header.end(), bytes.begin() + 8);
  std::copy(data.begin(), data.end(), bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header.size()));
  return bytes;
}

// Splits valid model bytes into (header JSON, data block) so tests can corrupt one part.
std::pair<json, std::vector<uint8_t>> split_file(const std::vector<uint8_t>& bytes) {
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | bytes[i];
  const json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(length));
  return {header, std::vector<uint8_t>(bytes.begin() + 8 + static_cast<std::ptrdiff_t>(length), bytes.end())};
}

void expect_rejected(const std::vector<uint8_t>& bytes, const std::string& message_part) {
  CHECK_THROWS_WITH(load_classifier(bytes.data(), bytes.size(), "model.safetensors"), Catch::Contains(message_part));
}

// What the loader may take to load a file of n bytes: 2n (the bytes read, and the weights built
// from them) plus a fixed overhead. The overhead covers reading the header (nlohmann's lexer holds
// up to about four copies of its longest string, and the header is at most 16 MiB), the JSON
// trees of the config and provenance (at most 65,536 values each) and the program itself.
constexpr uint64_t kFixedOverhead = uint64_t{96} << 20;

// What loading a file did in a child process whose address space could grow by at most
// 2 × the file's size + kFixedOverhead: its error message (or "loaded"; "died" or a message that is
// not attnlens' own, such as std::bad_alloc, when it went past the limit), and how far its
// resident memory grew, reading the file included.
struct LimitedLoad {
  std::string message;
  uint64_t resident_growth = 0;
};

template <class Load>
LimitedLoad load_within_twice_its_size(const std::vector<uint8_t>& bytes, const std::string& name, Load load) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("attnlens-" + std::to_string(getpid()) + "-" + name)).string();
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  const std::string outcome = testing::run_with_memory_limit(2 * bytes.size() + kFixedOverhead, [&]() -> std::string {
    malloc_trim(0);  // the free memory inherited from the parent goes back, so what the load takes shows
    std::ofstream("/proc/self/clear_refs") << "5";  // and the resident high-water mark starts from now
    const auto resident = [](const char* field) {
      std::ifstream status("/proc/self/status");
      std::string line;
      while (std::getline(status, line))
        if (line.rfind(field, 0) == 0) return std::stoull(line.substr(std::strlen(field))) * 1024;
      return 0ull;
    };
    const uint64_t before = resident("VmRSS:");
    std::string message = "loaded";
    try {
      load(path);
    } catch (const Error& e) {
      message = e.what();
    }
    return std::to_string(resident("VmHWM:") - before) + " " + message;
  });
  std::filesystem::remove(path);
  LimitedLoad result;
  const size_t space = outcome.find(' ');
  if (space != std::string::npos && std::isdigit(static_cast<unsigned char>(outcome[0]))) {
    result.resident_growth = std::stoull(outcome.substr(0, space));
    result.message = outcome.substr(space + 1);
  } else {
    result.message = outcome;
  }
  return result;
}

std::string load_in_limited_child(const std::vector<uint8_t>& bytes) {
  return load_within_twice_its_size(bytes, "bomb.safetensors", [](const std::string& path) { load_classifier(path); }).message;
}

}  // namespace

TEST_CASE("JSON text: one value, exactly as nlohmann reads it, a key named twice refused at any depth", "[json]") {
  using attnlens::parse_json;
  using nlohmann::json;
  const std::string text = R"({"a": [1, 2.5, "x", null, true], "b": {"c": {}, "d": [{"e": -3}]}, "ü": "\u00e9"})";
  CHECK(parse_json(text, "t") == json::parse(text));
  CHECK(parse_json(" 7 ", "t") == json(7));
  // Keys may repeat in different objects, never within one.
  CHECK(parse_json(R"([{"k": 1}, {"k": 2}, {"o": {"k": 3}, "k": 4}])", "t").size() == 3);
  const std::vector<std::pair<std::string, std::string>> refused = {
      {R"({"k": 1, "k": 2})", "t names 'k' twice"},
      {R"({"a": [{"b": {"k": 1, "j": 0, "k": 1}}]})", "t names 'k' twice"},
      {R"({"k": 1} {"k": 2})", "t is not valid JSON"},
      {R"({"k": 1,})", "t is not valid JSON"},
      {"", "t is not valid JSON"},
      {"[1e999]", "t is not valid JSON"},
      {std::string("\"\xFF\""), "t is not valid JSON"},
  };
  for (const auto& [bad, message] : refused) {
    INFO(bad);
    CHECK_THROWS_WITH(parse_json(bad, "t"), Catch::Contains(message));
  }
}

TEST_CASE("JSON integers: a whole number in range, never wrapped or cast out of range", "[json]") {
  using attnlens::json_integer;
  CHECK(json_integer<int>(json::parse("64"), "k") == 64);
  CHECK(json_integer<int>(json::parse("64.0"), "k") == 64);
  CHECK(json_integer<int>(json::parse("-2147483648"), "k") == std::numeric_limits<int>::min());
  CHECK(json_integer<uint64_t>(json::parse("18446744073709551615"), "k") == std::numeric_limits<uint64_t>::max());
  CHECK(json_integer<int64_t>(json::parse("-9.223372036854775808e18"), "k") == std::numeric_limits<int64_t>::min());
  for (const char* bad : {"4294967300", "2147483648", "1.5", "1e30", "184467440737095516154294967296", "-1e300", "\"7\"",
                          "true", "null", "[1]"}) {
    INFO(bad);
    CHECK_THROWS_WITH(json_integer<int>(json::parse(bad), "config.embedding_dim"),
                      Catch::Contains("config.embedding_dim: expected a whole number"));
  }
  CHECK_THROWS_WITH(json_integer<int>(json::parse("4294967300"), "k"), "k: expected a whole number that fits, got 4294967300");
  CHECK_THROWS_WITH(json_integer<int>(json::parse("2.5"), "k"), "k: expected a whole number that fits, got 2.5");
  CHECK_THROWS_WITH(json_integer<int>(json::parse("\"7\""), "k"), "k: expected a whole number, got string");
  CHECK_THROWS_AS(json_integer<int64_t>(json::parse("9.223372036854775808e18"), "k"), Error);  // 2^63
  CHECK_THROWS_AS(json_integer<uint64_t>(json::parse("-1"), "k"), Error);
  // Through the configs: 4294967300 was read as 4 before (nlohmann's get<int>() wraps it).
  CHECK_THROWS_WITH(ClassifierConfig::from_json({{"embedding_dim", 4294967300ull}}),
                    Catch::Contains("config.embedding_dim: expected a whole number"));
  CHECK_THROWS_WITH(ClassifierConfig::from_json({{"dense", {8, 1e30}}}), Catch::Contains("config.dense[1]: expected a whole number"));
  CHECK_THROWS_WITH(TranslatorConfig::from_json({{"hidden_size", 1e300}}), Catch::Contains("config.hidden_size: expected a whole number"));
  CHECK(ClassifierConfig::from_json({{"embedding_dim", 32.0}}).embedding_dim == 32);
}

TEST_CASE("no config makes the loader allocate weights the file does not hold (memory bombs)", "[safetensors][hostile]") {
  // A 6-word model's file, its config swapped for sizes that would need gigabytes: each is refused,
  // naming the first parameter the file cannot pay for (with ParameterBudget::kSlack, 65,536 values
  // of slack), before that parameter is allocated.
  const auto parts = split_file(serialize_classifier(small_bundle()));  // (clang 14 cannot capture structured bindings)
  const json& header = parts.first;
  const std::vector<uint8_t>& data = parts.second;
  const json lstm = {{"type", "lstm"}, {"size", 4096}, {"bidirectional", true}};
  const std::vector<std::pair<json, std::string>> bombs = {
      // 6 × 4,096 embeddings, then two 4,096-unit LSTM directions: 0.9 G values
      {{{"embedding_dim", 4096}, {"encoder", json::array({lstm})}, {"pooling", "attention"}}, "rnn.weight_ih_l0"},  // either direction first
      // a recurrent layer's size: 3 × 4,096 × 4,099 values for the GRU's gates
      {{{"embedding_dim", 3}, {"encoder", json::array({{{"type", "gru"}, {"size", 4096}}, {{"type", "lstm"}, {"size", 4096}}})}},
       "rnn.weight_hh_l0 (12288 × 4096)"},
      // 24 Transformer layers of 4,096 channels and 16,384 feed-forward units: 4.8 G values
      {{{"embedding_dim", 4096}, {"encoder", json::array({{{"type", "transformer"}, {"layers", 24}, {"heads", 64}, {"feedforward", 16384}}})},
        {"pooling", "mean"}},
       "encoder.layers.0.self_attn.in_proj_weight (12288 × 4096)"},
      {{{"embedding_dim", 3}, {"encoder", json::array({{{"type", "conv1d"}, {"size", 4096}, {"kernel_size", 64}}})}, {"pooling", "max"}},
       "conv0.weight (4096 × 3 × 64)"},
      // dense layers of 4,096 after the small encoder: 16.8 M values each after the first
      {{{"dense", json::array({4096, 4096, 4096, 4096})}}, "dense1.weight (4096 × 4096)"},
  };
  for (const auto& [changes, first_refused] : bombs) {
    json config = json::parse(header["__metadata__"]["config"].get<std::string>());
    for (const auto& [key, value] : changes.items()) config[key] = value;
    json h = header;
    h["__metadata__"]["config"] = config.dump();
    INFO(config.dump());
    const std::string message = load_in_limited_child(from_parts(h.dump(), data));
    CHECK_THAT(message, Catch::Contains("-bomb.safetensors: the config's sizes need more weights than the file holds: " + first_refused));
  }
}

TEST_CASE("no model file makes the loader allocate more than twice its size (every size field)", "[safetensors][hostile]") {
  // Each file is loaded by path, as the CLI does, in a child whose address space may grow by
  // 2 × the file + kFixedOverhead (reading the file included): refused by name, or loaded.
  const auto parts = split_file(serialize_classifier(small_bundle()));
  const json& header = parts.first;
  const std::vector<uint8_t>& data = parts.second;
  const int many = 1 << 20;  // the most words a config allows
  json words = json::array({"<pad>", "<unk>"});
  for (int i = 2; i < many; ++i) words.push_back("w" + std::to_string(i));
  const std::string vocabulary = words.dump();
  const auto with = [&](const std::function<void(json&)>& change) {
    json h = header;
    change(h);
    return from_parts(h.dump(), data);
  };
  const auto with_config = [&](json& h, const char* key, const json& value) {
    json config = json::parse(h["__metadata__"]["config"].get<std::string>());
    config[key] = value;
    h["__metadata__"]["config"] = config.dump();
  };

  // A model of these words, `dim` numbers each (a BiLSTM of 2).
  const auto bundle_of = [](const std::vector<std::string>& vocabulary_words, int dim) {
    ClassifierConfig config;
    config.vocab_size = static_cast<int>(vocabulary_words.size());
    config.embedding_dim = dim;
    config.hidden_size = 2;
    ClassifierBundle bundle;
    bundle.model = std::make_unique<Classifier>(config);
    Rng rng(1);
    bundle.model->init(rng);
    bundle.vocabulary = Vocabulary(vocabulary_words);
    return bundle;
  };
  // A valid model as large as a config allows in words: 2^20 words, 4 numbers each.
  const ClassifierBundle large = bundle_of(words.get<std::vector<std::string>>(), 4);
  std::vector<uint8_t> huge_length(1024, 0);
  huge_length[2] = 0x00;
  huge_length[3] = 0x01;  // 16 MiB of header announced, 1 KB present

  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    std::string expected;  // part of the error, or "loaded"
  };
  std::vector<Case> cases;
  cases.push_back({"config.vocab_size 2^20 with 2^20 words, no embedding for them",
                   with([&](json& h) {
                     with_config(h, "vocab_size", many);
                     h["__metadata__"]["vocabulary"] = vocabulary;
                   }),
                   "the config's sizes need more weights than the file holds: embedding.weight"});
  cases.push_back({"2^20 words where config.vocab_size is 6", with([&](json& h) { h["__metadata__"]["vocabulary"] = vocabulary; }),
                   "__metadata__.vocabulary has more than 6 words, config.vocab_size is 6"});
  cases.push_back({"200,000 tensors",
                   with([&](json& h) {
                     for (int i = 0; i < 200000; ++i)
                       h["t" + std::to_string(i)] = {{"dtype", "F32"}, {"shape", {0}}, {"data_offsets", {0, 0}}};
                   }),
                   "header holds more than 65536 JSON values"});
  cases.push_back({"a provenance of 8,000,000 numbers",
                   with([&](json& h) {
                     std::string zeros = "[";
                     for (int i = 1; i < 8000000; ++i) zeros += "0,";
                     h["__metadata__"]["provenance"] = zeros + "0]";
                   }),
                   "__metadata__.provenance holds more than 65536 JSON values"});
  cases.push_back({"a header length of 16 MiB in a 1 KB file", huge_length, "is larger than the"});
  cases.push_back({"a tensor of 2^31 × 2^31 values", with([&](json& h) { h["fc.weight"]["shape"] = {1ll << 31, 1ll << 31}; }),
                   "tensor 'fc.weight': data_offsets span 16 bytes but F32 [2147483648, 2147483648] needs"});
  cases.push_back({"a 16,000,000-character description", with([&](json& h) { h["__metadata__"]["description"] = std::string(16000000, 'x'); }),
                   "loaded"});
  cases.push_back({"a valid model of 2^20 words", serialize_classifier(large), "loaded"});

  for (const Case& c : cases) {
    INFO(c.what << " (" << c.bytes.size() << " bytes)");
    const LimitedLoad load = load_within_twice_its_size(c.bytes, "hostile.safetensors", [](const std::string& path) { load_classifier(path); });
    CHECK_THAT(load.message, Catch::Contains(c.expected));
    INFO("resident memory grew by " << load.resident_growth << " bytes");
#ifndef ATTNLENS_TESTS_UNDER_ASAN  // (AddressSanitizer's allocator keeps freed memory in quarantine)
    CHECK(load.resident_growth <= 2 * c.bytes.size() + kFixedOverhead);
#endif
  }

  // The writer refuses a header no loader would read: 2^20 words of 20 bytes.
  {
    std::vector<std::string> long_words{"<pad>", "<unk>"};
    for (int i = 2; i < many; ++i) long_words.push_back("a-rather-long-" + std::to_string(1000000 + i));
    CHECK_THROWS_WITH(serialize_classifier(bundle_of(long_words, 1)), Catch::Contains("more than the 16777216 a loader accepts"));
  }

  // The translator's own size fields: each needs weights its file does not hold.
  const auto translator = split_file(serialize_translator(testing::small_translator_bundle()));
  for (const char* field : {"source_vocab_size", "target_vocab_size", "hidden_size", "embedding_dim", "decoder_size", "output_size"}) {
    json h = translator.first;
    json config = json::parse(h["__metadata__"]["config"].get<std::string>());
    config[field] = std::string(field).find("vocab") != std::string::npos ? many : 4096;
    h["__metadata__"]["config"] = config.dump();
    if (std::string(field) == "source_vocab_size") h["__metadata__"]["source_vocabulary"] = vocabulary;
    const std::vector<uint8_t> bytes = from_parts(h.dump(), translator.second);
    INFO(field << " (" << bytes.size() << " bytes)");
    const LimitedLoad load = load_within_twice_its_size(bytes, "hostile-translator.safetensors", [](const std::string& path) { load_translator(path); });
    CHECK_THAT(load.message, Catch::Contains("weights, but its config describes"));
#ifndef ATTNLENS_TESTS_UNDER_ASAN
    CHECK(load.resident_growth <= 2 * bytes.size() + kFixedOverhead);
#endif
  }
}

TEST_CASE("model file round trip keeps weights, vocabulary, config and provenance", "[safetensors]") {
  const ClassifierBundle bundle = small_bundle();
  const auto path = (std::filesystem::temp_directory_path() / "attnlens-roundtrip.safetensors").string();
  save_classifier(path, bundle);
  ClassifierBundle loaded = load_classifier(path);
  CHECK(loaded.vocabulary.words() == bundle.vocabulary.words());
  CHECK(loaded.model->config().to_json() == bundle.model->config().to_json());
  CHECK(loaded.provenance["seed"] == 1);
  auto a = bundle.model->parameters(), b = loaded.model->parameters();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i]->value == b[i]->value);
  // The container is plain safetensors: 8-byte length, JSON, data with PyTorch names.
  const json header = split_file(serialize_classifier(bundle)).first;
  CHECK(header.contains("embedding.weight"));
  CHECK(header["rnn.weight_ih_l0"]["shape"] == json::array({8, 3}));
  CHECK(header["rnn.weight_hh_l0_reverse"]["shape"] == json::array({8, 2}));
  CHECK(header["fc.weight"]["shape"] == json::array({1, 4}));
  CHECK(header["__metadata__"]["format"] == "attnlens.classifier");
  std::filesystem::remove(path);
}

TEST_CASE("save is atomic: no temporary file is left and a failed save keeps the old file", "[safetensors]") {
  const auto dir = std::filesystem::temp_directory_path() / "attnlens-atomic";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "m.safetensors").string();
  save_classifier(path, small_bundle());
  const auto size = std::filesystem::file_size(path);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) CHECK(entry.path().filename() == "m.safetensors");
  CHECK_THROWS_WITH(save_classifier((dir / "missing-folder" / "m.safetensors").string(), small_bundle()),
                    Catch::Contains("cannot open for writing"));
  CHECK(std::filesystem::file_size(path) == size);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the loader rejects corrupt and hostile files with a named error", "[safetensors][hostile]") {
  const std::vector<uint8_t> good = serialize_classifier(small_bundle());
  REQUIRE_NOTHROW(load_classifier(good.data(), good.size(), "model.safetensors"));
  const auto parts = split_file(good);  // (clang 14 cannot capture structured bindings)
  const json& header = parts.first;
  const std::vector<uint8_t>& data = parts.second;

  SECTION("empty and too short") {
    expect_rejected({}, "too short");
    expect_rejected({1, 2, 3}, "too short");
  }
  SECTION("truncated file") {
    expect_rejected(std::vector<uint8_t>(good.begin(), good.end() - 10), "past the");
    expect_rejected(std::vector<uint8_t>(good.begin(), good.begin() + 20), "larger than the");
  }
  SECTION("wrong header length") {
    std::vector<uint8_t> bytes = good;
    bytes[0] = static_cast<uint8_t>(bytes[0] + 3);  // header now ends inside the data block
    CHECK_THROWS_AS(load_classifier(bytes.data(), bytes.size(), "m"), Error);
  }
  SECTION("huge header length") {
    std::vector<uint8_t> bytes = good;
    for (int i = 0; i < 8; ++i) bytes[i] = 0xFF;
    expect_rejected(bytes, "exceeds the limit");
  }
  SECTION("bad JSON") {
    expect_rejected(from_parts("{\"a\": [1, 2", data), "not valid JSON");
    expect_rejected(from_parts("[1, 2, 3]", {}), "must be a JSON object");
    expect_rejected(from_parts(std::string("{\"x\":\"\xFF\"}"), {}), "not valid JSON");
  }
  SECTION("duplicate tensor names") {
    std::string text = header.dump();
    const std::string entry = "\"fc.bias\":" + header["fc.bias"].dump();
    text.insert(1, entry + ",");
    expect_rejected(from_parts(text, data), "names 'fc.bias' twice");
  }
  SECTION("missing tensor") {
    json h = header;
    const auto range = h["fc.bias"]["data_offsets"];
    h.erase("fc.bias");
    // Keep the data block consistent: the last tensor's bytes are dropped too when it is the last one.
    std::vector<uint8_t> d = data;
    if (range[1].get<size_t>() == d.size()) d.resize(range[0].get<size_t>());
    expect_rejected(from_parts(h.dump(), d), "'fc.bias' is missing");
  }
  SECTION("wrong shape") {
    json h = header;
    h["fc.weight"]["shape"] = json::array({4, 1});
    expect_rejected(from_parts(h.dump(), data), "tensor 'fc.weight' has shape [4, 1], expected [1, 4]");
  }
  SECTION("wrong dtype") {
    json h = header;
    h["fc.weight"]["dtype"] = "I32";
    expect_rejected(from_parts(h.dump(), data), "tensor 'fc.weight' has dtype I32, expected F32");
    h["fc.weight"]["dtype"] = "F128";
    expect_rejected(from_parts(h.dump(), data), "unknown dtype 'F128'");
  }
  SECTION("offsets out of range") {
    json h = header;
    const uint64_t size = data.size();
    h["fc.bias"]["data_offsets"] = json::array({size, size + 4});
    expect_rejected(from_parts(h.dump(), data), "past the");
    h["fc.bias"]["data_offsets"] = json::array({8, 4});
    expect_rejected(from_parts(h.dump(), data), "begin 8 > end 4");
    h["fc.bias"]["data_offsets"] = json::array({-4, 0});
    expect_rejected(from_parts(h.dump(), data), "non-negative");
  }
  SECTION("overlapping offsets") {
    json h = header;
    h["fc.bias"]["data_offsets"] = h["attention.bias"]["data_offsets"];
    expect_rejected(from_parts(h.dump(), data), "overlaps");
  }
  SECTION("size that does not match dtype and shape") {
    json h = header;
    h["fc.bias"]["shape"] = json::array({2});
    expect_rejected(from_parts(h.dump(), data), "needs 8");
    h["fc.bias"]["shape"] = json::array({4611686018427387904LL, 4611686018427387904LL});
    expect_rejected(from_parts(h.dump(), data), "overflows");
    // A dimension past int64 is refused even when another is 0 (the product would not overflow).
    h["fc.bias"]["shape"] = json::array({0ULL, 18446744073709551615ULL});
    expect_rejected(from_parts(h.dump(), data), "shape entry 18446744073709551615 is too large");
  }
  SECTION("NaN and infinity") {
    std::vector<uint8_t> d = data;
    const size_t at = header["fc.weight"]["data_offsets"][0].get<size_t>() + 4;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(d.data() + at, &nan, 4);
    expect_rejected(from_parts(header.dump(), d), "tensor 'fc.weight' holds a non-finite value");
    const float inf = std::numeric_limits<float>::infinity();
    std::memcpy(d.data() + at, &inf, 4);
    expect_rejected(from_parts(header.dump(), d), "non-finite");
  }
  SECTION("unexpected tensor") {
    json h = header;
    h["extra.weight"] = {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {data.size(), data.size() + 4}}};
    std::vector<uint8_t> d = data;
    d.resize(d.size() + 4, 0);
    expect_rejected(from_parts(h.dump(), d), "unexpected tensor 'extra.weight'");
  }
  SECTION("unused bytes in the data block") {
    std::vector<uint8_t> d = data;
    d.resize(d.size() + 16, 0);
    expect_rejected(from_parts(header.dump(), d), "unused bytes");
  }
  SECTION("metadata problems") {
    json h = header;
    h["__metadata__"].erase("vocabulary");
    expect_rejected(from_parts(h.dump(), data), "__metadata__.vocabulary is missing");
    h = header;
    h["__metadata__"]["format"] = "something-else";
    expect_rejected(from_parts(h.dump(), data), "__metadata__.format");
    h = header;
    h["__metadata__"]["config"] = "{not json";
    expect_rejected(from_parts(h.dump(), data), "__metadata__.config is not valid JSON");
    // The metadata's JSON follows the header's rule: a key named twice is refused, not overwritten.
    h = header;
    h["__metadata__"]["config"] = R"({"hidden_size": 4, "hidden_size": 400000000})";
    expect_rejected(from_parts(h.dump(), data), "__metadata__.config names 'hidden_size' twice");
    h = header;
    h["__metadata__"]["config"] = json{{"hidden_size", -3}, {"vocab_size", 6}}.dump();
    expect_rejected(from_parts(h.dump(), data), "config.hidden_size");
    h = header;
    h["__metadata__"]["vocabulary"] = json::array({"<pad>", "<unk>"}).dump();
    expect_rejected(from_parts(h.dump(), data), "vocabulary has 2 words");
    // The vocabulary is read without a JSON tree: everything but an array of strings is refused.
    const std::vector<std::pair<std::string, std::string>> vocabularies = {
        {R"({"words": []})", "__metadata__.vocabulary must be an array of strings"},
        {R"("<pad>")", "__metadata__.vocabulary must be an array of strings"},
        {R"(["<pad>", "<unk>", 3])", "__metadata__.vocabulary entry 2 is not a string"},
        {R"(["<pad>", ["<unk>"]])", "__metadata__.vocabulary entry 1 is not a string"},
        {R"(["<pad>", "<unk>", null])", "__metadata__.vocabulary entry 2 is not a string"},
        {R"(["<pad>", "<unk>"] ["more"])", "__metadata__.vocabulary is not valid JSON"},
        {R"(["<pad>", "<unk>")", "__metadata__.vocabulary is not valid JSON"},
        {"", "__metadata__.vocabulary is not valid JSON"},
    };
    for (const auto& [vocabulary, message] : vocabularies) {
      h = header;
      h["__metadata__"]["vocabulary"] = vocabulary;
      expect_rejected(from_parts(h.dump(), data), message);
    }
    h = header;
    h["__metadata__"]["tokenizer"] = json{{"type", "attnlens.words"}, {"lowercase", "yes"}}.dump();
    expect_rejected(from_parts(h.dump(), data), "tokenizer.lowercase");
    h = header;
    h["__metadata__"]["config"] = 7;
    expect_rejected(from_parts(h.dump(), data), "__metadata__.config must be a string");
  }
  SECTION("a file that does not exist") {
    CHECK_THROWS_WITH(load_classifier(std::string("/nonexistent/model.safetensors")), Catch::Contains("cannot open"));
  }
}

TEST_CASE("every shipped model file is exactly what the writer makes of what the reader reads", "[safetensors][shipped]") {
  // One writer for both kinds of model file: loading a shipped file and saving it again gives the
  // same bytes, so a change to the writer that would change a shipped file fails here.
  int checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(ATTNLENS_SOURCE_DIR) + "/models")) {
    if (entry.path().extension() != ".safetensors") continue;
    INFO(entry.path().string());
    const std::vector<uint8_t> bytes = read_file_bytes(entry.path().string());
    const std::vector<uint8_t> again = model_format(entry.path().string()) == kTranslatorFormat
                                           ? serialize_translator(load_translator(bytes.data(), bytes.size(), "shipped"))
                                           : serialize_classifier(load_classifier(bytes.data(), bytes.size(), "shipped"));
    INFO("saved again: " << again.size() << " bytes, the file " << bytes.size());
    const bool same = again == bytes;  // not CHECK(again == bytes): Catch2 would print megabytes
    CHECK(same);
    ++checked;
  }
  CHECK(checked >= 13);  // 7 shipped, 6 teachers (models/teachers/)
}

TEST_CASE("the loader survives random corruption of every byte region", "[safetensors][hostile]") {
  // Each corrupted file is either refused with an attnlens::Error that names it, or loads into a
  // model that classifies with finite numbers; a cut file is always refused. Any other exception
  // (or a crash) fails the test.
  const std::vector<uint8_t> good = serialize_classifier(small_bundle());
  uint64_t state = 12345;
  const auto next = [&]() { state = state * 6364136223846793005ull + 1442695040888963407ull; return state >> 33; };
  int rejected = 0, accepted = 0, cut = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bytes = good;
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int k = 0; k < flips; ++k) bytes[next() % bytes.size()] = static_cast<uint8_t>(next());
    const bool shortened = next() % 4 == 0;
    if (shortened) bytes.resize(next() % bytes.size());
    cut += shortened;
    try {
      ClassifierBundle loaded = load_classifier(bytes.data(), bytes.size(), "fuzzed");
      INFO("round " << round);
      CHECK_FALSE(shortened);
      const Prediction p = classify(loaded, "a film of great charm", ExplainOptions{});
      CHECK(std::isfinite(p.logit));
      for (const TokenScore& t : p.tokens) CHECK(std::isfinite(t.weight));
      ++accepted;
    } catch (const Error& e) {
      INFO("round " << round);
      CHECK(std::string(e.what()).rfind("fuzzed", 0) == 0);
      ++rejected;
    }
  }
  CHECK(cut > 500);
  CHECK(rejected >= cut);
  CHECK(accepted > 100);  // flips inside the weights: a different model, not a broken file
}

TEST_CASE("weights stored as float16 and int8 load back within their precision", "[safetensors][storage]") {
  using safetensors::WeightStorage;
  ClassifierBundle bundle = small_bundle();
  Parameter* embedding = bundle.model->parameters()[0];
  REQUIRE(embedding->name == "embedding.weight");
  embedding->value.row(0).setZero();  // a zero row: scale 0
  embedding->value(1, 0) = 3.5f;      // a row with one large value
  for (const WeightStorage storage : {WeightStorage::Float16, WeightStorage::Int8}) {
    INFO(safetensors::storage_name(storage));
    bundle.storage = storage;
    const std::vector<uint8_t> bytes = serialize_classifier(bundle);
    ClassifierBundle loaded = load_classifier(bytes.data(), bytes.size(), "m");
    CHECK(loaded.storage == storage);
    const json header = split_file(bytes).first;
    CHECK(header["__metadata__"]["weights"] == safetensors::storage_name(storage));
    auto a = bundle.model->parameters(), b = loaded.model->parameters();
    for (size_t k = 0; k < a.size(); ++k) {
      INFO(a[k]->name);
      if (a[k]->shape.size() == 1) {  // vectors stay float32, exactly
        CHECK(header[a[k]->name]["dtype"] == "F32");
        CHECK(a[k]->value == b[k]->value);
        continue;
      }
      CHECK(header[a[k]->name]["dtype"] == (storage == WeightStorage::Int8 ? "I8" : "F16"));
      for (Eigen::Index r = 0; r < a[k]->value.rows(); ++r) {
        const double largest = a[k]->value.row(r).cwiseAbs().maxCoeff();
        // int8: half a step of max|row| / 127; float16: 11 significant bits.
        const double bound = storage == WeightStorage::Int8 ? largest / 254 + 1e-7 : largest / 2048 + 1e-7;
        CHECK((a[k]->value.row(r) - b[k]->value.row(r)).cwiseAbs().maxCoeff() <= bound);
      }
      if (storage == WeightStorage::Int8) CHECK(header[a[k]->name + ".scale"]["shape"] == json::array({a[k]->shape[0]}));
    }
    CHECK(b[0]->value.row(0).isZero());
    CHECK(b[0]->value(1, 0) == Approx(3.5f));  // the row's largest value is exact in int8 (±127 steps)
    // Saving a loaded model keeps its storage.
    CHECK(serialize_classifier(loaded).size() == bytes.size());
  }
}

TEST_CASE("the loader rejects hostile float16 and int8 tensors", "[safetensors][storage][hostile]") {
  ClassifierBundle bundle = small_bundle();
  bundle.storage = safetensors::WeightStorage::Int8;
  const std::vector<uint8_t> good = serialize_classifier(bundle);
  const auto parts = split_file(good);  // (clang 14 cannot capture structured bindings)
  const json& header = parts.first;
  const std::vector<uint8_t>& data = parts.second;
  const auto with_header = [&](const json& h) { return from_parts(h.dump(), data); };
  const std::string name = "fc.weight", scale = "fc.weight.scale";
  REQUIRE(header[name]["dtype"] == "I8");

  json missing_scale = header;  // the scale's bytes become an unexplained tensor of another name
  missing_scale["fc.other"] = missing_scale[scale];
  missing_scale.erase(scale);
  expect_rejected(with_header(missing_scale), "is I8 but its scales 'fc.weight.scale' are missing");

  json wrong_shape = header;
  wrong_shape[scale]["dtype"] = "I32";
  expect_rejected(with_header(wrong_shape), "'fc.weight.scale' must be F32 of shape [1]");

  std::vector<uint8_t> bad_scale = good;  // a negative, then a NaN scale
  const size_t offset = good.size() - data.size() + header[scale]["data_offsets"][0].get<size_t>();
  const float negative = -1.f, nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(bad_scale.data() + offset, &negative, 4);
  expect_rejected(bad_scale, "holds an invalid scale (-1.000000) at row 0");
  std::memcpy(bad_scale.data() + offset, &nan, 4);
  expect_rejected(bad_scale, "holds an invalid scale");
  // A finite scale so large that a weight times it overflows: the first such element is named.
  const float enormous = 3e38f;
  std::memcpy(bad_scale.data() + offset, &enormous, 4);
  const size_t weights = good.size() - data.size() + header[name]["data_offsets"][0].get<size_t>();
  for (size_t i = 0; i < header[name]["shape"][1].get<size_t>(); ++i) bad_scale[weights + i] = 0;
  bad_scale[weights + 2] = 100;
  expect_rejected(bad_scale, "tensor 'fc.weight' holds a non-finite value (inf) at element 2");

  // A ".scale" next to an F32 tensor is unexpected.
  bundle.storage = safetensors::WeightStorage::Float32;
  const auto [f32_header, f32_data] = split_file(serialize_classifier(bundle));
  json extra = f32_header;
  const size_t end = f32_data.size();
  extra["fc.weight.scale"] = {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {end, end + 4}}};
  std::vector<uint8_t> extra_data = f32_data;
  extra_data.resize(end + 4, 0);
  expect_rejected(from_parts(extra.dump(), extra_data), "unexpected tensor 'fc.weight.scale'");

  bundle.storage = safetensors::WeightStorage::Float16;
  std::vector<uint8_t> f16 = serialize_classifier(bundle);
  const auto [f16_header, f16_data] = split_file(f16);
  const size_t f16_offset = f16.size() - f16_data.size() + f16_header[name]["data_offsets"][0].get<size_t>();
  const uint16_t half_nan = 0x7E00;
  std::memcpy(f16.data() + f16_offset, &half_nan, 2);
  expect_rejected(f16, "tensor 'fc.weight' holds a non-finite value");

  json unknown = f32_header;
  unknown[name]["dtype"] = "BF16";
  unknown[name]["data_offsets"][1] = unknown[name]["data_offsets"][0].get<size_t>() + 8;
  const std::vector<uint8_t> bf16 = from_parts(unknown.dump(), f32_data);
  CHECK_THROWS_AS(load_classifier(bf16.data(), bf16.size(), "m"), Error);

  ClassifierBundle huge = small_bundle();
  huge.model->parameters()[0]->value(2, 0) = 1e6f;
  huge.storage = safetensors::WeightStorage::Float16;
  CHECK_THROWS_WITH(serialize_classifier(huge), Catch::Contains("beyond float16's range"));
}
