// The CLI as other tools drive it: exit codes, --help, error messages, JSON forms.
#include <sys/wait.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "helpers.hpp"
#include "io/model_file.hpp"

using namespace attnlens;
using nlohmann::json;

namespace {

struct Run {
  int status;
  std::string out;
};

// Runs the CLI through the shell; stderr is merged into out when merge_stderr is set.
Run run(const std::string& arguments, bool merge_stderr = false) {
  const std::string command = std::string("'") + ATTNLENS_CLI + "' " + arguments + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string temp_path(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }

std::string small_model() {
  const std::string path = temp_path("attnlens-cli-model.safetensors");
  save_classifier(path, testing::small_bundle());
  return path;
}

}  // namespace

TEST_CASE("cli: --help on every command, clear errors, non-zero exits", "[cli]") {
  CHECK(run("--help").status == 0);
  for (const char* command : {"train", "eval", "predict", "info"}) {
    const Run help = run(std::string(command) + " --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("Usage") != std::string::npos);
  }
  CHECK(run("").status != 0);
  const Run unknown = run("frobnicate", true);
  CHECK(unknown.status != 0);
  CHECK(unknown.out.find("frobnicate") != std::string::npos);
  const Run missing = run("predict", true);
  CHECK(missing.status != 0);
  CHECK(missing.out.find("--model is required") != std::string::npos);
  const Run bad_number = run("train --epochs zero", true);
  CHECK(bad_number.status != 0);
  CHECK(bad_number.out.find("--epochs") != std::string::npos);
  const Run no_file = run("predict --model /nonexistent.safetensors good", true);
  CHECK(no_file.status != 0);
  CHECK(no_file.out.find("/nonexistent.safetensors") != std::string::npos);
}

TEST_CASE("cli: a corrupt model file gives a named error, not a crash", "[cli]") {
  const std::string path = temp_path("attnlens-corrupt.safetensors");
  std::ofstream(path, std::ios::binary) << "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":";
  const Run r = run("predict --model '" + path + "' hello", true);
  CHECK(r.status == 1);
  CHECK(r.out.find("attnlens: error:") != std::string::npos);
  CHECK(r.out.find(path) != std::string::npos);
}

TEST_CASE("cli: predict --json and --batch --json", "[cli]") {
  const std::string model = small_model();
  const Run single = run("predict --model '" + model + "' --json 'Good film, not bad!'");
  REQUIRE(single.status == 0);
  const json result = json::parse(single.out);
  CHECK((result["label"] == "positive" || result["label"] == "negative"));
  CHECK(result["probability"].get<double>() >= 0);
  CHECK(result["probability"].get<double>() <= 1);
  REQUIRE(result["tokens"].size() == 6);
  CHECK(result["tokens"][0]["text"] == "good");
  CHECK(result["tokens"][0]["start"] == 0);
  CHECK(result["tokens"][0]["end"] == 4);
  double total = 0;
  for (const auto& t : result["tokens"]) total += t["weight"].get<double>();
  CHECK(total == Approx(1.0));
  CHECK(result["tokens"][5]["oov"] == true);  // "!" is not in the vocabulary

  const std::string input = temp_path("attnlens-batch.txt");
  std::ofstream(input, std::ios::binary) << "good film\n\nbad\r\nnot \xFF good <br /> film\n";
  const Run batch = run("predict --model '" + model + "' --batch --json < '" + input + "'");
  REQUIRE(batch.status == 0);
  std::istringstream lines(batch.out);
  std::string line;
  std::vector<json> rows;
  while (std::getline(lines, line)) rows.push_back(json::parse(line));
  REQUIRE(rows.size() == 4);  // one object per input line, empty lines included
  CHECK(rows[1]["tokens"].empty());
  CHECK(rows[2]["tokens"][0]["text"] == "bad");
  CHECK(rows[3]["tokens"].size() == 4);
  // Same text, same numbers: batch mode equals single mode.
  const json one = json::parse(run("predict --model '" + model + "' --json 'good film'").out);
  CHECK(one["probability"] == rows[0]["probability"]);

  CHECK(result["explanation"] == "attention");

  // A model without attention explains by gradient × input instead, and says so.
  ClassifierBundle cnn = testing::small_bundle();
  ClassifierConfig cnn_config = testing::architecture_configs(6)[2];
  cnn.model = std::make_unique<Classifier>(cnn_config);
  Rng rng(3);
  cnn.model->init(rng);
  const std::string cnn_path = temp_path("attnlens-cli-cnn.safetensors");
  save_classifier(cnn_path, cnn);
  const json saliency = json::parse(run("predict --model '" + cnn_path + "' --json 'good film, not bad at all'").out);
  CHECK(saliency["explanation"] == "gradient×input");
  double saliency_total = 0;
  for (const auto& t : saliency["tokens"]) saliency_total += t["weight"].get<double>();
  CHECK(saliency_total == Approx(1.0));

  const Run info = run("info --model '" + model + "'");
  REQUIRE(info.status == 0);
  CHECK(json::parse(info.out)["vocabulary_size"] == 6);
}

TEST_CASE("cli: train and eval report missing data clearly", "[cli]") {
  const Run r = run("eval --model '" + small_model() + "' --data /nonexistent-data --json", true);
  CHECK(r.status == 1);
  CHECK(r.out.find("IMDB data not found under '/nonexistent-data'") != std::string::npos);
  CHECK(r.out.find("--data") != std::string::npos);
}
