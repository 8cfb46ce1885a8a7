// Helpers shared by the CLI's commands.
#pragma once
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/json_integer.hpp"
#include "io/json_text.hpp"
#include "io/safetensors.hpp"
#include "train/trainer.hpp"

namespace attnlens::cli {

using nlohmann::json;

inline std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  std::ostringstream out;
  out << s / 3600 << ':' << std::setw(2) << std::setfill('0') << (s / 60) % 60 << ':' << std::setw(2) << s % 60;
  return out.str();
}

inline std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buffer;
}

inline std::string machine_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) { model = line.substr(line.find(':') + 2); break; }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " hardware threads";
}

inline json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path + ": cannot open");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(!in.bad(), path + ": cannot read");
  return parse_json(text, path);  // "<path> is not valid JSON (…)", "<path> names 'k' twice"
}

// A training config file: a JSON object whose keys are all among `sections`.
inline json read_config(const std::string& path, std::initializer_list<const char*> sections) {
  const json config = read_json_file(path);
  check(config.is_object(), path + ": expected a JSON object with 'model' and 'training'");
  for (const auto& item : config.items()) {
    bool known = false;
    for (const char* section : sections) known = known || item.key() == section;
    check(known, path + ": unknown section '" + item.key() + "'");
    check(item.value().is_object(), path + ": section '" + item.key() + "' must be a JSON object");
  }
  return config;
}

// Reads section[key] into target, unless `flag` (may be null) was given on the command line
// (flags win). A value from the file must pass the flag's own checks (its ranges).
template <class T>
void set_from_config(const std::string& path, const json& section, const char* key, const CLI::App& cmd,
                     const char* flag, T& target) {
  if (!section.contains(key) || (flag && cmd.count(flag) > 0)) return;
  const json& value = section.at(key);
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    target = json_integer<T>(value, path + ": '" + key + "'");
  } else {
    try {
      target = value.get<T>();
    } catch (const json::exception&) {
      throw Error(path + ": '" + key + "' has the wrong type");
    }
  }
  if (!flag) return;
  // CLI11 hands out an option's validators only through a non-const option (they are not changed here).
  CLI::Option* option = const_cast<CLI::App&>(cmd).get_option_no_throw(flag);
  for (int i = 0; option; ++i) {
    CLI::Validator* validator = nullptr;
    try {
      validator = option->get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      break;
    }
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    const std::string problem = (*validator)(text);
    check(problem.empty(), path + ": '" + key + "' (as " + flag + "): " + problem);
  }
}

// The flags every training command shares. `examples` names what a batch holds ("Reviews"),
// `metric` what early stopping watches ("validation accuracy").
inline void add_training_options(CLI::App* cmd, TrainOptions& options, const std::string& examples, const std::string& metric) {
  cmd->add_option("--epochs", options.epochs, "Epochs")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--batch-size", options.batch_size, examples + " per batch")->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--lr", options.learning_rate, "Adam learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lr-decay", options.learning_rate_decay, "Factor applied to the learning rate after each epoch")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--clip-norm", options.clip_norm, "Clip the global gradient norm to this (0: off)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--seed", options.seed, "Seed for initialisation, split, shuffling and dropout")->capture_default_str();
  cmd->add_option("--patience", options.patience, "Stop after this many epochs without a better " + metric + " (0: off)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--threads", options.threads, "Worker threads")->check(CLI::Range(1, 64))->capture_default_str();
}

// --checkpoint FILE, --checkpoint-every N, --resume FILE (train and train-translator).
inline void add_checkpoint_options(CLI::App* cmd, std::string& checkpoint, size_t& every, std::string& resume) {
  cmd->add_option("--checkpoint", checkpoint,
                  "Keep a checkpoint here (written atomically after every epoch): weights, optimiser, random state, "
                  "position, history; --resume continues it exactly");
  cmd->add_option("--checkpoint-every", every, "Also write the checkpoint after every N batches (0: after epochs only)")
      ->check(CLI::Range(size_t{0}, size_t{100000000}))->capture_default_str();
  cmd->add_option("--resume", resume,
                  "Continue the run this checkpoint holds (same data, config and options; --epochs and --patience may "
                  "change); it is then kept up to date unless --checkpoint names another file")
      ->check(CLI::ExistingFile);
}

// Reads what add_training_options' flags set from a config file's "training" section (flags win).
inline void read_training_section(const std::string& path, const json& config, const CLI::App& cmd, TrainOptions& options) {
  const json training = config.value("training", json::object());
  const auto set = [&](const char* key, const char* flag, auto& target) {
    set_from_config(path, training, key, cmd, flag, target);
  };
  set("epochs", "--epochs", options.epochs);
  set("batch_size", "--batch-size", options.batch_size);
  set("learning_rate", "--lr", options.learning_rate);
  set("learning_rate_decay", "--lr-decay", options.learning_rate_decay);
  set("clip_norm", "--clip-norm", options.clip_norm);
  set("seed", "--seed", options.seed);
  set("patience", "--patience", options.patience);
}

inline void write_text_file(const std::string& path, const std::string& text) {
  safetensors::write_file_atomic(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// One line of progress on stderr: redrawn in place on a terminal, every 10 % otherwise.
class ProgressBar {
 public:
  explicit ProgressBar(std::string unit = "reviews") : unit_(std::move(unit)) {}
  void update(const Progress& p) {
    const int percent = p.total ? static_cast<int>(100 * p.done / p.total) : 100;
    if (!tty_ && percent / 10 == last_decile_ && p.epoch == last_epoch_) return;
    last_decile_ = percent / 10;
    last_epoch_ = p.epoch;
    const int filled = percent * 30 / 100;
    std::ostringstream line;
    line << "epoch " << p.epoch << '/' << p.epochs << " [" << std::string(filled, '#') << std::string(30 - filled, '.')
         << "] " << std::setw(3) << percent << "% loss " << std::fixed << std::setprecision(4) << p.loss << " acc "
         << std::setprecision(2) << 100 * p.accuracy << "% " << std::setprecision(0) << p.examples_per_second
         << " " << unit_ << "/s ETA " << format_duration(p.eta_seconds);
    std::cerr << (tty_ ? "\r" : "") << line.str() << (tty_ ? "" : "\n") << std::flush;
  }
  void finish_epoch(const EpochStats& s) {
    std::cerr << (tty_ ? "\n" : "") << "epoch " << s.epoch << " done in " << format_duration(s.seconds) << ": train loss "
              << std::fixed << std::setprecision(4) << s.train_loss << " acc " << std::setprecision(2)
              << 100 * s.train_accuracy << "% | validation loss " << std::setprecision(4) << s.validation_loss << " acc "
              << std::setprecision(2) << 100 * s.validation_accuracy << "%" << (s.improved ? " (best so far, saved)" : "")
              << std::endl;
  }

  // Ends the redrawn line (on a terminal) before other output.
  void end_line() {
    if (tty_) std::cerr << "\n";
  }

 private:
  std::string unit_;
  bool tty_ = ::isatty(2);
  int last_decile_ = -1, last_epoch_ = -1;
};


}  // namespace attnlens::cli
