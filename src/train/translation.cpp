#include "train/translation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "train/epochs.hpp"
#include "train/dataset.hpp"

namespace attnlens {

using nlohmann::json;

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

std::string length_bucket_name(size_t bucket) {
  check(bucket < kLengthBucketStarts.size(), "length bucket out of range");
  if (bucket + 1 == kLengthBucketStarts.size()) return std::to_string(kLengthBucketStarts[bucket]) + "+";
  return std::to_string(kLengthBucketStarts[bucket]) + "-" + std::to_string(kLengthBucketStarts[bucket + 1] - 1);
}

size_t length_bucket(int tokens) {
  size_t bucket = 0;
  for (size_t k = 0; k < kLengthBucketStarts.size(); ++k)
    if (tokens >= kLengthBucketStarts[k]) bucket = k;
  return bucket;
}

json BleuReport::to_json() const {
  json buckets = json::array();
  for (size_t k = 0; k < by_length.size(); ++k) {
    json b = by_length[k].to_json();
    b["tokens"] = length_bucket_name(k);
    buckets.push_back(b);
  }
  json j = overall.to_json();
  j["bleu_single_reference"] = single_reference.score();
  j["pairs"] = single_reference.sentences();
  j["by_source_length"] = buckets;
  j["seconds"] = seconds;
  return j;
}

namespace {

std::vector<std::string> words_of(const Hypothesis& h, const Vocabulary& vocabulary) {
  std::vector<std::string> words;
  for (int32_t id : h.tokens) words.push_back(vocabulary.word(id));
  return words;
}

}  // namespace

BleuReport evaluate_bleu(const Translator& model, const TranslationCorpus& corpus, const std::vector<size_t>& indices,
                         const Vocabulary& target_vocabulary, const DecodeOptions& options, int threads) {
  const auto started = std::chrono::steady_clock::now();
  std::map<std::string, size_t> group_of;
  std::vector<std::vector<size_t>> groups;
  for (size_t i : indices) {
    const auto [it, inserted] = group_of.emplace(corpus.source_key[i], groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  // Sort distinct sources by length so greedy batches carry little padding.
  std::vector<size_t> order(groups.size());
  for (size_t g = 0; g < order.size(); ++g) order[g] = g;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return corpus.source[groups[a].front()].size() < corpus.source[groups[b].front()].size();
  });
  // Fixed work items — greedy batches of 128 consecutive sources, or single sources for beam
  // search — dealt round-robin to the threads: the batches, and so every float, are the same
  // whatever the thread count.
  const size_t item_size = options.beam == 1 ? 128 : 1;
  const size_t items = (order.size() + item_size - 1) / item_size;
  std::vector<std::vector<std::string>> hypotheses(groups.size());
  const size_t workers = std::max<size_t>(1, std::min<size_t>(items, static_cast<size_t>(std::max(1, threads))));
  parallel_ranges(workers, static_cast<int>(workers), [&](size_t worker, size_t, size_t) {
    Translator local(model);
    for (size_t item = worker; item < items; item += workers) {
      const size_t start = item * item_size, stop = std::min(order.size(), start + item_size);
      if (options.beam == 1) {
        std::vector<std::vector<int32_t>> sources;
        for (size_t k = start; k < stop; ++k) sources.push_back(corpus.source[groups[order[k]].front()]);
        const auto results = greedy_decode(local, sources, options.max_length);
        for (size_t k = start; k < stop; ++k) hypotheses[order[k]] = words_of(results[k - start], target_vocabulary);
      } else {
        hypotheses[order[start]] = words_of(beam_search(local, corpus.source[groups[order[start]].front()], options), target_vocabulary);
      }
    }
  });
  BleuReport report;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<std::vector<std::string>> references;
    for (size_t i : groups[g]) {
      references.push_back(corpus.references[i]);
      report.single_reference.add(hypotheses[g], {corpus.references[i]});
    }
    report.overall.add(hypotheses[g], references);
    report.by_length[length_bucket(corpus.source_lengths[groups[g].front()])].add(hypotheses[g], references);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

json TranslationEpochStats::to_json() const {
  return {{"epoch", epoch},
          {"learning_rate", learning_rate},
          {"train_loss", train_loss},
          {"train_token_accuracy", train_token_accuracy},
          {"validation_loss", validation_loss},
          {"validation_token_accuracy", validation_token_accuracy},
          {"validation_bleu", validation_bleu},
          {"seconds", seconds},
          {"sentences_per_second", sentences_per_second},
          {"improved", improved}};
}

TranslationTrainer::TranslationTrainer(Translator& model, const TrainOptions& options)
    : model_(model), options_(options), optimizer_(Adam::Options{options.learning_rate}) {
  check(options.epochs >= 1, "epochs must be at least 1");
  check(options.batch_size >= 1, "batch size must be at least 1");
  check(options.threads >= 1 && options.threads <= 64, "threads must be between 1 and 64");
  check(options.learning_rate > 0 && std::isfinite(options.learning_rate), "learning rate must be positive");
  for (int i = 1; i < options.threads; ++i) replicas_.push_back(model_);
}

Translator::Stats TranslationTrainer::run_batch(const TranslationCorpus& corpus, const std::vector<size_t>& batch,
                                                bool training, uint64_t dropout_seed) {
  const size_t shards = std::min(batch.size(), replicas_.size() + 1);
  std::vector<Translator::Stats> results(shards);
  int64_t batch_tokens = 0;
  for (size_t i : batch) batch_tokens += static_cast<int64_t>(corpus.target[i].size()) + 1;
  parallel_ranges(batch.size(), static_cast<int>(shards), [&](size_t shard, size_t begin, size_t end) {
    Translator& model = shard == 0 ? model_ : replicas_[shard - 1];
    const std::vector<size_t> indices(batch.begin() + static_cast<std::ptrdiff_t>(begin),
                                      batch.begin() + static_cast<std::ptrdiff_t>(end));
    Rng dropout_rng(dropout_seed * 1000003ull + shard);
    results[shard] = model.forward(make_translation_batch(corpus, indices), training ? &dropout_rng : nullptr);
    if (training) {
      for (Parameter* p : model.parameters()) p->zero_grad();
      model.backward(1.0 / static_cast<double>(batch_tokens));  // the batch's mean loss per target token
    }
  });
  Translator::Stats total;
  for (const auto& r : results) {
    total.loss_sum += r.loss_sum;
    total.tokens += r.tokens;
    total.correct += r.correct;
  }
  if (training) apply_gradients(model_, replicas_, shards, optimizer_, options_.clip_norm);
  return total;
}

namespace {

std::vector<Example> length_keys(const TranslationCorpus& corpus) {
  std::vector<Example> examples(corpus.source.size());
  for (size_t i = 0; i < examples.size(); ++i) examples[i].ids = corpus.source[i];
  return examples;
}

}  // namespace

Translator::Stats TranslationTrainer::evaluate_loss(const TranslationCorpus& corpus, const std::vector<size_t>& indices) {
  sync_replicas(model_, replicas_);
  Translator::Stats total;
  for (const auto& batch : length_bucketed_batches(length_keys(corpus), indices, options_.batch_size, nullptr)) {
    const auto r = run_batch(corpus, batch, false, 0);
    total.loss_sum += r.loss_sum;
    total.tokens += r.tokens;
    total.correct += r.correct;
  }
  return total;
}

std::vector<TranslationEpochStats> TranslationTrainer::fit(const TranslationCorpus& corpus, const std::vector<size_t>& train,
                                                           const std::vector<size_t>& validation,
                                                           const Vocabulary& target_vocabulary,
                                                           const std::function<void(const TranslationEpochStats&)>& on_epoch,
                                                           const std::function<void(const Progress&)>& on_progress) {
  const std::vector<Example> keys = length_keys(corpus);
  Rng order_rng(options_.seed ^ 0x5eed0fba7c4e5ull);
  uint64_t batch_counter = 0;
  const auto per_token = [](double value, int64_t tokens) { return value / static_cast<double>(std::max<int64_t>(1, tokens)); };
  return run_epochs<Translator, TranslationEpochStats>(
      model_, replicas_, optimizer_, options_, train.size(),
      [&] { return length_bucketed_batches(keys, train, options_.batch_size, &order_rng); },
      [&](const std::vector<size_t>& batch) {
        const auto r = run_batch(corpus, batch, true, options_.seed * 7919ull + (++batch_counter));
        check(std::isfinite(r.loss_sum),
              "training diverged: the loss became " + std::to_string(r.loss_sum) + " (try a lower learning rate)");
        return BatchTotals{r.loss_sum, r.correct, r.tokens};
      },
      [&](TranslationEpochStats& stats, const BatchTotals& sum, double train_seconds) {
        stats.train_loss = per_token(sum.loss_sum, sum.count);
        stats.train_token_accuracy = per_token(static_cast<double>(sum.correct), sum.count);
        stats.sentences_per_second = static_cast<double>(train.size()) / train_seconds;
        const std::vector<size_t>& held_out = validation.empty() ? train : validation;
        const auto v = evaluate_loss(corpus, held_out);
        stats.validation_loss = per_token(v.loss_sum, v.tokens);
        stats.validation_token_accuracy = per_token(static_cast<double>(v.correct), v.tokens);
        stats.validation_bleu =
            evaluate_bleu(model_, corpus, held_out, target_vocabulary, DecodeOptions{}, options_.threads).overall.score();
        return EpochScore{stats.validation_bleu, stats.validation_loss};
      },
      on_epoch, on_progress);
}

}  // namespace attnlens
