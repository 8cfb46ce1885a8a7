#include "train/translation_corpus.hpp"

#include <algorithm>
#include <map>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace attnlens {

Vocabulary build_target_vocabulary(const std::vector<std::vector<Token>>& token_lists, int max_size, int min_count) {
  check(max_size >= 5, "target vocabulary: max size must be at least 5");
  std::vector<std::string> words = Vocabulary::build(token_lists, max_size - 2, min_count).words();
  words.insert(words.begin() + 2, {"<s>", "</s>"});
  std::vector<std::string> clean;
  for (size_t i = 0; i < words.size(); ++i)
    if (i < 4 || (words[i] != "<s>" && words[i] != "</s>")) clean.push_back(words[i]);
  return Vocabulary(std::move(clean));
}

TranslationCorpus encode_pairs(const std::vector<SentencePair>& pairs, const TokenizerOptions& source_tokenizer,
                               const TokenizerOptions& target_tokenizer, const Vocabulary& source_vocabulary,
                               const Vocabulary& target_vocabulary) {
  TranslationCorpus corpus;
  for (const SentencePair& pair : pairs) {
    const std::vector<Token> source = tokenize(pair.source, source_tokenizer);
    const std::vector<Token> target = tokenize(pair.target, target_tokenizer);
    std::vector<int32_t> source_ids, target_ids;
    std::vector<std::string> reference;
    std::string key;
    for (const Token& t : source) {
      source_ids.push_back(source_vocabulary.id(t.text));
      key += t.text;
      key += ' ';
    }
    for (const Token& t : target) {
      target_ids.push_back(target_vocabulary.id(t.text));
      reference.push_back(t.text);
    }
    corpus.source.push_back(std::move(source_ids));
    corpus.target.push_back(std::move(target_ids));
    corpus.references.push_back(std::move(reference));
    corpus.source_key.push_back(std::move(key));
    corpus.source_lengths.push_back(static_cast<int>(source.size()));
  }
  return corpus;
}

PairSplit split_by_source(const std::vector<std::string>& source_keys, double validation_fraction, double test_fraction,
                          uint64_t seed) {
  check(validation_fraction >= 0 && test_fraction >= 0 && validation_fraction + test_fraction < 1,
        "split: validation and test fractions must be non-negative and leave room for training");
  std::map<std::string, std::vector<size_t>> groups;
  std::vector<std::string> order;
  for (size_t i = 0; i < source_keys.size(); ++i) {
    auto& group = groups[source_keys[i]];
    if (group.empty()) order.push_back(source_keys[i]);
    group.push_back(i);
  }
  Rng rng(seed ^ 0x7a70eba5ull);
  rng.shuffle(order);
  const size_t test_count = static_cast<size_t>(std::llround(test_fraction * static_cast<double>(order.size())));
  const size_t validation_count = static_cast<size_t>(std::llround(validation_fraction * static_cast<double>(order.size())));
  PairSplit split;
  for (size_t g = 0; g < order.size(); ++g) {
    auto& part = g < test_count ? split.test : g < test_count + validation_count ? split.validation : split.train;
    for (size_t i : groups[order[g]]) part.push_back(i);
  }
  for (auto* part : {&split.train, &split.validation, &split.test}) std::sort(part->begin(), part->end());
  return split;
}

TranslationBatch make_translation_batch(const TranslationCorpus& corpus, const std::vector<size_t>& indices) {
  TranslationBatch batch;
  const int B = static_cast<int>(indices.size());
  batch.source.batch = batch.decoder_input.batch = B;
  for (size_t i : indices) {
    check(!corpus.source[i].empty(), "translation: pair " + std::to_string(i) + " has an empty source sentence");
    batch.source.steps = std::max(batch.source.steps, static_cast<int>(corpus.source[i].size()));
    batch.decoder_input.steps = std::max(batch.decoder_input.steps, static_cast<int>(corpus.target[i].size()) + 1);
    batch.source.lengths.push_back(static_cast<int>(corpus.source[i].size()));
    batch.decoder_input.lengths.push_back(static_cast<int>(corpus.target[i].size()) + 1);
  }
  batch.source.ids.assign(static_cast<size_t>(batch.source.steps) * B, 0);
  batch.decoder_input.ids.assign(static_cast<size_t>(batch.decoder_input.steps) * B, 0);
  batch.targets.assign(batch.decoder_input.ids.size(), 0);
  for (int b = 0; b < B; ++b) {
    const size_t i = indices[static_cast<size_t>(b)];
    for (size_t t = 0; t < corpus.source[i].size(); ++t) batch.source.ids[t * B + static_cast<size_t>(b)] = corpus.source[i][t];
    const auto& y = corpus.target[i];
    for (size_t t = 0; t <= y.size(); ++t) {
      batch.decoder_input.ids[t * B + static_cast<size_t>(b)] = t == 0 ? kBos : y[t - 1];
      batch.targets[t * B + static_cast<size_t>(b)] = t < y.size() ? y[t] : kEos;
    }
  }
  return batch;
}

}  // namespace attnlens
