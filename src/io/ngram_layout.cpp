#include "io/ngram_layout.hpp"

#include "core/error.hpp"
#include "text/ngram_list.hpp"

namespace attnlens {

void put_in_ngram_layout(ClassifierBundle& bundle) {
  check(bundle.model != nullptr, "n-gram layout: no model");
  const ClassifierConfig& config = bundle.model->config();
  const int order = config.ngram_order > 0 ? config.ngram_order : config.ngram_path;
  if (order < 2 || ngram_layout_words(bundle.vocabulary, order) >= 0) return;
  NgramLayout layout = ngram_layout(bundle.vocabulary, order);
  for (int32_t id = 0; id < config.embedding_words && config.ngram_path > 0; ++id)
    check(layout.new_ids[static_cast<size_t>(id)] == id,
          "n-gram layout: the network's word '" + std::string(bundle.vocabulary.word(id)) + "' would move");
  ClassifierConfig moved = config;
  moved.vocab_size = layout.vocabulary.size();
  auto model = std::make_unique<Classifier>(moved);
  const std::string table = config.ngram_order > 0 ? "embedding.weight" : "ngrams.weight";
  const std::vector<Parameter*> from = bundle.model->parameters(), to = model->parameters();
  check(from.size() == to.size(), "n-gram layout: the model's parameters differ");
  for (size_t i = 0; i < from.size(); ++i) {
    check(from[i]->name == to[i]->name, "n-gram layout: the model's parameters differ");
    if (from[i]->name != table) {
      to[i]->value = from[i]->value;
      continue;
    }
    to[i]->value.setZero();
    for (Eigen::Index row = 0; row < from[i]->value.rows(); ++row) {
      const int32_t target = layout.new_ids[static_cast<size_t>(row)];
      if (target >= 0) to[i]->value.row(target) = from[i]->value.row(row);
    }
  }
  model->bind_vocabulary(layout.vocabulary);
  bundle.model = std::move(model);
  bundle.vocabulary = std::move(layout.vocabulary);
}

}  // namespace attnlens
