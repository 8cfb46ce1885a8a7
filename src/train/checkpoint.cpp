#include "train/checkpoint.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "io/json_text.hpp"
#include "io/model_file.hpp"
#include "io/safetensors.hpp"

namespace attnlens {

using nlohmann::json;

Fingerprint& Fingerprint::add(const void* bytes, size_t size) {
  const auto* p = static_cast<const uint8_t*>(bytes);
  for (size_t i = 0; i < size; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ull;
  return *this;
}

std::string Fingerprint::hex() const {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash_));
  return text;
}

json CheckpointIdentity::to_json() const {
  return {{"kind", kind}, {"config", config}, {"training", training}, {"data", data}};
}

json checkpoint_training(const TrainOptions& options) {
  json j = options.to_json();
  j.erase("epochs");
  j.erase("patience");
  return j;
}

namespace {

// A matrix as a tensor named `name` of `shape` (no gradient, nothing charged: it is not a model's).
Parameter tensor(const std::string& name, const std::vector<int64_t>& shape, const ParamMatrix& value) {
  Parameter p;
  p.name = name;
  p.shape = shape;
  p.value = value;
  return p;
}

json loop_json(const EpochLoopState& s, const Adam::State& adam) {
  return {{"epoch", s.epoch},
          {"next_batch", s.next_batch},
          {"loss_sum", s.sum.loss_sum},
          {"correct", s.sum.correct},
          {"count", s.sum.count},
          {"done", s.done},
          {"seconds", s.seconds},
          {"batches_trained", s.batches_trained},
          {"order_rng", s.order_rng.state()},
          {"history", s.history},
          {"best_score", s.best_score.score},
          {"best_loss", s.best_score.loss},  // +inf before the first epoch: written as null
          {"epochs_without_improvement", s.best.epochs_without_improvement()},
          {"adam_steps", adam.steps},
          {"learning_rate", adam.learning_rate}};
}

// The first difference between what a checkpoint says it is and what the run is.
std::string difference(const json& found, const json& expected, const std::string& where) {
  if (found == expected) return "";
  if (found.is_object() && expected.is_object()) {
    for (const auto& [key, value] : expected.items()) {
      if (!found.contains(key)) return where + key + " is missing";
      const std::string d = difference(found[key], value, where + key + ".");
      if (!d.empty()) return d;
    }
    for (const auto& item : found.items())
      if (!expected.contains(item.key())) return where + item.key() + " is not this run's";
  }
  std::string shown = found.dump(), wanted = expected.dump();
  if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
  if (wanted.size() > 80) wanted = wanted.substr(0, 77) + "...";
  return (where.empty() ? std::string("it") : where.substr(0, where.size() - 1)) + " is " + shown + ", this run's is " + wanted;
}

}  // namespace

std::vector<uint8_t> serialize_checkpoint(const CheckpointIdentity& identity, Module& model, const Adam& optimizer,
                                          const EpochLoopState& state, const json& extra) {
  const std::vector<Parameter*> params = model.parameters();
  const Adam::State adam = optimizer.state();
  std::vector<Parameter> tensors;
  tensors.reserve(4 * params.size());
  for (size_t k = 0; k < params.size(); ++k) {
    const Parameter& p = *params[k];
    tensors.push_back(tensor("model/" + p.name, p.shape, p.value));
    if (!adam.first_moment.empty()) {
      tensors.push_back(tensor("adam.m/" + p.name, p.shape, adam.first_moment.at(k)));
      tensors.push_back(tensor("adam.v/" + p.name, p.shape, adam.second_moment.at(k)));
    }
    if (!state.best.weights().empty()) tensors.push_back(tensor("best/" + p.name, p.shape, state.best.weights().at(k)));
  }
  std::vector<const Parameter*> pointers;
  for (const Parameter& t : tensors) pointers.push_back(&t);
  return safetensors::serialize(pointers, {{"format", kCheckpointFormat},
                                           {"format_version", kCheckpointFormatVersion},
                                           {"identity", identity.to_json().dump()},
                                           {"loop", loop_json(state, adam).dump()},
                                           {"extra", extra.dump()}});
}

void save_checkpoint(const std::string& path, const CheckpointIdentity& identity, Module& model, const Adam& optimizer,
                     const EpochLoopState& state, const json& extra) {
  const std::vector<uint8_t> bytes = serialize_checkpoint(identity, model, optimizer, state, extra);
  // Fault injection for the kill-and-resume tests (tests/test_resume.cpp): ATTNLENS_TEST_KILL_IN_CHECKPOINT=N
  // kills the process with SIGKILL halfway through writing its N-th checkpoint, as a power cut would.
  static const char* const kill_at = std::getenv("ATTNLENS_TEST_KILL_IN_CHECKPOINT");
  static long saves = 0;
  if (kill_at && ++saves == std::atol(kill_at)) {
    if (FILE* f = std::fopen((path + ".tmp-" + std::to_string(::getpid())).c_str(), "wb")) {
      std::fwrite(bytes.data(), 1, bytes.size() / 2, f);
      std::fflush(f);
    }
    ::raise(SIGKILL);
  }
  safetensors::write_file_atomic(path, bytes);
}

namespace {

safetensors::File parse_checkpoint(const uint8_t* bytes, size_t size, const std::string& source) {
  safetensors::File file = safetensors::File::parse(bytes, size, source);
  const auto format = file.metadata().find("format");
  check(format != file.metadata().end() && format->second == kCheckpointFormat,
        source + ": not a training checkpoint (its format is '" +
            (format == file.metadata().end() ? std::string("missing") : format->second.substr(0, 40)) + "')");
  detail::check_format(file, kCheckpointFormat, kCheckpointFormatVersion);
  return file;
}

}  // namespace

json checkpoint_extra(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return detail::metadata_json(parse_checkpoint(bytes.data(), bytes.size(), path), "extra");
}

json load_checkpoint(const uint8_t* bytes, size_t size, const std::string& source, const CheckpointIdentity& expected,
                     Module& model, Adam& optimizer, EpochLoopState& state) {
  const safetensors::File file = parse_checkpoint(bytes, size, source);
  const std::string different = difference(detail::metadata_json(file, "identity"), expected.to_json(), "");
  check(different.empty(), source + ": a checkpoint of another run: its " + different);
  const json loop = detail::metadata_json(file, "loop");
  const json extra = detail::metadata_json(file, "extra");

  // Everything is read into new objects first, so a bad file changes nothing.
  const std::vector<Parameter*> params = model.parameters();
  const bool has_moments = file.tensors().count("adam.m/" + params.at(0)->name) > 0;
  const bool has_best = file.tensors().count("best/" + params.at(0)->name) > 0;
  const size_t expected_tensors = params.size() * (1 + (has_moments ? 2 : 0) + (has_best ? 1 : 0));
  check(file.tensors().size() == expected_tensors,
        source + ": holds " + std::to_string(file.tensors().size()) + " tensors, expected " + std::to_string(expected_tensors));
  const auto read = [&](const std::string& name, const Parameter& like) {
    ParamMatrix value(like.value.rows(), like.value.cols());
    file.read_parameter(name, like.shape, value);
    return value;
  };
  std::vector<ParamMatrix> weights, best;
  Adam::State adam;
  for (const Parameter* p : params) {
    weights.push_back(read("model/" + p->name, *p));
    if (has_moments) {
      adam.first_moment.push_back(read("adam.m/" + p->name, *p));
      adam.second_moment.push_back(read("adam.v/" + p->name, *p));
    }
    if (has_best) best.push_back(read("best/" + p->name, *p));
  }
  EpochLoopState s;
  try {
    s.epoch = loop.at("epoch").get<int>();
    s.next_batch = loop.at("next_batch").get<size_t>();
    s.sum = {loop.at("loss_sum").get<double>(), loop.at("correct").get<int64_t>(), loop.at("count").get<int64_t>()};
    s.done = loop.at("done").get<size_t>();
    s.seconds = loop.at("seconds").get<double>();
    s.batches_trained = loop.at("batches_trained").get<uint64_t>();
    s.order_rng.set_state(loop.at("order_rng").get<std::string>());
    s.history = loop.at("history");
    s.best_score.score = loop.at("best_score").get<double>();
    s.best_score.loss = loop.at("best_loss").is_null() ? INFINITY : loop.at("best_loss").get<double>();
    s.best.set(std::move(best), loop.at("epochs_without_improvement").get<int>());
    adam.steps = loop.at("adam_steps").get<int64_t>();
    adam.learning_rate = loop.at("learning_rate").get<double>();
  } catch (const std::exception& e) {  // a missing key, a wrong type, a damaged generator state
    throw Error(source + ": __metadata__.loop is damaged (" + e.what() + ")");
  }
  check(s.epoch >= 1 && s.history.is_array() && s.history.size() == static_cast<size_t>(s.epoch - 1) &&
            (adam.steps > 0) == has_moments && adam.learning_rate > 0 && std::isfinite(adam.learning_rate),
        source + ": __metadata__.loop does not agree with itself or with the tensors");
  Adam restored(optimizer.options());  // the run's own options (weight decay); the rest from the file
  restored.restore(std::move(adam));

  for (size_t k = 0; k < params.size(); ++k) params[k]->value = std::move(weights[k]);
  optimizer = std::move(restored);
  state = std::move(s);
  return extra;
}

json load_checkpoint(const std::string& path, const CheckpointIdentity& expected, Module& model, Adam& optimizer,
                     EpochLoopState& state) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return load_checkpoint(bytes.data(), bytes.size(), path, expected, model, optimizer, state);
}

}  // namespace attnlens
