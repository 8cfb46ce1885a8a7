// Distillation (Hinton et al. 2015; issue 18's fifth way): teacher models label reviews nobody
// labelled (IMDB's 50,000 unlabelled ones), and a student learns from those soft labels beside
// the gold labels of its training part. The teachers must have been trained on the student's
// training part and no more, so that no model in the chain is ever trained on its validation
// reviews (check_teacher_split; they did choose the teachers' best epochs, as they choose the
// student's, so validation figures read a little high and test is the clean measure).
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/model_file.hpp"

namespace attnlens {

// Each text's logit from `model`, read whole with its own tokenizer and vocabulary, by `threads`
// copies of it (one review at a time: what classify gives, whatever else is scored). forward_only:
// under ForwardOnly (layers/module.hpp), which keeps nothing for a backward pass.
std::vector<double> text_logits(const ClassifierBundle& model, const std::vector<std::string>& texts, int threads,
                                bool forward_only = true);

// The teachers' soft labels for `texts`: σ(the mean of their logits), each teacher reading each
// text whole with its own tokenizer and vocabulary. Runs `threads` copies of each teacher;
// on_teacher(k) is called once the first k teachers are done.
std::vector<float> teacher_labels(const std::vector<ClassifierBundle>& teachers, const std::vector<std::string>& texts,
                                  int threads, const std::function<void(size_t)>& on_teacher = {});

// Throws an Error naming `teacher` unless its provenance records the same labelled data, seed and
// sizes of the training and validation parts as `student` (training_provenance's fields): the
// same data, fraction and seed give the same split, so the teacher never saw the student's
// validation reviews.
void check_teacher_split(const nlohmann::json& teacher, const nlohmann::json& student, const std::string& name);

}  // namespace attnlens
