// A classifier model file end to end, as the CLI and the page take one from a stranger: parse,
// check, build the model, classify one text with its explanation.
#include <cmath>

#include "fuzz.hpp"
#include "io/model_file.hpp"
#include "pipeline/classify.hpp"

using namespace attnlens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accepts([&] {
    ClassifierBundle bundle = load_classifier(data, size, "fuzz.safetensors");
    const std::string_view text = "This film was not good, it was <br /><br />BAD. L'homme-orchestre? 10/10 ☺";
    const Prediction prediction = classify(bundle, text);
    FUZZ_EXPECT(prediction.label == "positive" || prediction.label == "negative");
    size_t previous_end = 0;
    for (const TokenScore& token : prediction.tokens) {
      FUZZ_EXPECT(token.start >= previous_end && token.start < token.end && token.end <= text.size());
      previous_end = token.end;
    }
  });
  return 0;
}
