#include "train/ngram_path.hpp"

#include <cmath>

#include "core/error.hpp"
#include "io/ngram_layout.hpp"
#include "train/distillation.hpp"

namespace attnlens {

namespace {

Parameter& parameter(Classifier& model, const std::string& name) {
  for (Parameter* p : model.parameters())
    if (p->name == name) return *p;
  throw Error("join: the model has no parameter " + name);
}

// Whether an n-gram model's vocabulary entry is one of its features: a word, or 2..order words
// each in its vocabulary (what Classifier::bind_vocabulary binds; the rest never occur).
bool is_feature(const Vocabulary& vocabulary, std::string_view entry, int order) {
  return vocabulary.entry_word_ids(entry, order) > 0;
}

}  // namespace

ClassifierBundle join_ngram_path(const ClassifierBundle& network, const ClassifierBundle& ngrams, double ngram_weight,
                                 const std::string& ngrams_name, const std::string& command) {
  const ClassifierConfig& net = network.model->config();
  const ClassifierConfig& linear = ngrams.model->config();
  check(net.ngram_order == 0 && net.ngram_path == 0, "join: --network must be a neural model without an n-gram path");
  check(linear.ngram_order > 0, "join: --ngrams must be an n-gram model (architecture ngram)");
  check(ngram_weight > 0 && ngram_weight < 1, "join: the n-gram model's weight must be between 0 and 1");
  check(tokenizer_to_json(network.tokenizer) == tokenizer_to_json(ngrams.tokenizer),
        "join: the two models tokenize differently (" + tokenizer_to_json(network.tokenizer).dump() + " against " +
            tokenizer_to_json(ngrams.tokenizer).dump() + ")");
  check_teacher_split(ngrams.provenance, network.provenance, ngrams_name);

  // The network's words keep their ids; the n-gram model's other features follow.
  std::vector<std::string> entries = network.vocabulary.words();
  for (int32_t id = 2; id < ngrams.vocabulary.size(); ++id) {
    const std::string_view entry = ngrams.vocabulary.word(id);
    if (network.vocabulary.id(entry) == Vocabulary::kUnk && is_feature(ngrams.vocabulary, entry, linear.ngram_order))
      entries.emplace_back(entry);
  }
  check(entries.size() <= (size_t{1} << 20), "join: the two vocabularies together exceed 2^20 entries");
  ClassifierBundle joined;
  joined.vocabulary = Vocabulary(entries);
  joined.tokenizer = network.tokenizer;
  joined.storage = network.storage;
  ClassifierConfig config = net;
  config.vocab_size = joined.vocabulary.size();
  config.ngram_path = linear.ngram_order;
  config.embedding_words = net.vocab_size;
  joined.model = std::make_unique<Classifier>(config);
  joined.model->bind_vocabulary(joined.vocabulary);

  Classifier& from = *network.model;
  Classifier& to = *joined.model;
  for (Parameter* p : from.parameters()) parameter(to, p->name).value = p->value;
  const double w = ngram_weight;
  Parameter& table = parameter(to, "ngrams.weight");
  table.value.setZero();
  const Parameter& weights = parameter(*ngrams.model, "embedding.weight");
  table.value(Vocabulary::kUnk, 0) = weights.value(Vocabulary::kUnk, 0);  // a word neither model knows
  for (int32_t id = 2; id < ngrams.vocabulary.size(); ++id) {
    const std::string_view entry = ngrams.vocabulary.word(id);
    if (!is_feature(ngrams.vocabulary, entry, linear.ngram_order)) continue;
    table.value(joined.vocabulary.id(entry), 0) = weights.value(id, 0);
  }
  parameter(to, "ngrams.gain").value.setConstant(static_cast<Scalar>(w * parameter(*ngrams.model, "fc.weight").value(0, 0)));
  parameter(to, "fc.weight").value *= static_cast<Scalar>(1 - w);
  parameter(to, "fc.bias").value(0, 0) = static_cast<Scalar>((1 - w) * parameter(from, "fc.bias").value(0, 0) +
                                                            w * parameter(*ngrams.model, "fc.bias").value(0, 0));

  // The network's record stays (its training, split and data); what it measured is no longer this
  // model's, and its conversion's command goes with the n-gram model's and the join's.
  joined.provenance = network.provenance;
  const nlohmann::json conversion = network.provenance.value("conversion", nlohmann::json::object());
  for (const char* key : {"test_accuracy", "test_loss", "test_count", "validation_accuracy", "validation_loss", "conversion"})
    joined.provenance.erase(key);
  const auto figure = [&](const char* key) { return ngrams.provenance.value(key, nlohmann::json()); };
  joined.provenance["ngram_path"] = {
      {"weight", w},
      {"command", command},
      {"network_conversion", conversion.value("command", std::string())},
      {"network_validation_accuracy", network.provenance.value("validation_accuracy", nlohmann::json())},
      {"ngrams", {{"file", ngrams_name}, {"command", figure("command")}, {"description", linear.describe()},
                  {"vocabulary", ngrams.vocabulary.size()}, {"validation_accuracy", figure("validation_accuracy")},
                  {"test_accuracy", figure("test_accuracy")}, {"training", figure("training")}}}};
  put_in_ngram_layout(joined);  // stored compactly; the network's words keep their ids
  return joined;
}

}  // namespace attnlens
