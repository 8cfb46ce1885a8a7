// Skip-gram with negative sampling (Mikolov et al. 2013, "Distributed Representations of
// Words and Phrases and their Compositionality"), used to initialise the embedding from
// unlabelled text before supervised training. Single-threaded and seeded, so the result
// is reproducible.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.hpp"

namespace attnlens {

struct Word2VecOptions {
  int dim = 64;
  int window = 5;          // maximum context distance; each centre word draws 1..window
  int negatives = 5;       // negative samples per (centre, context) pair
  int epochs = 3;
  double learning_rate = 0.025;  // decays linearly to 1e-4 of this
  double subsample = 1e-4;       // frequent-word subsampling threshold t
  uint64_t seed = 1;
};

// corpus: token-id sequences; ids 0 (PAD) and 1 (UNK) are skipped. Returns the input
// vectors [vocab_size, dim]; rows of words never seen keep their small random start.
// progress(epoch, fraction_done) is called now and then.
ParamMatrix train_word2vec(const std::vector<std::vector<int32_t>>& corpus, int vocab_size, const Word2VecOptions& options,
                           const std::function<void(int, double)>& progress = {});

}  // namespace attnlens
