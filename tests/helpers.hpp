// Small helpers shared by the tests.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "io/model_file.hpp"
#include "io/translator_file.hpp"
#include "io/safetensors.hpp"
#include "layers/module.hpp"

namespace attnlens::testing {

inline TokenBatch token_batch(const std::vector<std::vector<int32_t>>& sequences, int steps = -1) {
  TokenBatch batch;
  batch.batch = static_cast<int>(sequences.size());
  for (const auto& s : sequences) {
    batch.lengths.push_back(static_cast<int>(s.size()));
    batch.steps = std::max(batch.steps, static_cast<int>(s.size()));
  }
  if (steps >= 0) batch.steps = steps;
  batch.ids.assign(static_cast<size_t>(batch.steps) * sequences.size(), 0);
  for (size_t b = 0; b < sequences.size(); ++b)
    for (size_t t = 0; t < sequences[b].size(); ++t) batch.ids[t * sequences.size() + b] = sequences[b][t];
  return batch;
}

inline SequenceBatch sequence_batch(const Matrix& values, int steps, int batch, std::vector<int> lengths) {
  SequenceBatch s;
  s.steps = steps;
  s.batch = batch;
  s.values = values;
  s.lengths = std::move(lengths);
  return s;
}

// Save a module's parameters to safetensors bytes and load them into another module.
inline void round_trip(Module& from, Module& to) {
  std::vector<const Parameter*> tensors;
  for (Parameter* p : from.parameters()) tensors.push_back(p);
  const std::vector<uint8_t> bytes = safetensors::serialize(tensors, {{"purpose", "test"}});
  const safetensors::File file = safetensors::File::parse(bytes.data(), bytes.size(), "round-trip");
  for (Parameter* p : to.parameters()) file.read_parameter(p->name, p->shape, p->value);
}

inline bool same_parameters(Module& a, Module& b) {
  auto pa = a.parameters(), pb = b.parameters();
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i)
    if (pa[i]->name != pb[i]->name || pa[i]->shape != pb[i]->shape || pa[i]->value != pb[i]->value) return false;
  return true;
}

// Small configs of every architecture, for model-level tests (vocabulary `vocab`).
inline std::vector<ClassifierConfig> architecture_configs(int vocab) {
  const auto layer = [](const char* type, int size, bool bidirectional = false, int kernel = 0, const char* padding = "same",
                        int pool = 0) {
    LayerSpec s;
    s.type = type;
    s.size = size;
    s.bidirectional = bidirectional;
    s.kernel_size = kernel;
    s.padding = padding;
    s.pool_size = pool;
    return s;
  };
  std::vector<ClassifierConfig> configs(5);
  for (auto& c : configs) { c.vocab_size = vocab; c.embedding_dim = 4; }
  configs[0].architecture = "bilstm-attention";
  configs[0].encoder = {layer("lstm", 3, true)};
  configs[1].architecture = "lstm";
  configs[1].encoder = {layer("lstm", 3)};
  configs[1].pooling = "last";
  configs[1].dense = {4};
  configs[2].architecture = "cnn";
  configs[2].encoder = {layer("conv1d", 5, false, 3), layer("relu", 0), layer("maxpool1d", 0, false, 0, "same", 2),
                        layer("conv1d", 4, false, 2, "valid"), layer("relu", 0)};
  configs[2].pooling = "max";
  configs[2].dense = {3};
  configs[3].architecture = "gru-attention";
  configs[3].encoder = {layer("gru", 3, true), layer("gru", 2)};
  configs[4].architecture = "transformer";
  LayerSpec transformer = layer("transformer", 0);
  transformer.layers = 2;
  transformer.heads = 2;
  transformer.feedforward = 6;
  configs[4].encoder = {transformer};
  configs[4].pooling = "mean";
  return configs;
}

// A tiny BiLSTM-attention classifier with a six-word vocabulary.
inline ClassifierBundle small_bundle() {
  ClassifierConfig config;
  config.vocab_size = 6;
  config.embedding_dim = 3;
  config.hidden_size = 2;
  ClassifierBundle bundle;
  bundle.model = std::make_unique<Classifier>(config);
  Rng rng(1);
  bundle.model->init(rng);
  bundle.vocabulary = Vocabulary({"<pad>", "<unk>", "good", "bad", "film", "not"});
  bundle.provenance = {{"seed", 1}};
  return bundle;
}

// A classifier whose every number can be computed by hand: one-number embeddings (good 2,
// bad −2, film 0.5, not −1; <pad> and <unk> 0) → Conv1D with kernel 1 and weight 1 (the
// identity) → `pooling` ("mean": logit = bias + the mean value; "attention" with w = 1, b = 0:
// logit = bias + Σ_t α_t v_t, α = softmax(tanh v)) → fc (weight 1, bias `bias`).
inline ClassifierBundle one_number_model(const std::string& pooling, double bias = 0) {
  ClassifierConfig config;
  config.vocab_size = 6;
  config.embedding_dim = 1;
  LayerSpec conv;
  conv.type = "conv1d";
  conv.size = 1;
  conv.kernel_size = 1;
  config.encoder = {conv};
  config.pooling = pooling;
  ClassifierBundle bundle;
  bundle.model = std::make_unique<Classifier>(config);
  bundle.vocabulary = Vocabulary({"<pad>", "<unk>", "good", "bad", "film", "not"});
  for (Parameter* p : bundle.model->parameters()) {
    if (p->name == "embedding.weight") p->value.col(0) << 0, 0, 2, -2, 0.5, -1;
    else if (p->name == "fc.bias") p->value.setConstant(static_cast<Scalar>(bias));
    else if (p->name.find("bias") != std::string::npos) p->value.setZero();
    else p->value.setOnes();
  }
  return bundle;
}

// A tiny additive-attention translator (English "i am cold ." → French), untrained.
inline TranslatorBundle small_translator_bundle(const std::string& attention = "additive") {
  TranslatorConfig config;
  config.source_vocab_size = 8;
  config.target_vocab_size = 10;
  config.embedding_dim = 4;
  config.hidden_size = 3;
  config.decoder_size = 6;
  config.attention = attention;
  config.attention_size = 4;
  config.output_size = 5;
  TranslatorBundle bundle;
  bundle.model = std::make_unique<Translator>(config);
  Rng rng(3);
  bundle.model->init(rng);
  bundle.source_vocabulary = Vocabulary({"<pad>", "<unk>", "i", "am", "cold", "you", "are", "."});
  bundle.target_vocabulary = Vocabulary({"<pad>", "<unk>", "<s>", "</s>", "j'", "ai", "froid", "tu", "as", "."});
  bundle.target_tokenizer = french_tokenizer_options();
  bundle.provenance = {{"seed", 1}, {"split", {{"validation_fraction", 0.1}, {"test_fraction", 0.1}, {"seed", 1}}}};
  return bundle;
}

}  // namespace attnlens::testing
