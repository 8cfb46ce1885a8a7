// Evaluates a model on the full official IMDB test set and fails below a threshold.
// usage: imdb_accuracy_test MODEL MIN_ACCURACY
// Exit 0 pass, 1 fail, 77 skipped (data missing and CI is not "true").
#include <cstdlib>
#include <iostream>

#include "core/error.hpp"
#include "data/imdb.hpp"
#include "io/model_file.hpp"
#include "train/trainer.hpp"

using namespace attnlens;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: imdb_accuracy_test MODEL MIN_ACCURACY\n";
    return 1;
  }
  const std::string data = default_data_directory();
  const char* ci = std::getenv("CI");
  try {
    locate_imdb(data);
  } catch (const Error& e) {
    std::cout << e.what() << "\n";
    if (ci && std::string(ci) == "true") {
      std::cout << "FAILED: CI=true and the IMDB data is missing\n";
      return 1;
    }
    std::cout << "SKIPPED: put the IMDB data in ../shared/data/imdb/ (or set ATTNLENS_DATA) to run this test\n";
    return 77;
  }
  try {
    const double threshold = std::stod(argv[2]);
    ClassifierBundle bundle = load_classifier(argv[1]);
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
    std::cout << argv[1] << ": IMDB test accuracy " << 100 * result.accuracy << " % (loss " << result.loss << ") on "
              << result.count << " reviews; required " << 100 * threshold << " %\n";
    if (result.count != 25000) {
      std::cout << "FAILED: expected the full 25,000-review test set\n";
      return 1;
    }
    return result.accuracy >= threshold ? 0 : 1;
  } catch (const std::exception& e) {
    std::cout << "FAILED: " << e.what() << "\n";
    return 1;
  }
}
