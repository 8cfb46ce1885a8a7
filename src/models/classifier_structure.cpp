// A classifier's structure: its layers built from the config (in PyTorch's names), and its
// parameters listed. Run once per model, so the page's small engine compiles this file for size
// (CMakeLists.txt); the forward and backward passes (classifier.cpp) are compiled for speed.
#include "core/error.hpp"
#include "layers/attention_pooling.hpp"
#include "layers/bidirectional.hpp"
#include "layers/conv1d.hpp"
#include "layers/global_max_pooling.hpp"
#include "layers/gru.hpp"
#include "layers/last_pooling.hpp"
#include "layers/lstm.hpp"
#include "layers/max_pool.hpp"
#include "layers/mean_pooling.hpp"
#include "layers/relu.hpp"
#include "layers/transformer.hpp"
#include "models/classifier.hpp"
#include "text/vocabulary.hpp"

namespace attnlens {

namespace {

bool is_recurrent(const std::string& type) { return type == "lstm" || type == "gru"; }

}  // namespace

Classifier::Classifier(const ClassifierConfig& config)
    : config_(config),
      embedding_("embedding", config.embedding_rows(), config.embedding_dim, 0),
      embedding_dropout_(config.embedding_dropout),
      dropout_(config.dropout) {
  // Names follow PyTorch: stacked recurrent layers rnn.*_l0, _l1 (…_reverse); conv0, conv1;
  // hidden dense layers dense0, dense1; the output layer fc.
  int channels = config.embedding_dim, rnn_index = 0, conv_index = 0;
  for (const LayerSpec& s : config.encoder_layers()) {
    if (is_recurrent(s.type)) {
      const std::string suffix = "_l" + std::to_string(rnn_index++);
      const bool lstm = s.type == "lstm";
      const auto make = [&](const std::string& sfx, bool reverse) -> std::unique_ptr<SequenceLayer> {
        if (lstm) return std::make_unique<LSTM>("rnn", sfx, channels, s.size, reverse);
        return std::make_unique<GRU>("rnn", sfx, channels, s.size, reverse);
      };
      if (s.bidirectional)
        encoder_.push_back(std::make_unique<Bidirectional>(make(suffix, false), make(suffix + "_reverse", true),
                                                           lstm ? Bidirectional::copier<LSTM>() : Bidirectional::copier<GRU>()));
      else
        encoder_.push_back(make(suffix, false));
    } else if (s.type == "conv1d") {
      encoder_.push_back(std::make_unique<Conv1D>("conv" + std::to_string(conv_index++), channels, s.size, s.kernel_size,
                                                  s.padding == "valid" ? Conv1D::Padding::Valid : Conv1D::Padding::Same));
    } else if (s.type == "relu") {
      encoder_.push_back(std::make_unique<ReLU>(channels));
    } else if (s.type == "transformer") {
      encoder_.push_back(std::make_unique<TransformerEncoder>("encoder", channels, s.layers, s.heads, s.feedforward));
    } else {
      encoder_.push_back(std::make_unique<MaxPool1D>(channels, s.pool_size));
    }
    channels = encoder_.back()->output_channels();
  }
  encoded_.resize(encoder_.size());
  if (config.pooling == "attention") pooling_ = std::make_unique<AttentionPooling>("attention", channels);
  else if (config.pooling == "max") pooling_ = std::make_unique<GlobalMaxPooling>();
  else if (config.pooling == "mean") pooling_ = std::make_unique<MeanPooling>();
  else if (config.pooling == "sum") pooling_ = std::make_unique<MeanPooling>(true);
  else pooling_ = std::make_unique<LastPooling>();
  for (size_t i = 0; i < config.dense.size(); ++i) {
    hidden_.emplace_back("dense" + std::to_string(i), channels, config.dense[i]);
    channels = config.dense[i];
  }
  hidden_out_.resize(hidden_.size());
  output_ = Dense("fc", channels, 1);
  if (config.ngram_order > 0) embedding_.set_ngrams(config.ngram_order, {});  // bind_vocabulary adds the n-grams
  if (config.ngram_path > 0) {
    ngram_path_ = Embedding("ngrams", config.vocab_size, 1, 0);
    ngram_path_.set_ngrams(config.ngram_path, {});
    ngram_gain_ = Parameter("ngrams.gain", {1});
  }
}

void Classifier::bind_vocabulary(const Vocabulary& vocabulary) {
  const int order = config_.ngram_order > 0 ? config_.ngram_order : config_.ngram_path;
  if (order == 0) return;
  check(vocabulary.size() == config_.vocab_size, "classifier: the vocabulary's size differs from config.vocab_size");
  std::vector<Embedding::NgramRow> table;
  for (int32_t row = 2; row < vocabulary.size(); ++row) {
    const std::string_view entry = vocabulary.word(row);
    if (entry.find(' ') == std::string_view::npos) continue;  // a word: its own row
    int32_t ids[Embedding::kMaxNgramOrder];
    const int n = vocabulary.entry_word_ids(entry, order, ids);  // each word known, at most `order` of them
    if (n >= 2) table.push_back({Embedding::pack_ngram(ids, n), row});
  }
  (config_.ngram_order > 0 ? embedding_ : ngram_path_).set_ngrams(order, std::move(table));
  ngrams_bound_ = true;
}

void Classifier::bind_ngrams(const std::vector<std::array<int32_t, 3>>& grams, int32_t first_row) {
  const int order = config_.ngram_order > 0 ? config_.ngram_order : config_.ngram_path;
  if (order == 0) return;
  check(first_row >= 2 && static_cast<int64_t>(first_row) + static_cast<int64_t>(grams.size()) <= config_.vocab_size,
        "classifier: the n-grams' rows lie outside the vocabulary");
  std::vector<Embedding::NgramRow> table;
  table.reserve(grams.size());
  for (size_t i = 0; i < grams.size(); ++i) {
    const int n = grams[i][2] != 0 ? 3 : 2;
    if (n <= order) table.push_back({Embedding::pack_ngram(grams[i].data(), n), first_row + static_cast<int32_t>(i)});
  }
  (config_.ngram_order > 0 ? embedding_ : ngram_path_).set_ngrams(order, std::move(table));
  ngrams_bound_ = true;
}

const TransformerEncoder* Classifier::transformer() const {
  for (const auto& layer : encoder_)
    if (auto t = dynamic_cast<const TransformerEncoder*>(layer.get())) return t;
  return nullptr;
}

void Classifier::init(Rng& rng) {
  embedding_.init(rng);
  for (auto& layer : encoder_) layer->init(rng);
  pooling_->init(rng);
  for (auto& dense : hidden_) dense.init(rng);
  output_.init(rng);
  if (config_.ngram_path > 0) {  // the path starts silent; naive_bayes_init (train/session.hpp) gives it a start
    ngram_path_.weight.value.setZero();
    ngram_gain_.value.setConstant(Scalar(1));
  }
}

std::vector<Parameter*> Classifier::parameters() {
  std::vector<Parameter*> params = embedding_.parameters();
  for (auto& layer : encoder_)
    for (auto* p : layer->parameters()) params.push_back(p);
  for (auto* p : pooling_->parameters()) params.push_back(p);
  for (auto& dense : hidden_)
    for (auto* p : dense.parameters()) params.push_back(p);
  for (auto* p : output_.parameters()) params.push_back(p);
  if (config_.ngram_path > 0) {
    params.push_back(&ngram_path_.weight);
    params.push_back(&ngram_gain_);
  }
  return params;
}

int64_t Classifier::parameter_count() {
  int64_t total = 0;
  for (auto* p : parameters()) total += p->size();
  return total;
}

}  // namespace attnlens
