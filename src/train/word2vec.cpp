#include "train/word2vec.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace attnlens {

ParamMatrix train_word2vec(const std::vector<std::vector<int32_t>>& corpus, int vocab_size, const Word2VecOptions& options,
                           const std::function<void(int, double)>& progress) {
  check(vocab_size > 2 && options.dim > 0 && options.window > 0 && options.negatives > 0 && options.epochs > 0,
        "word2vec: invalid options");
  Rng rng(options.seed);
  const int dim = options.dim;
  // Word counts and the total, over real words only.
  std::vector<double> counts(static_cast<size_t>(vocab_size), 0.0);
  double total = 0;
  for (const auto& sentence : corpus)
    for (int32_t id : sentence) {
      check(id >= 0 && id < vocab_size, "word2vec: token id out of range");
      if (id > 1) { counts[id] += 1; total += 1; }
    }
  check(total > 0, "word2vec: the corpus has no words");
  // Keep probability for subsampling: (sqrt(f / t) + 1) · t / f, as in the reference implementation.
  std::vector<double> keep(static_cast<size_t>(vocab_size), 1.0);
  for (int w = 2; w < vocab_size; ++w) {
    if (counts[w] == 0) continue;
    const double f = counts[w] / total, t = options.subsample;
    keep[w] = t > 0 ? std::min(1.0, (std::sqrt(f / t) + 1) * t / f) : 1.0;
  }
  // Negative-sampling table from the unigram distribution raised to 3/4.
  std::vector<int32_t> table;
  {
    const size_t table_size = 10'000'000;
    double norm = 0;
    for (int w = 2; w < vocab_size; ++w) norm += std::pow(counts[w], 0.75);
    table.reserve(table_size);
    for (int w = 2; w < vocab_size && table.size() < table_size; ++w) {
      const size_t share = static_cast<size_t>(std::llround(table_size * std::pow(counts[w], 0.75) / norm));
      table.insert(table.end(), std::min(share, table_size - table.size()), w);
    }
    check(!table.empty(), "word2vec: empty sampling table");
  }

  ParamMatrix input(vocab_size, dim), output = ParamMatrix::Zero(vocab_size, dim);
  for (Eigen::Index i = 0; i < input.size(); ++i) input.data()[i] = static_cast<Scalar>((rng.uniform() - 0.5) / dim);
  Eigen::Matrix<Scalar, 1, Eigen::Dynamic> grad_input(dim);
  const double planned = static_cast<double>(options.epochs) * total;
  double processed = 0;
  std::vector<int32_t> kept;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    double epoch_processed = 0;
    for (size_t s = 0; s < corpus.size(); ++s) {
      kept.clear();
      for (int32_t id : corpus[s]) {
        if (id <= 1) continue;
        processed += 1;
        epoch_processed += 1;
        if (rng.uniform() < keep[id]) kept.push_back(id);
      }
      const Scalar lr = static_cast<Scalar>(options.learning_rate * std::max(1e-4, 1.0 - processed / planned));
      for (size_t centre = 0; centre < kept.size(); ++centre) {
        const int reach = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(options.window)));
        const size_t lo = centre >= static_cast<size_t>(reach) ? centre - reach : 0;
        const size_t hi = std::min(kept.size() - 1, centre + reach);
        for (size_t c = lo; c <= hi; ++c) {
          if (c == centre) continue;
          // Predict the context word kept[c] from the centre word: one positive, `negatives` negatives.
          auto v = input.row(kept[centre]);
          grad_input.setZero();
          for (int k = 0; k <= options.negatives; ++k) {
            int32_t target;
            Scalar label;
            if (k == 0) { target = kept[c]; label = 1; }
            else {
              target = table[rng.below(table.size())];
              if (target == kept[c]) continue;
              label = 0;
            }
            auto u = output.row(target);
            const Scalar score = v.dot(u);
            // d/dscore of −log σ(±score) = σ(score) − label
            const Scalar g = lr * (label - static_cast<Scalar>(1.0 / (1.0 + std::exp(-std::max<Scalar>(-30, std::min<Scalar>(30, score))))));
            grad_input.noalias() += g * u;
            u.noalias() += g * v;
          }
          v += grad_input;
        }
      }
      if (progress && s % 2000 == 0) progress(epoch, epoch_processed / total);
    }
    if (progress) progress(epoch, 1.0);
  }
  return input;
}

}  // namespace attnlens
