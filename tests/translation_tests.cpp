// Tests that need the Tatoeba English-French pairs. Exit 0 pass, 1 fail, 77 skipped (data
// missing and CI is not "true"; under CI=true missing data is a failure).
//   translation_tests bleu ATTNLENS_BINARY ATTENTION_MODEL BASELINE_MODEL MIN_BLEU MIN_LONGEST_BUCKET_GAP
// Recomputes both shipped translators' test BLEU through `attnlens eval --json` (greedy), checks
// that they match what the model files record, that the attention model reaches MIN_BLEU, and
// that it beats the no-attention baseline by MIN_LONGEST_BUCKET_GAP points on the longest sources.
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "missing_data.hpp"
#include "data/imdb.hpp"
#include "data/tatoeba.hpp"
#include "io/translator_file.hpp"

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
    for (const auto& b : result["by_source_length"]) std::cout << ' ' << b["words"].get<std::string>() << ' ' << b["bleu"].get<double>();
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7 || std::string(argv[1]) != "bleu") {
    std::cerr << "usage: translation_tests bleu ATTNLENS_BINARY ATTENTION_MODEL BASELINE_MODEL MIN_BLEU MIN_LONGEST_BUCKET_GAP\n";
    return 1;
  }
  const std::string data = default_data_directory();
  try {
    locate_eng_fra(data);
  } catch (const Error& e) {
    return testing::missing_data(e.what(), "the English-French pairs", "eng-fra.tsv.gz in ../shared/data/eng-fra/");
  }
  try {
    return bleu(argv[2], argv[3], argv[4], std::stod(argv[5]), std::stod(argv[6]), data);
  } catch (const std::exception& e) {
    std::cout << "FAILED: " << e.what() << "\n";
    return 1;
  }
}
