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
// The config is models/translator_config.hpp; greedy decoding and beam search, built on
// encode() and step() below, are models/decoding.hpp.
#pragma once
#include <string>
#include <vector>

#include "layers/bidirectional.hpp"
#include "layers/dense.hpp"
#include "layers/decoder_attention.hpp"
#include "layers/dropout.hpp"
#include "layers/embedding.hpp"
#include "layers/gru_cell.hpp"
#include "models/translator_config.hpp"

namespace attnlens {

// One teacher-forced batch. source: [L*B] ids; decoder_input: <s> y_1 … y_n; targets: y_1 … y_n </s>
// (same layout as decoder_input, lengths n + 1; padding positions are ignored).
struct TranslationBatch {
  TokenBatch source;
  TokenBatch decoder_input;
  std::vector<int32_t> targets;
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

  // The decoder one step at a time (models/decoding.hpp): encode the sources, then step.
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
  // log softmax(W_o o_i + b_o) [V, B] of step outputs o_i [O, B].
  void log_softmax_step(const Matrix& output, Matrix& log_probs) const;
  // The embedding of target id `id` [E] (a decoder input).
  auto target_embedding(int32_t id) const { return target_embedding_.weight.value.row(id).transpose(); }

 private:
  int memory_size() const { return 2 * config_.hidden_size; }

  TranslatorConfig config_;
  AttentionKind attention_kind_ = AttentionKind::Additive;
  Embedding source_embedding_, target_embedding_;
  Dropout source_dropout_, target_dropout_, output_dropout_;
  Bidirectional encoder_;
  Dense bridge_;  // s_0 = tanh(bridge(summary))
  GRUCell cell_;
  DecoderAttention attention_;
  Dense combine_;  // o_i = tanh(combine([s_i; c_i]))
  Dense out_;      // logits_i = out(dropout(o_i))

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
