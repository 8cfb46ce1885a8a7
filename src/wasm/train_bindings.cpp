// The JS training API (embind): web/dist/attnlens-train.{js,wasm}, a module of its own so the
// classifier page never downloads the trainer. Used as:
//
//   import createAttnlensTrain from './dist/attnlens-train.js';
//   const lens = await createAttnlensTrain();   // emscripten module options, e.g. {wasmBinary}
//   const trainer = lens.Trainer.create(config, texts, labels, options);   // a new model: config as in a model
//                                                // file ({architecture, embedding_dim, hidden_size, pooling, …})
//   const trainer = lens.Trainer.fromBytes(bytes, texts, labels, options); // fine-tunes a model file's model
//       texts: strings; labels: 0/1; options: {batchSize, learningRate, learningRateDecay, clipNorm, maxLength,
//       seed, vocabSize, minCount, validationFraction, data (a description kept in the model's provenance)}
//   const step = trainer.step();    // {epoch, batch, batches, done, total, loss, accuracy, examplesPerSecond,
//                                   //  epochDone, validation: {loss, accuracy, count} | null}
//   trainer.evaluate(texts, labels) // {loss, accuracy, count, confusionMatrix}
//   trainer.classify(text)          // as model.classify, with the weights so far
//   trainer.toBytes()               // Uint8Array: a .safetensors model file (Model.fromBytes and the CLI load it)
//   trainer.info()                  // {architecture, description, parameters, vocabularySize, trainExamples, …}
//   trainer.delete();
//   lens.cueTask({count, length, fillers, negation, seed})  // the Train view's synthetic task:
//                                   // {texts, labels, cues (word index of the cue), negated}
//   lens.machinePeak(seconds)       // this engine's single-thread GEMM/GEMV peak here, for the benchmark:
//                                   // {gemmGflops, gemvGflops, packedGemmGflops (the loaded kernels'),
//                                   //  gemmSize, gemvSize} (bench/run.mjs)
//   lens.forwardFlops(config, tokens)  // FLOPs of one forward pass over one review (as attnlens bench counts them)
//
// The same seed, data and options give the same weights as `attnlens train --train-file … --threads 1`.
//
// One batch per step() call, so a worker can report progress and stop between batches;
// web/training.js wraps this module in a Web Worker behind promises and events.
// Token offsets are UTF-16 code units, as in the classifier module. Every failure is thrown
// as a JS Error with the engine's message.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <vector>

#include "bench/bench.hpp"
#include "core/error.hpp"
#include "core/json_integer.hpp"
#include "io/model_file.hpp"
#include "train/session.hpp"
#include "train/synthetic.hpp"
#include "wasm/classifier_js.hpp"
#include "wasm/common.hpp"

using emscripten::val;
using namespace attnlens;
using namespace attnlens::wasm;

namespace {

// Reads texts (strings) and labels (0/1 numbers or booleans) into labelled texts.
std::vector<LabelledText> labelled_texts(const val& texts, const val& labels, const char* who) {
  if (!val::global("Array").call<bool>("isArray", texts) || !val::global("Array").call<bool>("isArray", labels))
    throw Error(std::string(who) + " expects an array of texts and an array of labels");
  const size_t n = texts["length"].as<size_t>();
  if (labels["length"].as<size_t>() != n)
    throw Error(std::string(who) + ": " + std::to_string(n) + " texts but " +
                std::to_string(labels["length"].as<size_t>()) + " labels");
  std::vector<LabelledText> data(n);
  for (size_t i = 0; i < n; ++i) {
    data[i].text = utf8_of(texts[i], who);
    const val label = labels[i];
    const double value = label.isTrue() ? 1 : label.isFalse() ? 0 : label.isNumber() ? label.as<double>() : -1;
    if (value != 0 && value != 1)
      throw Error(std::string(who) + ": label " + std::to_string(i) + " is not 0 or 1");
    data[i].label = static_cast<float>(value);
  }
  return data;
}

class JsTrainer {
 public:
  static JsTrainer* create(const val& config, const val& texts, const val& labels, const val& options) {
    return js_errors([&] {
      const Settings settings = parse_options(options);
      nlohmann::json c = js_to_json(config, "Trainer.create: config");
      if (!c.contains("vocab_size")) c["vocab_size"] = settings.dataset.vocab_size;
      const ClassifierConfig parsed = ClassifierConfig::from_json(c);
      return new JsTrainer(prepare_training(parsed, labelled_texts(texts, labels, "Trainer.create"), settings.dataset),
                           settings, false);
    });
  }

  static JsTrainer* from_bytes(const val& bytes, const val& texts, const val& labels, const val& options) {
    return js_errors([&] {
      const Settings settings = parse_options(options);
      const std::vector<uint8_t> data = bytes_of(bytes, "Trainer.fromBytes");
      ClassifierBundle bundle = load_classifier(data.data(), data.size(), "model");
      return new JsTrainer(prepare_fine_tuning(std::move(bundle), labelled_texts(texts, labels, "Trainer.fromBytes"),
                                               settings.dataset),
                           settings, true);
    });
  }

  val step() {
    return js_errors([&] {
      const TrainingSession::Step s = session_.step();
      if (s.validation) last_validation_ = *s.validation;
      val out = val::object();
      out.set("epoch", s.epoch);
      out.set("batch", static_cast<double>(s.batch));
      out.set("batches", static_cast<double>(s.batches));
      out.set("done", static_cast<double>(s.done));
      out.set("total", static_cast<double>(s.total));
      out.set("loss", s.loss);
      out.set("accuracy", s.accuracy);
      out.set("examplesPerSecond", s.examples_per_second);
      out.set("epochDone", s.epoch_done);
      out.set("validation", s.validation ? json_to_js(s.validation->to_json()) : val::null());
      if (s.epoch_done) {
        last_train_ = {s.loss, s.accuracy};
        examples_per_second_ = s.examples_per_second;
      }
      return out;
    });
  }

  val evaluate(const val& texts, const val& labels) {
    return js_errors([&] {
      return json_to_js(session_.evaluate(labelled_texts(texts, labels, "evaluate")).to_json());
    });
  }

  val classify(const val& text) {
    return js_errors([&] {
      return classify_to_js(session_.bundle(), text);
    });
  }

  val to_bytes() {
    return js_errors([&] {
      ClassifierBundle& bundle = session_.bundle();
      const nlohmann::json before = bundle.provenance;
      nlohmann::json p = training_provenance(settings_.data, session_.split(), settings_.training);
      if (fine_tuned_) p["fine_tuned_from"] = before;
      p["training"].erase("epochs");
      p["training"].erase("threads");
      p["epochs_run"] = session_.completed_epochs();
      if (session_.completed_epochs() > 0) {
        p["train_loss"] = last_train_.first;
        p["train_accuracy"] = last_train_.second;
        p["examples_per_second"] = examples_per_second_;
      }
      if (last_validation_.count > 0) {
        p["validation_accuracy"] = last_validation_.accuracy;
        p["validation_loss"] = last_validation_.loss;
      }
      const val navigator = val::global("navigator");
      p["machine"] = "attnlens WebAssembly" + (navigator.isUndefined() ? std::string()
                                                : ", " + navigator["userAgent"].as<std::string>().substr(0, 200));
      p["date"] = val::global("Date").new_().call<std::string>("toISOString");
      bundle.provenance = p;
      const std::vector<uint8_t> bytes = serialize_classifier(bundle);
      bundle.provenance = before;
      val out = val::global("Uint8Array").new_(bytes.size());
      out.call<void>("set", val(emscripten::typed_memory_view(bytes.size(), bytes.data())));
      return out;
    });
  }

  // The session as bytes (a training checkpoint, train/checkpoint.hpp); `history` is the caller's
  // record of finished epochs (JSON-able), returned by resume().
  val checkpoint(const val& history) {
    return js_errors([&] {
      nlohmann::json records = nlohmann::json::array();
      if (!history.isUndefined() && !history.isNull()) {
        val wrapper = val::object();  // js_to_json reads plain objects
        wrapper.set("history", history);
        records = js_to_json(wrapper, "checkpoint")["history"];
      }
      const std::vector<uint8_t> bytes = session_.checkpoint(records);
      val out = val::global("Uint8Array").new_(bytes.size());
      out.call<void>("set", val(emscripten::typed_memory_view(bytes.size(), bytes.data())));
      return out;
    });
  }

  val resume(const val& bytes) {
    return js_errors([&] {
      const std::vector<uint8_t> data = bytes_of(bytes, "resume");
      return json_to_js(session_.resume(data.data(), data.size(), "checkpoint"));
    });
  }

  val info() {
    ClassifierBundle& bundle = session_.bundle();
    val info = val::object();
    info.set("architecture", bundle.model->config().architecture);
    info.set("description", bundle.model->config().describe());
    info.set("hasAttention", bundle.model->config().has_attention());
    info.set("parameters", static_cast<double>(bundle.model->parameter_count()));
    info.set("vocabularySize", bundle.vocabulary.size());
    info.set("trainExamples", static_cast<double>(session_.split().train.size()));
    info.set("validationExamples", static_cast<double>(session_.split().validation.size()));
    info.set("completedEpochs", session_.completed_epochs());
    info.set("fineTuning", fine_tuned_);
    return info;
  }

 private:
  struct Settings {
    TrainOptions training;
    DatasetOptions dataset;
    std::string data = "labelled texts given to the trainer";
  };

  static Settings parse_options(const val& options) {
    const nlohmann::json j = js_to_json(options, "Trainer: options");
    Settings s;
    s.training.threads = 1;
    s.training.epochs = 1;
    s.training.max_length = 0;
    s.dataset.validation_fraction = 0.1;
    for (const auto& [key, value] : j.items()) {
      const auto number = [&, key = key, value = value](double lo, double hi) {
        if (!value.is_number() || !(value.get<double>() >= lo && value.get<double>() <= hi))
          throw Error("Trainer: option " + key + " must be a number in [" + nlohmann::json(lo).dump() + ", " +
                      nlohmann::json(hi).dump() + "]");
        return value.get<double>();
      };
      if (key == "batchSize") s.training.batch_size = static_cast<int>(number(1, 4096));
      else if (key == "learningRate") s.training.learning_rate = number(1e-7, 10);
      else if (key == "learningRateDecay") s.training.learning_rate_decay = number(0.01, 1);
      else if (key == "clipNorm") s.training.clip_norm = number(0, 1e6);
      else if (key == "maxLength") s.training.max_length = static_cast<int>(number(0, 1e6));
      else if (key == "seed") s.training.seed = s.dataset.seed = static_cast<uint64_t>(number(0, 9007199254740991.0));
      else if (key == "vocabSize") s.dataset.vocab_size = static_cast<int>(number(3, 1 << 20));
      else if (key == "minCount") s.dataset.min_count = static_cast<int>(number(1, 1e9));
      else if (key == "validationFraction") s.dataset.validation_fraction = number(0, 0.9);
      else if (key == "data") {
        if (!value.is_string()) throw Error("Trainer: option data must be a string");
        s.data = value.get<std::string>().substr(0, 500);
      } else {
        throw Error("Trainer: unknown option '" + key +
                    "' (known: batchSize, learningRate, learningRateDecay, clipNorm, maxLength, seed, vocabSize, "
                    "minCount, validationFraction, data)");
      }
    }
    return s;
  }

  JsTrainer(PreparedTraining prepared, const Settings& settings, bool fine_tuned)
      : settings_(settings), session_(std::move(prepared), settings.training), fine_tuned_(fine_tuned) {}

  Settings settings_;
  TrainingSession session_;
  bool fine_tuned_;
  EvalResult last_validation_;
  std::pair<double, double> last_train_{0, 0};
  double examples_per_second_ = 0;
};

}  // namespace

val cue_task(const val& options) {
  return js_errors([&] {
    const nlohmann::json j = js_to_json(options, "cueTask");
    CueTaskOptions o;
    for (const auto& [key, value] : j.items()) {
      if (!value.is_number()) throw Error("cueTask: option " + key + " must be a number");
      const std::string what = "cueTask: option " + key;
      if (key == "count") o.count = json_integer<int>(value, what);
      else if (key == "length") o.length = json_integer<int>(value, what);
      else if (key == "fillers") o.fillers = json_integer<int>(value, what);
      else if (key == "negation") o.negation = value.get<double>();
      else if (key == "seed") o.seed = json_integer<uint64_t>(value, what);
      else throw Error("cueTask: unknown option '" + key + "' (known: count, length, fillers, negation, seed)");
    }
    val texts = val::array(), labels = val::array(), cues = val::array(), negated = val::array();
    const std::vector<CueText> task = make_cue_task(o);
    for (size_t i = 0; i < task.size(); ++i) {
      texts.set(i, task[i].text);
      labels.set(i, static_cast<int>(task[i].label));
      cues.set(i, task[i].cue);
      negated.set(i, task[i].negated);
    }
    val out = val::object();
    out.set("texts", texts);
    out.set("labels", labels);
    out.set("cues", cues);
    out.set("negated", negated);
    return out;
  });
}

val machine_peak(double seconds) {
  return js_errors([&] {
    const bench::Peak peak = bench::measure_peak(seconds);
    val out = val::object();
    out.set("gemmGflops", peak.gemm_gflops);
    out.set("gemvGflops", peak.gemv_gflops);
    out.set("packedGemmGflops", peak.packed_gemm_gflops);
    out.set("gemmSize", peak.gemm_size);
    out.set("gemvSize", peak.gemv_size);
    return out;
  });
}

double forward_flops(const val& config, int tokens) {
  return js_errors([&] {
    return bench::forward_flops(ClassifierConfig::from_json(js_to_json(config, "forwardFlops")), tokens);
  });
}

EMSCRIPTEN_BINDINGS(attnlens_train) {
  emscripten::class_<JsTrainer>("Trainer")
      .class_function("create", &JsTrainer::create, emscripten::allow_raw_pointers())
      .class_function("fromBytes", &JsTrainer::from_bytes, emscripten::allow_raw_pointers())
      .function("step", &JsTrainer::step)
      .function("evaluate", &JsTrainer::evaluate)
      .function("classify", &JsTrainer::classify)
      .function("toBytes", &JsTrainer::to_bytes)
      .function("checkpoint", &JsTrainer::checkpoint)
      .function("resume", &JsTrainer::resume)
      .function("info", &JsTrainer::info);
  emscripten::function("cueTask", &cue_task);
  emscripten::function("machinePeak", &machine_peak);
  emscripten::function("forwardFlops", &forward_flops);
}
