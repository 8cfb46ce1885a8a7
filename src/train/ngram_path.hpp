// Joining a trained network and a trained n-gram model into one classifier with an n-gram path
// (ClassifierConfig::ngram_path; issue 18's second way): the two models' logits averaged, in one
// file and one forward pass, each token's share of the n-gram part exact. The weights w and 1 − w
// go into the network's output layer and the path's gain, so the joined model's logit is
// (1 − w) · network + w · n-gram model (up to float rounding) for every text without a word the
// network knows and the n-gram model does not: the n-gram model reads such a word as <unk>, the
// joined model as a feature of weight zero (1 of the shipped GRU's 9,998 words is one).
#pragma once
#include <string>

#include "io/model_file.hpp"

namespace attnlens {

// `network`: a neural classifier without an n-gram path; `ngrams`: an n-gram model (ngram_order),
// both trained on the same training part (check_teacher_split) with the same tokenizer. The
// vocabulary is the network's words, then the n-gram model's other entries; the weights stay as
// stored (int8 stays int8). The provenance is the network's without its test and validation
// figures (no longer this model's), and under "ngram_path" the weight, `command`, the network's
// conversion command and the n-gram model's command and figures.
ClassifierBundle join_ngram_path(const ClassifierBundle& network, const ClassifierBundle& ngrams, double ngram_weight,
                                 const std::string& ngrams_name, const std::string& command);

}  // namespace attnlens
