// Tests that need the IMDB data. Exit 0 pass, 1 fail, 77 skipped (data missing and CI
// is not "true"; under CI=true missing data is a failure).
//   imdb_tests accuracy MODEL MIN_ACCURACY   the model on the full official test set
//   imdb_tests cli-train ATTNLENS_BINARY     train → history → eval --json through the CLI
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "missing_data.hpp"
#include "data/imdb.hpp"
#include "io/model_file.hpp"
#include "train/trainer.hpp"

using namespace attnlens;
using nlohmann::json;

namespace {

int accuracy(const std::string& model, double threshold, const std::string& data) {
  ClassifierBundle bundle = load_classifier(model);
  const std::vector<Review> reviews = load_imdb(data, "test");
  std::vector<Example> examples;
  std::vector<size_t> indices;
  for (const Review& r : reviews) {
    indices.push_back(examples.size());
    examples.push_back({encode(tokenize(r.text, bundle.tokenizer), bundle.vocabulary), static_cast<float>(r.label)});
  }
  TrainOptions options;
  options.threads = 2;
  Trainer evaluator(*bundle.model, options);
  const EvalResult result = evaluator.evaluate(examples, indices);
  std::cout << model << ": IMDB test accuracy " << 100 * result.accuracy << " % (loss " << result.loss << ") on "
            << result.count << " reviews; required " << 100 * threshold << " %\n";
  if (result.count != 25000) {
    std::cout << "FAILED: expected the full 25,000-review test set\n";
    return 1;
  }
  return result.accuracy >= threshold ? 0 : 1;
}

std::string capture(const std::string& command, int& status) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw Error("cannot run " + command);
  std::string out;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int raw = pclose(pipe);
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

#define EXPECT(condition)                                                  \
  do {                                                                     \
    if (!(condition)) {                                                    \
      std::cout << "FAILED: " #condition " (line " << __LINE__ << ")\n"; \
      return 1;                                                            \
    }                                                                      \
  } while (0)

int cli_train(const std::string& cli, const std::string& data) {
  const auto dir = std::filesystem::temp_directory_path() / "attnlens-cli-train";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string model = (dir / "tiny.safetensors").string();
  int status;
  const std::string train_log =
      capture("'" + cli + "' train --data '" + data + "' --limit 400 --epochs 2 --vocab-size 2000 --embedding-dim 8 "
              "--hidden-size 8 --out '" + model + "' 2>&1", status);
  std::cout << train_log;
  EXPECT(status == 0);
  EXPECT(std::filesystem::exists(model));
  EXPECT(train_log.find("reviews/s") != std::string::npos);
  const json history = json::parse(std::ifstream(dir / "tiny.history.json"));
  EXPECT(history.size() == 2);
  EXPECT(history[0].contains("validation_accuracy") && history[0].contains("train_loss"));
  std::ifstream csv(dir / "tiny.history.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT(header.rfind("epoch,", 0) == 0);
  for (const auto& entry : std::filesystem::directory_iterator(dir))  // no temporary files left behind
    EXPECT(entry.path().string().find(".tmp-") == std::string::npos);

  const std::string eval_out =
      capture("'" + cli + "' eval --model '" + model + "' --data '" + data + "' --split test --limit 300 --json", status);
  EXPECT(status == 0);
  const json result = json::parse(eval_out);
  EXPECT(result["count"] == 300);
  EXPECT(result["accuracy"].get<double>() >= 0 && result["accuracy"].get<double>() <= 1);
  EXPECT(result["loss"].get<double>() > 0);
  const json& confusion = result["confusion_matrix"];
  EXPECT(confusion["true_positive"].get<int>() + confusion["false_negative"].get<int>() +
             confusion["false_positive"].get<int>() + confusion["true_negative"].get<int>() == 300);
  ClassifierBundle bundle = load_classifier(model);
  EXPECT(bundle.provenance["train_examples"] == 320);
  EXPECT(bundle.provenance.contains("command"));
  std::filesystem::remove_all(dir);
  std::cout << "cli-train: passed\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (!((mode == "accuracy" && argc == 4) || (mode == "cli-train" && argc == 3))) {
    std::cerr << "usage: imdb_tests accuracy MODEL MIN_ACCURACY | imdb_tests cli-train ATTNLENS_BINARY\n";
    return 1;
  }
  const std::string data = default_data_directory();
  try {
    locate_imdb(data);
  } catch (const Error& e) {
    return testing::missing_data(e.what(), "the IMDB data", "the IMDB data in ../shared/data/imdb/");
  }
  try {
    return mode == "accuracy" ? accuracy(argv[2], std::stod(argv[3]), data) : cli_train(argv[2], data);
  } catch (const std::exception& e) {
    std::cout << "FAILED: " << e.what() << "\n";
    return 1;
  }
}
