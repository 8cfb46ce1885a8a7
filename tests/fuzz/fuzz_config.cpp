// The JSON a user writes: a classifier or translator config, and a training config file
// (`attnlens train --config`, `attnlens train-translator --config`) read through the CLI's own
// commands. What a config accepts must survive its own round trip.
#include <unistd.h>

#include <fstream>

#include "cli/train.hpp"
#include "cli/translation.hpp"
#include "fuzz.hpp"
#include "io/json_text.hpp"
#include "models/translator_config.hpp"

using namespace attnlens;

namespace {

const std::string& config_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/attnlens-fuzz-config-" + std::to_string(getpid()) + ".json";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::text_of(data, size);
  fuzz::accepts([&] {
    const nlohmann::json j = parse_json(text.data(), text.data() + text.size(), "fuzz.json");
    fuzz::accepts([&] {
      const ClassifierConfig config = ClassifierConfig::from_json(j);
      FUZZ_EXPECT(ClassifierConfig::from_json(config.to_json()).to_json() == config.to_json());
    });
    fuzz::accepts([&] {
      const TranslatorConfig config = TranslatorConfig::from_json(j);
      FUZZ_EXPECT(TranslatorConfig::from_json(config.to_json()).to_json() == config.to_json());
    });
  });
  {
    std::ofstream out(config_path(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  // The commands are declared once (their options keep references into these arguments); each
  // input starts from the defaults again, as a fresh `attnlens train --config FILE` would.
  static CLI::App app;
  static cli::TrainArgs train;
  static cli::TrainTranslatorArgs translator;
  static CLI::App* const train_cmd = cli::add_train_command(app, train);
  static CLI::App* const translator_cmd = cli::add_train_translator_command(app, translator);
  static const cli::TrainArgs train_defaults = train;
  static const cli::TrainTranslatorArgs translator_defaults = translator;
  train = train_defaults;
  train.config_path = config_path();
  if (fuzz::accepts([&] { cli::apply_config_file(train, *train_cmd); }))
    FUZZ_EXPECT(ClassifierConfig::from_json(train.model.to_json()).to_json() == train.model.to_json());
  translator = translator_defaults;
  translator.config_path = config_path();
  fuzz::accepts([&] { cli::apply_config_file(translator, *translator_cmd); });
  return 0;
}
