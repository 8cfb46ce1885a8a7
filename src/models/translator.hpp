// The encoder–decoder translator of the attention tutorials.
//
//   encoder: source embedding → dropout → bidirectional GRU → states h_j [2H]
//   bridge:  s_0 = tanh(W_b [h→_last; h←_first] + b_b)  (the "summary": both directions' final states)
//   decoder, one step i, input y_{i-1} (embedded, dropout), state s_{i-1}:
//     attention "none"     (Cho et al. 2014):      c_i = summary (fixed);   s_i = GRU([y; c_i], s_{i-1})
//     attention "additive" (Bahdanau et al. 2014): c_i = attend(s_{i-1});  s_i = GRU([y; c_i], s_{i-1})
//     attention "dot"/"general" (Luong et al. 2015, with input feeding):
//                                                  s_i = GRU([y; o_{i-1}], s_{i-1}); c_i = attend(s_i)
//     o_i = tanh(W_c [s_i; c_i] + b_c)       logits_i = W_o dropout(o_i) + b_o   (softmax over the target vocabulary)
//
// Targets are [<s>] y_1 … y_n → y_1 … y_n [</s>]; training is teacher-forced cross-entropy.
// Decoding is greedy (a batch at a time) or beam search, both returning per-step attention.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layers/bidirectional.hpp"
#include "layers/decoder_attention.hpp"
#include "layers/dropout.hpp"
#include "layers/embedding.hpp"
#include "layers/gru_cell.hpp"

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

// One teacher-forced batch. source: [L*B] ids; decoder_input: <s> y_1 … y_n; targets: y_1 … y_n </s>
// (same layout as decoder_input, lengths n + 1; padding positions are ignored).
struct TranslationBatch {
  TokenBatch source;
  TokenBatch decoder_input;
  std::vector<int32_t> targets;
};

struct Hypothesis {
  std::vector<int32_t> tokens;  // target ids, without </s>
  Matrix attention;             // [tokens, source length]: row i = α of output token i (empty without attention)
  double log_probability = 0;   // Σ log p of its tokens, and of </s> unless it was cut at the length limit
  double score = 0;             // log_probability / length penalty (beam search), else log_probability
};

struct DecodeOptions {
  int beam = 1;                // 1: greedy
  int max_length = 0;          // 0: 2 × source length + 10
  double length_penalty = 0.6; // α of ((5 + |y|) / 6)^α (Wu et al. 2016), beam search only
};

class Translator : public Module {
 public:
  explicit Translator(const TranslatorConfig& config);
  Translator(const Translator& other);
  Translator& operator=(const Translator& other);

  void init(Rng& rng);
  std::vector<Parameter*> parameters() override;
  const TranslatorConfig& config() const { return config_; }
  int64_t parameter_count();

  struct Stats {
    double loss_sum = 0;  // Σ over real target tokens of −log p
    int64_t tokens = 0;
    int64_t correct = 0;  // argmax = target
  };
  // Teacher-forced forward; keeps what backward needs. dropout_rng == nullptr: no dropout.
  Stats forward(const TranslationBatch& batch, Rng* dropout_rng = nullptr);
  // Accumulates the gradient of scale × loss_sum (e.g. scale = 1 / tokens of the whole batch).
  void backward(double scale);

  // Greedy decoding of many sources at once (each a list of source ids, at least one).
  std::vector<Hypothesis> greedy(const std::vector<std::vector<int32_t>>& sources, int max_length = 0);
  // Beam search of one source; options.beam == 1 is greedy.
  Hypothesis translate(const std::vector<int32_t>& source, const DecodeOptions& options);

 private:
  struct StepCache {
    GRUCell::Cache cell;
    DecoderAttention::StepCache attention;
    Matrix context;   // c_i [M, B]
    Matrix combined;  // [s_i; c_i]
    Matrix output;    // o_i [O, B]
  };
  struct Encoded {
    SequenceBatch embedded, states;
    Matrix summary;  // [M, B]
    Matrix initial;  // s_0 [D, B]
    DecoderAttention::Memory memory;
  };
  void encode(const TokenBatch& source, Rng* dropout_rng, Encoded& encoded);
  // One decoder step on embedded inputs x [E, B]; hidden/feed are updated in place.
  void step(const Encoded& encoded, const Matrix& x, Matrix& hidden, Matrix& feed, StepCache& cache) const;
  void log_softmax_step(const Matrix& output, Matrix& log_probs) const;
  int memory_size() const { return 2 * config_.hidden_size; }

  TranslatorConfig config_;
  AttentionKind attention_kind_ = AttentionKind::Additive;
  Embedding source_embedding_, target_embedding_;
  Dropout source_dropout_, target_dropout_, output_dropout_;
  Bidirectional encoder_;
  Parameter bridge_weight_, bridge_bias_;
  GRUCell cell_;
  DecoderAttention attention_;
  Parameter combine_weight_, combine_bias_;
  Parameter out_weight_, out_bias_;

  // Training caches.
  Encoded encoded_;
  SequenceBatch target_embedded_;
  std::vector<StepCache> steps_;
  Matrix outputs_, probabilities_;  // [O, T*B] (after dropout), softmax [V, T*B]
  std::vector<int32_t> targets_;
  TokenBatch decoder_input_, source_input_;
  int64_t target_tokens_ = 0;
};

}  // namespace attnlens
