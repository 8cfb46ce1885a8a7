// What an encoder–decoder translator is made of (models/translator.hpp): sizes, the kind of
// attention, dropout; read from and written to a model file's metadata as JSON.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace attnlens {

struct TranslatorConfig {
  std::string architecture = "translate-bahdanau";
  int source_vocab_size = 8000;  // including <pad> <unk>
  int target_vocab_size = 8000;  // including <pad> <unk> <s> </s>
  int embedding_dim = 128;       // both languages
  int hidden_size = 128;         // encoder, per direction (encoder states are 2 × hidden_size)
  int decoder_size = 256;
  std::string attention = "additive";  // none | additive | dot | general
  int attention_size = 128;            // additive only
  int output_size = 256;               // o_i
  double dropout = 0.2;                // on both embeddings and on o_i, training only

  bool has_attention() const { return attention != "none"; }
  // The number of weights this config describes, computed without allocating them (the
  // loader compares it with what a file holds before building anything).
  int64_t parameter_count() const;
  std::string describe() const;
  nlohmann::json to_json() const;
  static TranslatorConfig from_json(const nlohmann::json& j);  // errors name the field
};

// Reserved target ids.
constexpr int32_t kBos = 2;
constexpr int32_t kEos = 3;

}  // namespace attnlens
