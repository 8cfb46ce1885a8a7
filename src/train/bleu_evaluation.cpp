#include "train/bleu_evaluation.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "train/data_parallel.hpp"

namespace attnlens {

using nlohmann::json;

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
  for (int32_t id : h.tokens) words.emplace_back(vocabulary.word(id));
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

}  // namespace attnlens
