// Resumable training (issue 20): a run killed with SIGKILL at any moment — mid-batch, mid-save —
// and resumed from its checkpoint ends with exactly the tensors of a run never interrupted, for a
// classifier and a translator; a damaged, foreign or other run's checkpoint is refused and left as
// it was. Through the CLI, as a user would do it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "io/model_file.hpp"
#include "io/safetensors.hpp"
#include "train/synthetic.hpp"

using namespace attnlens;
namespace fs = std::filesystem;

namespace {

struct Outcome {
  bool killed = false;
  int status = -1;
  std::string output;
};

// Runs the CLI with `arguments` (and `environment`, "NAME=value" or ""); kills it with SIGKILL after
// `kill_after` seconds unless it has ended (0: never).
Outcome run_cli(const std::string& arguments, double kill_after = 0, const std::string& environment = "") {
  const fs::path log = fs::temp_directory_path() / ("attnlens-resume-" + std::to_string(::getpid()) + ".log");
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (!environment.empty()) putenv(const_cast<char*>(environment.c_str()));
    const std::string command = "exec '" + std::string(ATTNLENS_CLI) + "' " + arguments + " > '" + log.string() + "' 2>&1";
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  Outcome outcome;
  int status = 0;
  const auto started = std::chrono::steady_clock::now();
  while (true) {
    const pid_t done = waitpid(child, &status, WNOHANG);
    REQUIRE(done >= 0);
    if (done == child) break;
    if (kill_after > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() >= kill_after) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  outcome.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(log, std::ios::binary);
  outcome.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  fs::remove(log);
  return outcome;
}

// Every tensor of a safetensors file, by name.
std::map<std::string, ParamMatrix> tensors_of(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const safetensors::File file = safetensors::File::parse(bytes.data(), bytes.size(), path);
  std::map<std::string, ParamMatrix> tensors;
  for (const auto& entry : file.tensors()) {
    const std::vector<int64_t>& shape = entry.second.shape;
    const int64_t rows = shape.empty() ? 1 : shape[0];
    ParamMatrix value(rows, rows ? entry.second.element_count() / rows : 0);
    file.read_parameter(entry.first, shape, value);
    tensors[entry.first] = value;
  }
  return tensors;
}

// Trains once without interruption, then again killed at several moments and resumed each time;
// both must end with the same tensors in the model file and in the final checkpoint.
void check_kill_and_resume(const std::string& command, const fs::path& dir) {
  const std::string reference_out = (dir / "reference.safetensors").string(), reference_checkpoint = (dir / "reference.ckpt").string();
  const auto started = std::chrono::steady_clock::now();
  const Outcome reference = run_cli(command + " --out '" + reference_out + "' --checkpoint '" + reference_checkpoint + "'");
  INFO(reference.output);
  REQUIRE(reference.status == 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const std::string out = (dir / "resumed.safetensors").string(), checkpoint = (dir / "resumed.ckpt").string();
  const std::string first = command + " --out '" + out + "' --checkpoint '" + checkpoint + "'";
  const std::string again = command + " --out '" + out + "' --resume '" + checkpoint + "'";
  // Killed halfway through writing its second checkpoint: the first stays whole, a partial
  // temporary file is left beside it.
  const Outcome mid_save = run_cli(first, 0, "ATTNLENS_TEST_KILL_IN_CHECKPOINT=2");
  INFO(mid_save.output);
  REQUIRE(mid_save.killed);
  bool partial_left = false;
  for (const auto& entry : fs::directory_iterator(dir)) partial_left |= entry.path().filename().string().rfind("resumed.ckpt.tmp-", 0) == 0;
  CHECK(partial_left);
  // Then killed mid-run at several moments (fractions of the uninterrupted run's time; each run
  // first prepares its data), each time resumed from what the last one left.
  int kills = 0, resumes = 0;
  for (const double fraction : {0.35, 0.6, 0.5, 0.8, 0.7}) {
    const Outcome o = run_cli(again, fraction * seconds);
    INFO(o.output);
    REQUIRE((o.killed || o.status == 0));
    kills += o.killed;
    resumes += o.output.find("resuming") != std::string::npos;
    if (!o.killed) break;
  }
  const Outcome last = run_cli(again);
  INFO(last.output);
  REQUIRE(last.status == 0);
  CHECK(last.output.find("resuming") != std::string::npos);
  CHECK(kills >= 1);  // besides the one mid-save
  WARN("killed " << kills + 1 << " times (once mid-save), resumed " << resumes + 1 << " times; uninterrupted run " << seconds << " s");
  const auto expected_model = tensors_of(reference_out), resumed_model = tensors_of(out);
  CHECK(expected_model.size() > 3);
  CHECK(resumed_model == expected_model);  // bit for bit
  const auto expected_state = tensors_of(reference_checkpoint), resumed_state = tensors_of(checkpoint);
  CHECK(expected_state.size() > 3 * expected_model.size());  // weights, both moments and the best epoch's
  CHECK(resumed_state == expected_state);
}

}  // namespace

TEST_CASE("resume: a classifier killed at any moment and resumed ends bit-identical", "[resume]") {
  const fs::path dir = fs::temp_directory_path() / ("attnlens-resume-classifier-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  CueTaskOptions options;
  options.count = 1500;
  options.length = 24;
  options.seed = 5;
  {
    std::ofstream texts(dir / "cue.tsv", std::ios::binary);
    for (const CueText& t : make_cue_task(options)) texts << t.text << '\t' << (t.label == 1.f ? 1 : 0) << '\n';
  }
  // Dropout on, two threads: every random number and every shard's sum must come back the same.
  check_kill_and_resume("train --train-file '" + (dir / "cue.tsv").string() +
                            "' --epochs 3 --batch-size 16 --threads 2 --pretrain-epochs 0 --dropout 0.2 --embedding-dim 16 "
                            "--hidden-size 16 --checkpoint-every 3 --seed 7 --weight-decay 0.05",  // AdamW: its option must survive a resume
                        dir);
  fs::remove_all(dir);
}

TEST_CASE("resume: a translator killed at any moment and resumed ends bit-identical", "[resume][translation]") {
  const fs::path dir = fs::temp_directory_path() / ("attnlens-resume-translator-" + std::to_string(::getpid()));
  fs::create_directories(dir / "eng-fra");
  {
    std::ofstream pairs(dir / "eng-fra" / "eng-fra.tsv", std::ios::binary);
    const char* const subjects[][2] = {{"I am", "Je suis"}, {"You are", "Tu es"}, {"We are", "Nous sommes"}, {"They are", "Ils sont"}};
    const char* const states[][2] = {{"cold", "froid"}, {"tired", "fatigu\xC3\xA9"}, {"happy", "heureux"}, {"here", "ici"},
                                     {"late", "en retard"}, {"ready", "pr\xC3\xAAt"}};
    for (const auto& s : subjects)
      for (const auto& st : states)
        for (const char* end : {".", "!", "?"})
          pairs << s[0] << ' ' << st[0] << end << '\t' << s[1] << ' ' << st[1] << (end[0] == '.' ? "." : end[0] == '!' ? " !" : " ?") << '\n';
  }
  std::ofstream(dir / "config.json") << R"({"model": {"architecture": "translate-bahdanau", "embedding_dim": 16, "hidden_size": 16,
    "decoder_size": 32, "attention": "additive", "attention_size": 16, "output_size": 32, "dropout": 0.2}})";
  check_kill_and_resume("train-translator --data '" + dir.string() + "' --config '" + (dir / "config.json").string() +
                            "' --epochs 3 --batch-size 8 --threads 2 --checkpoint-every 2 --seed 3",
                        dir);
  fs::remove_all(dir);
}

TEST_CASE("resume: a damaged, foreign or other run's checkpoint is refused and left as it was", "[resume]") {
  const fs::path dir = fs::temp_directory_path() / ("attnlens-resume-refused-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const uint64_t seed : {5, 6}) {
    CueTaskOptions options;
    options.count = 200;
    options.length = 8;
    options.seed = seed;
    std::ofstream texts(dir / ("cue" + std::to_string(seed) + ".tsv"), std::ios::binary);
    for (const CueText& t : make_cue_task(options)) texts << t.text << '\t' << (t.label == 1.f ? 1 : 0) << '\n';
  }
  // `attnlens train` with these options, each replaced by `changes` where it names one.
  const auto train = [&](const std::map<std::string, std::string>& changes) {
    std::map<std::string, std::string> options = {
        {"--epochs", "1"},      {"--pretrain-epochs", "0"}, {"--embedding-dim", "8"}, {"--hidden-size", "8"},
        {"--threads", "2"},     {"--out", (dir / "m.safetensors").string()},       {"--train-file", (dir / "cue5.tsv").string()}};
    for (const auto& [flag, value] : changes) options[flag] = value;
    std::string command = "train";
    for (const auto& [flag, value] : options) command += " " + flag + " '" + value + "'";
    return command;
  };
  const std::string checkpoint = (dir / "run.ckpt").string();
  REQUIRE(run_cli(train({{"--checkpoint", checkpoint}})).status == 0);
  const std::vector<uint8_t> original = read_file_bytes(checkpoint);

  const auto refused = [&](const std::string& arguments, const std::string& message) {
    const Outcome o = run_cli(arguments);
    INFO(o.output);
    CHECK(o.status == 1);
    CHECK_THAT(o.output, Catch::Contains(message));
  };
  refused(train({{"--resume", checkpoint}, {"--hidden-size", "9"}}), "run.ckpt: a checkpoint of another run: its config.");
  refused(train({{"--resume", checkpoint}, {"--train-file", (dir / "cue6.tsv").string()}}),
          "run.ckpt: a checkpoint of another run: its data is");
  refused(train({{"--resume", checkpoint}, {"--threads", "1"}}), "its training.threads is 2, this run's is 1");
  refused(train({{"--resume", checkpoint}, {"--batch-size", "8"}}), "its training.batch_size is 64, this run's is 8");
  refused(train({{"--resume", (dir / "m.safetensors").string()}}),
          "m.safetensors: not a training checkpoint (its format is 'attnlens.classifier')");
  // The same file, truncated: refused by the container's own checks.
  const std::string truncated = (dir / "truncated.ckpt").string();
  safetensors::write_file_atomic(truncated, std::vector<uint8_t>(original.begin(), original.begin() + static_cast<long>(original.size() / 2)));
  refused(train({{"--resume", truncated}}), "truncated.ckpt:");
  CHECK(read_file_bytes(checkpoint) == original);  // refusing it changed nothing
  // --epochs may change: the finished one-epoch run goes on for a second epoch.
  const Outcome longer = run_cli(train({{"--resume", checkpoint}, {"--epochs", "2"}}));
  INFO(longer.output);
  CHECK(longer.status == 0);
  CHECK_THAT(longer.output, Catch::Contains("resuming") && Catch::Contains("epoch 2 done"));
  fs::remove_all(dir);
}
