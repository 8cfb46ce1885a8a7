// The loader trusts nothing: each kind of corrupt or hostile file gets an error that
// names the problem, never a crash. Also: a full model save/load round trip.
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "helpers.hpp"
#include "io/model_file.hpp"
#include "io/safetensors.hpp"

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

}  // namespace

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
  const auto [header, data] = split_file(serialize_classifier(bundle));
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
  const auto [header, data] = split_file(good);

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
    h = header;
    h["__metadata__"]["config"] = json{{"hidden_size", -3}, {"vocab_size", 6}}.dump();
    expect_rejected(from_parts(h.dump(), data), "config.hidden_size");
    h = header;
    h["__metadata__"]["vocabulary"] = json::array({"<pad>", "<unk>"}).dump();
    expect_rejected(from_parts(h.dump(), data), "vocabulary has 2 words");
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

TEST_CASE("the loader survives random corruption of every byte region", "[safetensors][hostile]") {
  const std::vector<uint8_t> good = serialize_classifier(small_bundle());
  uint64_t state = 12345;
  const auto next = [&]() { state = state * 6364136223846793005ull + 1442695040888963407ull; return state >> 33; };
  int rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bytes = good;
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int k = 0; k < flips; ++k) bytes[next() % bytes.size()] = static_cast<uint8_t>(next());
    if (next() % 4 == 0) bytes.resize(next() % bytes.size());
    try {
      load_classifier(bytes.data(), bytes.size(), "fuzzed");
    } catch (const Error&) {
      ++rejected;
    }
  }
  CHECK(rejected > 0);  // anything else than an attnlens::Error would escape and fail the test
}
