#include "train/distillation.hpp"

#include <optional>

#include "core/error.hpp"
#include "core/loss.hpp"
#include "text/encoding.hpp"
#include "text/tokenizer.hpp"
#include "train/data_parallel.hpp"

namespace attnlens {

std::vector<double> text_logits(const ClassifierBundle& model, const std::vector<std::string>& texts, int threads,
                                bool forward_only) {
  check(threads >= 1, "text_logits: threads must be at least 1");
  std::vector<double> logits(texts.size(), 0.0);
  std::vector<Classifier> copies;
  copies.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) copies.push_back(*model.model);
  parallel_ranges(texts.size(), threads, [&](size_t part, size_t begin, size_t end) {
    std::optional<ForwardOnly> nothing_goes_backward;  // this thread's: no backward caches, no L × L attention kept
    if (forward_only) nothing_goes_backward.emplace();
    for (size_t i = begin; i < end; ++i) {
      const std::vector<int32_t> ids = encode(tokenize(texts[i], model.tokenizer), model.vocabulary);
      logits[i] = copies[part].forward(single_batch(ids))(0, 0);
    }
  });
  return logits;
}

std::vector<float> teacher_labels(const std::vector<ClassifierBundle>& teachers, const std::vector<std::string>& texts,
                                  int threads, const std::function<void(size_t)>& on_teacher) {
  check(!teachers.empty(), "distillation: no teacher");
  check(threads >= 1, "distillation: threads must be at least 1");
  std::vector<double> logit_sums(texts.size(), 0.0);
  for (size_t k = 0; k < teachers.size(); ++k) {
    // A kept forward pass, as the shipped students' labels were made (a Transformer's forward-only
    // pass differs within 1e-6 on texts over 1,024 tokens, which would change a re-run's labels).
    const std::vector<double> logits = text_logits(teachers[k], texts, threads, false);
    for (size_t i = 0; i < texts.size(); ++i) logit_sums[i] += logits[i];
    if (on_teacher) on_teacher(k + 1);
  }
  std::vector<float> labels(texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    labels[i] = static_cast<float>(sigmoid(logit_sums[i] / static_cast<double>(teachers.size())));
  return labels;
}

void check_teacher_split(const nlohmann::json& teacher, const nlohmann::json& student, const std::string& name) {
  for (const char* field : {"data", "seed", "train_examples", "validation_examples"}) {
    const nlohmann::json mine = student.value(field, nlohmann::json()), theirs =
        teacher.is_object() ? teacher.value(field, nlohmann::json()) : nlohmann::json();
    check(theirs == mine, "teacher " + name + ": its provenance has " + field + " " + (theirs.is_null() ? "(none)" : theirs.dump()) +
                              " where this run has " + mine.dump() +
                              "; a teacher must be trained on this run's training part only (the same data, "
                              "validation fraction, seed and --limit), or this run's validation reviews would shape it");
  }
}

}  // namespace attnlens
