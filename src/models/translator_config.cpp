#include "models/translator_config.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/json_integer.hpp"

namespace attnlens {

using nlohmann::json;

std::string TranslatorConfig::describe() const {
  const std::string decoder = attention == "none"       ? "GRU decoder " + std::to_string(decoder_size) + ", fixed context (no attention)"
                              : attention == "additive" ? "GRU decoder " + std::to_string(decoder_size) + " + additive (Bahdanau) attention"
                                                        : "GRU decoder " + std::to_string(decoder_size) + " + " + attention +
                                                              " (Luong) attention";
  return "embedding " + std::to_string(embedding_dim) + " → BiGRU " + std::to_string(hidden_size) + " → " + decoder +
         " → " + std::to_string(output_size) + " → softmax " + std::to_string(target_vocab_size);
}

int64_t TranslatorConfig::parameter_count() const {
  const int64_t E = embedding_dim, H = hidden_size, D = decoder_size, A = attention_size, O = output_size;
  const bool luong = attention == "dot" || attention == "general";
  const int64_t cell_input = E + (luong ? O : 2 * H);
  int64_t n = int64_t{source_vocab_size} * E + int64_t{target_vocab_size} * E;
  n += 2 * (3 * H * E + 3 * H * H + 6 * H);           // encoder, both directions
  n += D * 2 * H + D;                                 // bridge
  n += 3 * D * cell_input + 3 * D * D + 6 * D;        // decoder cell
  if (attention == "additive") n += A * D + A + A * 2 * H + A;
  if (attention == "general") n += D * 2 * H;
  n += O * (D + 2 * H) + O;                           // combine
  n += int64_t{target_vocab_size} * O + target_vocab_size;  // output layer
  return n;
}

json TranslatorConfig::to_json() const {
  return {{"architecture", architecture},   {"source_vocab_size", source_vocab_size},
          {"target_vocab_size", target_vocab_size}, {"embedding_dim", embedding_dim},
          {"hidden_size", hidden_size},     {"decoder_size", decoder_size},
          {"attention", attention},         {"attention_size", attention_size},
          {"output_size", output_size},     {"dropout", dropout}};
}

TranslatorConfig TranslatorConfig::from_json(const json& j) {
  check(j.is_object(), "config: expected a JSON object");
  static const char* const kKnown[] = {"architecture", "source_vocab_size", "target_vocab_size", "embedding_dim",
                                       "hidden_size",  "decoder_size",      "attention",         "attention_size",
                                       "output_size",  "dropout"};
  for (const auto& item : j.items())
    check(std::find_if(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return item.key() == k; }) !=
              std::end(kKnown),
          "config." + item.key() + ": unknown field");
  TranslatorConfig c;
  const auto integer = [&](const char* key, int& out, int lo, int hi) {
    if (!j.contains(key)) return;
    const int64_t v = json_integer<int64_t>(j[key], std::string("config.") + key);
    check(v >= lo && v <= hi, std::string("config.") + key + ": must be between " + std::to_string(lo) + " and " +
                                  std::to_string(hi) + ", got " + std::to_string(v));
    out = static_cast<int>(v);
  };
  if (j.contains("architecture")) {
    check(j["architecture"].is_string(), "config.architecture: expected a string");
    c.architecture = j["architecture"].get<std::string>();
  }
  integer("source_vocab_size", c.source_vocab_size, 3, 1 << 20);
  integer("target_vocab_size", c.target_vocab_size, 5, 1 << 20);
  integer("embedding_dim", c.embedding_dim, 1, 4096);
  integer("hidden_size", c.hidden_size, 1, 4096);
  integer("decoder_size", c.decoder_size, 1, 4096);
  integer("attention_size", c.attention_size, 1, 4096);
  integer("output_size", c.output_size, 1, 4096);
  if (j.contains("attention")) {
    check(j["attention"].is_string(), "config.attention: expected a string");
    c.attention = j["attention"].get<std::string>();
  }
  check(c.attention == "none" || c.attention == "additive" || c.attention == "dot" || c.attention == "general",
        "config.attention: expected 'none', 'additive', 'dot' or 'general', got '" + c.attention + "'");
  check(c.attention != "dot" || c.decoder_size == 2 * c.hidden_size,
        "config.decoder_size: dot attention needs decoder_size = 2 × hidden_size (" + std::to_string(2 * c.hidden_size) + ")");
  if (j.contains("dropout")) {
    check(j["dropout"].is_number(), "config.dropout: expected a number");
    c.dropout = j["dropout"].get<double>();
    check(c.dropout >= 0 && c.dropout < 1, "config.dropout: must be in [0, 1)");
  }
  return c;
}

}  // namespace attnlens
