// ClassifierConfig and LayerSpec: validation and JSON. Read once per model file, so this file is
// compiled for size in the wasm build (CMakeLists.txt); the layers in classifier.cpp for speed.
#include "models/classifier.hpp"

#include "core/error.hpp"
#include "core/json_integer.hpp"

namespace attnlens {

using nlohmann::json;

namespace {

template <typename T>
T field(const json& j, const char* name, const T& fallback, const std::string& where) {
  if (!j.contains(name)) return fallback;
  const json& value = j.at(name);
  if constexpr (std::is_same_v<T, int>) {
    return json_integer<int>(value, where + name);
  } else if constexpr (std::is_same_v<T, std::vector<int>>) {
    check(value.is_array(), where + name + ": wrong type (" + value.type_name() + ")");
    std::vector<int> values;
    for (size_t i = 0; i < value.size(); ++i) values.push_back(json_integer<int>(value[i], where + name + "[" + std::to_string(i) + "]"));
    return values;
  }
  try {
    return value.get<T>();
  } catch (const json::exception&) {
    throw Error(where + name + ": wrong type (" + j.at(name).type_name() + ")");
  }
}

// Numbers in messages: "0.5", "1e-06", not std::to_string's "0.500000". snprintf, which the
// small engine links anyway (layers/module.cpp), rather than the JSON serialiser, which it need not.
std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", value);
  return text;
}

void check_range(const std::string& name, double value, double lo, double hi) {
  check_with(value >= lo && value <= hi,
             [&] { return name + ": " + number(value) + " is outside [" + number(lo) + ", " + number(hi) + "]"; });
}

bool is_recurrent(const std::string& type) { return type == "lstm" || type == "gru"; }

}  // namespace

json LayerSpec::to_json() const {
  json j = {{"type", type}};
  if (is_recurrent(type)) j.update({{"size", size}, {"bidirectional", bidirectional}});
  if (type == "conv1d") j.update({{"size", size}, {"kernel_size", kernel_size}, {"padding", padding}});
  if (type == "maxpool1d") j["pool_size"] = pool_size;
  if (type == "transformer") j.update({{"layers", layers}, {"heads", heads}, {"feedforward", feedforward}});
  return j;
}

LayerSpec LayerSpec::from_json(const json& j, const std::string& where) {
  check(j.is_object(), where + ": expected an object with a 'type'");
  LayerSpec s;
  s.type = field(j, "type", std::string(), where + ".");
  s.size = field(j, "size", 0, where + ".");
  s.bidirectional = field(j, "bidirectional", false, where + ".");
  s.kernel_size = field(j, "kernel_size", 0, where + ".");
  s.padding = field(j, "padding", std::string("same"), where + ".");
  s.pool_size = field(j, "pool_size", 0, where + ".");
  s.layers = field(j, "layers", 0, where + ".");
  s.heads = field(j, "heads", 0, where + ".");
  s.feedforward = field(j, "feedforward", 0, where + ".");
  if (is_recurrent(s.type)) {
    check_range(where + ".size", s.size, 1, 4096);
  } else if (s.type == "conv1d") {
    check_range(where + ".size", s.size, 1, 4096);
    check_range(where + ".kernel_size", s.kernel_size, 1, 64);
    check(s.padding == "same" || s.padding == "valid", where + ".padding: '" + s.padding + "' (expected same or valid)");
  } else if (s.type == "maxpool1d") {
    check_range(where + ".pool_size", s.pool_size, 1, 64);
  } else if (s.type == "transformer") {
    check_range(where + ".layers", s.layers, 1, 24);
    check_range(where + ".heads", s.heads, 1, 64);
    check_range(where + ".feedforward", s.feedforward, 1, 16384);
  } else {
    check(s.type == "relu", where + ".type: '" + s.type + "' is not supported (lstm, gru, conv1d, relu, maxpool1d, transformer)");
  }
  return s;
}

std::vector<LayerSpec> ClassifierConfig::encoder_layers() const {
  if (!encoder.empty() || ngram_order > 0) return encoder;
  LayerSpec recurrent;
  recurrent.type = cell;
  recurrent.size = hidden_size;
  recurrent.bidirectional = bidirectional;
  return {recurrent};
}

std::string ClassifierConfig::describe() const {
  // Plain concatenation: a string stream would link the whole locale machinery (about 70 KB)
  // into the wasm module for this one sentence.
  using std::to_string;
  if (ngram_order > 0)
    return std::string("bag of ") + (ngram_order == 1 ? "words" : ngram_order == 2 ? "words and bigrams" : "words, bigrams and trigrams") +
           " (presence; each feature's weight shared among its tokens) → sum → dense 1 → sigmoid";
  std::string out = "embedding " + to_string(embedding_dim);
  for (const LayerSpec& s : encoder_layers()) {
    out += " → ";
    if (is_recurrent(s.type)) {
      out += std::string(s.bidirectional ? "bidirectional " : "") + (s.type == "lstm" ? "LSTM " : "GRU ") + to_string(s.size) +
             (s.bidirectional ? " per direction" : "");
    } else if (s.type == "conv1d") {
      out += "Conv1D " + to_string(s.size) + "×" + to_string(s.kernel_size) + " (" + s.padding + ")";
    } else if (s.type == "maxpool1d") {
      out += "max-pool " + to_string(s.pool_size);
    } else if (s.type == "transformer") {
      out += "Transformer encoder (" + to_string(s.layers) + " pre-norm layers, " + to_string(s.heads) +
             " heads, feed-forward " + to_string(s.feedforward) + ", sinusoidal positions)";
    } else {
      out += "ReLU";
    }
  }
  out += std::string(" → ") + (pooling == "attention" ? "attention pooling (e_t = tanh(w·h_t + b), α = softmax over real tokens)"
                               : pooling == "max"     ? "global max pooling"
                               : pooling == "mean"    ? "mean pooling"
                               : pooling == "sum"     ? "sum pooling"
                                                      : "last real step");
  for (int d : dense) out += " → dense " + to_string(d) + " + ReLU";
  out += " → dense 1";
  if (ngram_path > 0)
    out += std::string(", plus an n-gram path (") +
           (ngram_path == 1 ? "words" : ngram_path == 2 ? "words and bigrams" : "words, bigrams and trigrams") +
           ", presence, each feature's weight shared among its tokens, summed)";
  out += " → sigmoid";
  return out;
}

json ClassifierConfig::to_json() const {
  json layers = json::array();
  for (const LayerSpec& s : encoder_layers()) layers.push_back(s.to_json());
  json j = {{"architecture", architecture}, {"vocab_size", vocab_size}, {"embedding_dim", embedding_dim},
            {"encoder", layers},            {"pooling", pooling},       {"dense", dense},
            {"embedding_dropout", embedding_dropout},                   {"dropout", dropout}};
  if (ngram_order > 0) j["ngram_order"] = ngram_order;  // absent for the neural models, whose configs stay as they were
  if (ngram_path > 0) {  // the same
    j["ngram_path"] = ngram_path;
    j["embedding_words"] = embedding_words;
  }
  return j;
}

ClassifierConfig ClassifierConfig::from_json(const json& j) {
  check(j.is_object(), "config: expected a JSON object");
  ClassifierConfig c;
  const std::string where = "config.";
  c.architecture = field(j, "architecture", c.architecture, where);
  c.vocab_size = field(j, "vocab_size", c.vocab_size, where);
  c.embedding_dim = field(j, "embedding_dim", c.embedding_dim, where);
  c.cell = field(j, "cell", c.cell, where);
  c.bidirectional = field(j, "bidirectional", c.bidirectional, where);
  c.hidden_size = field(j, "hidden_size", c.hidden_size, where);
  c.pooling = field(j, "pooling", c.pooling, where);
  c.dense = field(j, "dense", c.dense, where);
  c.embedding_dropout = field(j, "embedding_dropout", c.embedding_dropout, where);
  c.dropout = field(j, "dropout", c.dropout, where);
  c.ngram_order = field(j, "ngram_order", c.ngram_order, where);
  if (c.ngram_order != 0) {
    check_range("config.ngram_order", c.ngram_order, 1, 3);
    check(!j.contains("encoder") || (j["encoder"].is_array() && j["encoder"].empty()),
          "config.encoder: an n-gram model (ngram_order) has no encoder: leave it out or give []");
    check(c.embedding_dim == 1, "config.embedding_dim: an n-gram model's is 1 (one weight per feature)");
    check(c.pooling == "sum", "config.pooling: an n-gram model's is sum");
    check(c.dense.empty(), "config.dense: an n-gram model has no hidden layers (its explanations are exact because it is linear)");
  } else if (j.contains("encoder")) {
    check(j["encoder"].is_array() && !j["encoder"].empty(), "config.encoder: expected a non-empty array of layers");
    check(j["encoder"].size() <= 32, "config.encoder: at most 32 layers");
    for (size_t i = 0; i < j["encoder"].size(); ++i)
      c.encoder.push_back(LayerSpec::from_json(j["encoder"][i], "config.encoder[" + std::to_string(i) + "]"));
  } else {
    check(is_recurrent(c.cell), "config.cell: '" + c.cell + "' is not supported (supported: lstm, gru)");
    check_range("config.hidden_size", c.hidden_size, 1, 4096);
  }
  check(c.pooling == "attention" || c.pooling == "max" || c.pooling == "mean" || c.pooling == "last" || c.pooling == "sum",
        "config.pooling: '" + c.pooling + "' is not supported (attention, max, mean, sum, last)");
  c.ngram_path = field(j, "ngram_path", c.ngram_path, where);
  c.embedding_words = field(j, "embedding_words", c.embedding_words, where);
  if (c.ngram_path != 0) {
    check_range("config.ngram_path", c.ngram_path, 1, 3);
    check(c.ngram_order == 0, "config.ngram_path: an n-gram model (ngram_order) is all n-grams: it takes no n-gram path");
    check_range("config.embedding_words", c.embedding_words, 2, c.vocab_size);
  } else {
    check(!j.contains("embedding_words"), "config.embedding_words: only a model with an n-gram path (ngram_path) has it");
  }
  check(c.dense.size() <= 8, "config.dense: at most 8 hidden layers");
  for (int d : c.dense) check_range("config.dense[]", d, 1, 4096);
  check_range("config.vocab_size", c.vocab_size, 2, 1 << 20);  // as many words as a model file's header can hold
  check_range("config.embedding_dim", c.embedding_dim, 1, 4096);
  check_range("config.embedding_dropout", c.embedding_dropout, 0, 0.95);
  check_range("config.dropout", c.dropout, 0, 0.95);
  return c;
}

}  // namespace attnlens
