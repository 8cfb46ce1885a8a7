// A training run's checkpoint: everything needed to continue it so that it ends with exactly the
// tensors an uninterrupted run would have (issue 20). One safetensors file, written atomically:
//   tensors  model/<name>    the weights now
//            adam.m/<name>, adam.v/<name>   Adam's moments (absent before the first step)
//            best/<name>     the best epoch's weights so far (absent before the first epoch)
//   metadata format "attnlens.checkpoint", format_version "1",
//            identity  what the run is: kind, the model's config, the training options that shape
//                      its arithmetic, and a fingerprint of its data, vocabulary and split;
//            loop      where it stands (train/epoch_state.hpp): epoch, batch, totals, dropout
//                      counter, the batch-order generator, history, best score, stale epochs,
//                      Adam's step count and learning rate;
//            extra     what the caller keeps besides (the CLI: the provenance it is building).
// Resuming refuses a checkpoint of another kind, config, data or arithmetic, naming the difference.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layers/module.hpp"
#include "train/adam.hpp"
#include "train/epoch_state.hpp"
#include "train/trainer.hpp"

namespace attnlens {

constexpr const char* kCheckpointFormat = "attnlens.checkpoint";
constexpr const char* kCheckpointFormatVersion = "1";

// FNV-1a, 64 bits: a run's data, vocabulary and split, so a checkpoint is not resumed on other data.
class Fingerprint {
 public:
  Fingerprint& add(const void* bytes, size_t size);
  Fingerprint& add(const std::string& text) { return add(static_cast<uint64_t>(text.size())).add(text.data(), text.size()); }
  template <class T>
  Fingerprint& add(const T& value) {
    static_assert(std::is_arithmetic_v<T>);
    return add(&value, sizeof value);
  }
  template <class T>
  Fingerprint& add(const std::vector<T>& values) {
    add(static_cast<uint64_t>(values.size()));
    for (const T& v : values) add(v);
    return *this;
  }
  std::string hex() const;

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

struct CheckpointIdentity {
  std::string kind;            // "classifier" or "translator"
  nlohmann::json config;       // the model's config
  nlohmann::json training;     // checkpoint_training(options)
  std::string data;            // Fingerprint::hex() of the data, vocabulary and split
  nlohmann::json to_json() const;
};

// The training options a resumed run must share: all but epochs and patience, which may change
// (to train longer, or stop sooner).
nlohmann::json checkpoint_training(const TrainOptions& options);

std::vector<uint8_t> serialize_checkpoint(const CheckpointIdentity& identity, Module& model, const Adam& optimizer,
                                          const EpochLoopState& state, const nlohmann::json& extra);
void save_checkpoint(const std::string& path, const CheckpointIdentity& identity, Module& model, const Adam& optimizer,
                     const EpochLoopState& state, const nlohmann::json& extra);

// Reads a checkpoint for a run that is `expected` and puts its weights into `model`, its
// optimiser state into `optimizer` and its loop state into `state`; returns its extra. Refuses
// (Error naming the file and the difference) a file that is not a checkpoint, is damaged or
// truncated, or belongs to another run; on error nothing has been changed.
nlohmann::json load_checkpoint(const uint8_t* bytes, size_t size, const std::string& source,
                               const CheckpointIdentity& expected, Module& model, Adam& optimizer, EpochLoopState& state);
nlohmann::json load_checkpoint(const std::string& path, const CheckpointIdentity& expected, Module& model, Adam& optimizer,
                               EpochLoopState& state);
// A checkpoint's extra alone (what a run checks before preparing its data), after the same checks
// of its format; nothing else is read into anything.
nlohmann::json checkpoint_extra(const std::string& path);

}  // namespace attnlens
