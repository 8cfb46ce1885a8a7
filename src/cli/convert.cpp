#include "cli/convert.hpp"

#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/common.hpp"
#include "cli/translation.hpp"
#include "data/imdb.hpp"
#include "io/model_file.hpp"
#include "io/ngram_layout.hpp"
#include "io/translator_file.hpp"
#include "train/trainer.hpp"

namespace attnlens::cli {

using nlohmann::json;
using safetensors::WeightStorage;

namespace {

// The test figures a file records, kept as "before" when its weights are converted.
json test_figures(const json& p) {
  json figures = json::object();
  for (const char* key : {"test_accuracy", "test_loss", "test_count"})
    if (p.contains(key)) figures[key] = p[key];
  for (const char* key : {"test_greedy", "test_beam"})
    if (p.contains(key) && p[key].is_object() && p[key].contains("bleu"))
      figures[key] = {{"bleu", p[key]["bleu"]}, {"beam", p[key].value("beam", 1)}};
  return figures;
}

json conversion_record(const json& provenance, WeightStorage from, WeightStorage to, const std::string& command) {
  json record = provenance.value("conversion", json::object());
  // Converting again keeps the original float32 figures.
  if (!record.contains("original")) record["original"] = {{"weights", safetensors::storage_name(from)}, {"test", test_figures(provenance)}};
  record["weights"] = safetensors::storage_name(to);
  record["command"] = command;
  return record;
}

std::string size_text(size_t bytes) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << static_cast<double>(bytes) / 1e6 << " MB";
  return out.str();
}

}  // namespace

EvalResult evaluate_reviews(ClassifierBundle& model, const std::vector<Review>& reviews, int threads) {
  std::vector<Example> examples;
  for (const Review& r : reviews)
    examples.push_back({encode(tokenize(r.text, model.tokenizer), model.vocabulary), static_cast<float>(r.label)});
  std::vector<size_t> all(examples.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  TrainOptions options;
  options.threads = threads;
  Trainer evaluator(*model.model, options);
  return evaluator.evaluate(examples, all);
}

EvalResult record_test_figures(ClassifierBundle& model, nlohmann::json& provenance, const std::string& data_dir, int threads) {
  const EvalResult r = evaluate_reviews(model, load_imdb(data_dir, "test"), threads);
  provenance["test_accuracy"] = r.accuracy;
  provenance["test_loss"] = r.loss;
  provenance["test_count"] = r.count;
  return r;
}

CLI::App* add_convert_command(CLI::App& app, ConvertArgs& args) {
  auto* cmd = app.add_subcommand("convert", "Store a model's weights as float32, float16 or int8 (per-row scales)");
  cmd->add_option("--model", args.model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", args.out, "Where to write the converted model")->required();
  cmd->add_option("--weights", args.weights, "float32, float16 or int8 (vectors stay float32)")
      ->check(CLI::IsMember({"float32", "float16", "int8"}))->capture_default_str();
  cmd->add_flag("--eval-test", args.eval_test,
                "Re-measure the converted model on the test split (IMDB accuracy, or BLEU greedy and beam 5) and record it");
  cmd->add_option("--data", args.data_dir, "Data directory (for --eval-test)");
  cmd->add_option("--threads", args.threads, "Worker threads for --eval-test")->check(CLI::Range(1, 64))->capture_default_str();
  return cmd;
}

int run_convert(const ConvertArgs& given, const std::string& command_line) {
  ConvertArgs args = given;
  if (args.data_dir.empty()) args.data_dir = default_data_directory();
  const WeightStorage storage = safetensors::storage_from_name(args.weights);
  const size_t before = std::filesystem::file_size(args.model);
  if (model_format(args.model) == kTranslatorFormat) {
    TranslatorBundle bundle = load_translator(args.model);
    bundle.provenance["conversion"] = conversion_record(bundle.provenance, bundle.storage, storage, command_line);
    bundle.storage = storage;
    if (!args.eval_test)
      for (const char* key : {"test_greedy", "test_beam"}) bundle.provenance.erase(key);  // not measured
    save_translator(args.out, bundle);
    if (args.eval_test) {
      for (int beam : {1, 5}) {  // re-measures into the file, as `eval --record` does
        TranslatorEvalArgs eval{args.out, args.data_dir, "test", false, true, args.threads, DecodeOptions{}};
        eval.decode.beam = beam;
        if (run_eval_translator(eval) != 0) return 1;
      }
    }
  } else {
    ClassifierBundle bundle = load_classifier(args.model);
    put_in_ngram_layout(bundle);  // a model with n-grams from before the layout: stored compactly
    bundle.provenance["conversion"] = conversion_record(bundle.provenance, bundle.storage, storage, command_line);
    bundle.storage = storage;
    if (args.eval_test) {
      // Measure the weights as stored: the converted bytes, loaded back.
      const std::vector<uint8_t> bytes = serialize_classifier(bundle);
      ClassifierBundle stored = load_classifier(bytes.data(), bytes.size(), args.out);
      std::cerr << "evaluating the " << args.weights << " model on the official test split..." << std::endl;
      const EvalResult r = record_test_figures(stored, bundle.provenance, args.data_dir, args.threads);
      const json before = bundle.provenance.value(json::json_pointer("/conversion/original/test/test_accuracy"), json());
      std::cerr << "test accuracy " << std::fixed << std::setprecision(2) << 100 * r.accuracy << "% (";
      if (before.is_number()) std::cerr << "was " << 100 * before.get<double>() << "%)" << std::endl;
      else std::cerr << "the original file records none)" << std::endl;
    } else {
      for (const char* key : {"test_accuracy", "test_loss", "test_count"}) bundle.provenance.erase(key);  // not measured
    }
    save_classifier(args.out, bundle);
  }
  std::cerr << "wrote " << args.out << " (" << args.weights << " weights): " << size_text(before) << " → "
            << size_text(std::filesystem::file_size(args.out)) << std::endl;
  return 0;
}

std::string weights_card_row(const json& p, const std::string& storage) {
  std::ostringstream row;
  row << "| weights | " << (storage == "int8" ? "int8 with per-row scales (vectors float32)"
                            : storage == "float16" ? "float16 (vectors float32)" : "float32");
  if (p.contains("conversion") && p["conversion"].is_object()) {
    const json& original = p["conversion"].value("original", json::object());
    const json test = original.value("test", json::object());
    row << "; converted from " << original.value("weights", std::string("float32"));
    std::ostringstream was;
    was << std::fixed << std::setprecision(2);
    if (test.contains("test_accuracy") && test["test_accuracy"].is_number())
      was << "test accuracy " << 100 * test["test_accuracy"].get<double>() << " %";
    if (test.contains("test_greedy") && test["test_greedy"]["bleu"].is_number())
      was << "test BLEU " << test["test_greedy"]["bleu"].get<double>() << " greedy";
    if (test.contains("test_beam") && test["test_beam"]["bleu"].is_number())
      was << ", " << test["test_beam"]["bleu"].get<double>() << " beam " << test["test_beam"].value("beam", 5);
    if (!was.str().empty()) row << ", whose " << was.str();
    row << " (`" << p["conversion"].value("command", std::string("attnlens convert")) << "`)";
  }
  row << " |\n";
  return row.str();
}

}  // namespace attnlens::cli
