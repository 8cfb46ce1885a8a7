// Tests that need the Tatoeba English-French pairs. Exit 0 pass, 1 fail, 77 skipped (data
// missing and CI is not "true"; under CI=true missing data is a failure).
//   translation_tests bleu ATTNLENS_BINARY ATTENTION_MODEL BASELINE_MODEL MIN_BLEU MIN_LONGEST_BUCKET_GAP
//   translation_tests split MODEL   the model's recorded split: no test English sentence is in training
// Recomputes both shipped translators' test BLEU through `attnlens eval --json` (greedy), checks
// that they match what the model files record, that the attention model reaches MIN_BLEU, and
// that it beats the no-attention baseline by MIN_LONGEST_BUCKET_GAP points on the longest sources.
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "missing_data.hpp"
#include "data/imdb.hpp"
#include "data/tatoeba.hpp"
#include "io/translator_file.hpp"
#include "train/translator_trainer.hpp"

using namespace attnlens;
using nlohmann::json;

namespace {

json eval_json(const std::string& cli, const std::string& model, const std::string& data) {
  const std::string command = "'" + cli + "' eval --model '" + model + "' --data '" + data + "' --split test --json";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw Error("cannot run " + command);
  std::string out;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int status = pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error(command + " failed");
  return json::parse(out);
}

int bleu(const std::string& cli, const std::string& attention_model, const std::string& baseline_model, double min_bleu,
         double min_gap, const std::string& data) {
  const json attention = eval_json(cli, attention_model, data), baseline = eval_json(cli, baseline_model, data);
  bool ok = true;
  for (const auto& [model, result] : {std::pair{attention_model, attention}, std::pair{baseline_model, baseline}}) {
    std::cout << model << ": test BLEU " << result["bleu"].get<double>() << " (single reference "
              << result["bleu_single_reference"].get<double>() << ") on " << result["sentences"] << " sentences; by length:";
    for (const auto& b : result["by_source_length"]) std::cout << ' ' << b["tokens"].get<std::string>() << ' ' << b["bleu"].get<double>();
    std::cout << "\n";
    const json recorded = load_translator(model).provenance.value("test_greedy", json::object());
    if (!recorded.contains("bleu") || std::abs(recorded["bleu"].get<double>() - result["bleu"].get<double>()) > 1e-6) {
      std::cout << "FAILED: " << model << " records test BLEU " << recorded.value("bleu", json()).dump()
                << ", eval measures " << result["bleu"] << "\n";
      ok = false;
    }
  }
  const double score = attention["bleu"].get<double>();
  const double gap = attention["by_source_length"].back()["bleu"].get<double>() - baseline["by_source_length"].back()["bleu"].get<double>();
  std::cout << "attention model BLEU " << score << " (required " << min_bleu << "); longest-bucket gap " << gap
            << " (required " << min_gap << ")\n";
  if (score < min_bleu || gap < min_gap) ok = false;
  return ok ? 0 : 1;
}

int split(const std::string& model, const std::string& data) {
  TranslatorBundle bundle = load_translator(model);
  const json recorded = bundle.provenance.at("split");
  const std::vector<SentencePair> pairs = load_sentence_pairs(locate_eng_fra(data));
  std::vector<std::string> keys;
  for (const SentencePair& pair : pairs) {
    std::string key;
    for (const Token& t : tokenize(pair.source, bundle.source_tokenizer)) key += t.text + ' ';
    keys.push_back(key);
  }
  const PairSplit parts = split_by_source(keys, recorded.at("validation_fraction").get<double>(),
                                          recorded.at("test_fraction").get<double>(), recorded.at("seed").get<uint64_t>());
  std::set<std::string> train_keys, train_raw;
  for (size_t i : parts.train) {
    train_keys.insert(keys[i]);
    train_raw.insert(pairs[i].source);
  }
  size_t leaked = 0;
  for (size_t i : parts.test) leaked += train_keys.count(keys[i]) + train_raw.count(pairs[i].source);
  std::cout << pairs.size() << " pairs: " << parts.train.size() << " train, " << parts.validation.size() << " validation, "
            << parts.test.size() << " test; test English sentences also in training: " << leaked << "\n";
  const bool sizes_match = bundle.provenance.value("test_pairs", size_t{0}) == parts.test.size() &&
                           bundle.provenance.value("train_pairs", size_t{0}) == parts.train.size();
  if (!sizes_match) std::cout << "FAILED: the split differs from the one the model file records\n";
  return leaked == 0 && sizes_match && !parts.test.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (!((mode == "bleu" && argc == 7) || (mode == "split" && argc == 3))) {
    std::cerr << "usage: translation_tests bleu ATTNLENS_BINARY ATTENTION_MODEL BASELINE_MODEL MIN_BLEU MIN_LONGEST_BUCKET_GAP\n"
                 "       translation_tests split MODEL\n";
    return 1;
  }
  const std::string data = default_data_directory();
  try {
    locate_eng_fra(data);
  } catch (const Error& e) {
    return testing::missing_data(e.what(), "the English-French pairs", "eng-fra.tsv.gz in ../shared/data/eng-fra/");
  }
  try {
    if (mode == "split") return split(argv[2], data);
    return bleu(argv[2], argv[3], argv[4], std::stod(argv[5]), std::stod(argv[6]), data);
  } catch (const std::exception& e) {
    std::cout << "FAILED: " << e.what() << "\n";
    return 1;
  }
}
