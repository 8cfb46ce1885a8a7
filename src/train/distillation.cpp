#include "train/distillation.hpp"

#include "core/error.hpp"
#include "core/loss.hpp"
#include "text/encoding.hpp"
#include "text/tokenizer.hpp"
#include "train/data_parallel.hpp"

namespace attnlens {

std::vector<float> teacher_labels(const std::vector<ClassifierBundle>& teachers, const std::vector<std::string>& texts,
                                  int threads, const std::function<void(size_t)>& on_teacher) {
  check(!teachers.empty(), "distillation: no teacher");
  check(threads >= 1, "distillation: threads must be at least 1");
  std::vector<double> logit_sums(texts.size(), 0.0);
  for (size_t k = 0; k < teachers.size(); ++k) {
    const ClassifierBundle& teacher = teachers[k];
    std::vector<Classifier> copies;
    copies.reserve(static_cast<size_t>(threads));
    for (int i = 0; i < threads; ++i) copies.push_back(*teacher.model);
    parallel_ranges(texts.size(), threads, [&](size_t part, size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const std::vector<int32_t> ids = encode(tokenize(texts[i], teacher.tokenizer), teacher.vocabulary);
        logit_sums[i] += copies[part].forward(single_batch(ids))(0, 0);
      }
    });
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
