#include "cli/model_files.hpp"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/convert.hpp"
#include "cli/translation.hpp"
#include "core/error.hpp"
#include "io/model_file.hpp"
#include "text/ngram_list.hpp"
#include "io/safetensors.hpp"
#include "io/translator_file.hpp"
#include "onnx/export.hpp"

namespace attnlens::cli {

using nlohmann::json;

CLI::App* add_info_command(CLI::App& app, std::string& model) {
  CLI::App* cmd = app.add_subcommand("info", "Print a model file's config, vocabulary size and provenance as JSON");
  cmd->add_option("--model", model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  return cmd;
}

int run_info(const std::string& model) {
  if (model_format(model) == kTranslatorFormat) {
    std::cout << translator_info(model).dump(2) << std::endl;
    return 0;
  }
  ClassifierBundle bundle = load_classifier(model);
  const json info = {{"config", bundle.model->config().to_json()},
                     {"tokenizer", tokenizer_to_json(bundle.tokenizer)},
                     {"vocabulary_size", bundle.vocabulary.size()},
                     {"parameters", bundle.model->parameter_count()},
                     {"provenance", bundle.provenance}};
  std::cout << info.dump(2) << std::endl;
  return 0;
}

CLI::App* add_card_command(CLI::App& app, std::vector<std::string>& models) {
  CLI::App* cmd = app.add_subcommand("card", "Print Markdown model cards made from the model files' own provenance");
  cmd->add_option("--model", models, "Model file(s)")->required()->check(CLI::ExistingFile);
  return cmd;
}

namespace {

// A Markdown model card made only from what the model files record about themselves.
std::string percent(const json& value) {
  if (!value.is_number()) return "not recorded";
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << 100 * value.get<double>() << " %";
  return out.str();
}

std::string number(const json& value, int precision) {
  if (!value.is_number()) return "not recorded";
  std::ostringstream out;
  out << std::fixed << std::setprecision(precision) << value.get<double>();
  return out.str();
}

// A recorded number as a reader writes it: 1 for 1.0, 0.25 for 0.25.
std::string plain(const json& value) {
  if (!value.is_number()) return "not recorded";
  std::ostringstream out;
  out << value.get<double>();
  return out.str();
}

// The --out a recorded command wrote to ("--out X" or "--out=X"), and where in the command that
// path starts; {"", npos} when it names none.
std::pair<std::string, size_t> recorded_out(const std::string& command) {
  for (const char* flag : {" --out ", " --out="}) {
    const size_t at = command.find(flag);
    if (at == std::string::npos) continue;
    const size_t start = at + 7, end = command.find(' ', start);
    return {command.substr(start, end == std::string::npos ? std::string::npos : end - start), start};
  }
  return {"", std::string::npos};
}

// True when the recorded command wrote the file somewhere else than `path`: the teachers were
// trained as models/NAME.safetensors and moved (or copied) to models/teachers/.
bool written_elsewhere(const json& provenance, const std::string& path) {
  const std::string out = recorded_out(provenance.value("command", std::string())).first;
  return !out.empty() && std::filesystem::path(out).lexically_normal() != std::filesystem::path(path).lexically_normal();
}

// The commands that made a model, runnable from the repository's root: the engine's own run from
// build/release/, as recorded; a model trained elsewhere (tools/pytorch/train.py) after the
// engine's command that wrote its data. When the file has moved since, --out is set to where it
// is now, so that running them cannot overwrite another file.
std::string reproduce_commands(const json& provenance, const std::string& path) {
  const auto runnable = [](const std::string& command) {
    return command.rfind("attnlens ", 0) == 0 ? "./build/release/" + command : command;
  };
  std::string out;
  const std::string data = provenance.value("dataset_command", std::string());
  if (!data.empty()) out += runnable(data) + "\n";
  std::string command = provenance.value("command", std::string("attnlens train"));
  if (const json path_record = provenance.value("ngram_path", json()); path_record.is_object()) {
    // A joined model (attnlens join): the network as it was made, the n-gram model, the join.
    out += runnable(command) + "\n";
    const std::string conversion = path_record.value("network_conversion", std::string());
    if (!conversion.empty()) out += runnable(conversion) + "\n";
    const json ngrams_command = path_record.value(json::json_pointer("/ngrams/command"), json());
    if (ngrams_command.is_string()) out += runnable(ngrams_command.get<std::string>()) + "\n";
    return out + runnable(path_record.value("command", std::string("attnlens join"))) + "\n";
  }
  if (written_elsewhere(provenance, path)) {
    const auto [old_out, start] = recorded_out(command);
    command.replace(start, old_out.size(), path);
  }
  return out + runnable(command) + "\n";
}

// A note when the recorded command wrote the file elsewhere (see reproduce_commands).
std::string moved_note(const json& provenance, const std::string& path) {
  if (provenance.contains("ngram_path") || !written_elsewhere(provenance, path)) return "";  // a joined model: the join wrote it
  return "The recorded command wrote this file as `" + recorded_out(provenance.value("command", std::string())).first +
         "`; it has since been moved or copied here, and the command above writes here instead (its other "
         "arguments as recorded).\n\n";
}

// A joined model's row (attnlens join): where its n-gram path came from and how the two are weighed.
std::string ngram_path_card_row(const json& provenance) {
  const json record = provenance.value("ngram_path", json());
  if (!record.is_object()) return "";
  const json ngrams = record.value("ngrams", json::object());
  const double w = record.value("weight", 0.0);
  std::ostringstream row;
  row << "| n-gram path | joined (`attnlens join`) from " << ngrams.value("file", std::string("an n-gram model")) << " ("
      << ngrams.value("description", std::string()) << "; " << ngrams.value("vocabulary", json()).dump()
      << " entries; validation " << percent(ngrams.value("validation_accuracy", json())) << ", test "
      << percent(ngrams.value("test_accuracy", json())) << "), trained on the same training part: logit = "
      << plain(json(1 - w)) << " × the network's + " << plain(json(w))
      << " × the n-gram model's; the network alone: validation " << percent(record.value("network_validation_accuracy", json()))
      << ". The rows below about training are the network's |\n";
  return row.str();
}

std::string pretraining_summary(const json& provenance) {
  const json pretraining = provenance.value("pretraining", json());
  if (provenance.value("initialisation", json()).is_string()) return provenance["initialisation"].get<std::string>();
  if (!pretraining.is_object()) return "random (N(0, 1/dim))";
  std::ostringstream out;
  out << pretraining.value("method", std::string("word2vec")) << ", " << pretraining.value("epochs", json()).dump()
      << " epochs, window " << pretraining.value("window", json()).dump() << ", " << pretraining.value("negatives", json()).dump()
      << " negatives, on the " << pretraining.value("corpus", std::string("training part")) << " ("
      << pretraining.value("reviews", json()).dump() << " reviews, " << pretraining.value("tokens", json()).dump()
      << " tokens, " << number(pretraining.value("seconds", json()), 0) << " s); vectors centred and scaled to unit norm";
  return out.str();
}

// Distillation's row of a card, or nothing.
std::string distillation_card_row(const json& provenance) {
  const json d = provenance.value("distillation", json());
  if (!d.is_object()) return "";
  std::string teachers;
  for (const json& t : d.value("teachers", json::array())) {
    if (!teachers.empty()) teachers += ", ";
    teachers += "`" + t.value("file", std::string("?")) + "` (" + t.value("architecture", std::string("?"));
    if (t.contains("validation_accuracy")) teachers += ", validation " + percent(t["validation_accuracy"]);
    teachers += ")";
  }
  return "| distillation | " + d.value("method", std::string("soft labels from teachers")) + ": " +
         d.value("reviews", json()).dump() + " " + d.value("corpus", std::string("unlabelled reviews")) + " (mean soft label " +
         number(d.value("mean_label", json()), 3) + ", labelled in " + number(d.value("seconds", json()), 0) + " s) by " +
         teachers + "; each teacher trained on this model's training part only (its best epoch chosen on the same validation reviews) |\n";
}

}  // namespace

int run_card(const std::vector<std::string>& models) {
  // The folder's cards come from `card --model FOLDER/*.safetensors > FOLDER/README.md`.
  std::string folder = models.empty() ? "models" : std::filesystem::path(models.front()).parent_path().generic_string();
  for (const std::string& path : models)
    if (std::filesystem::path(path).parent_path().generic_string() != folder) folder = "FOLDER";
  if (folder.empty()) folder = ".";
  std::cout << "# Model cards\n\n"
               "Generated by `attnlens card` from the provenance each model file records about itself "
               "(`attnlens card --model " << folder << "/*.safetensors > " << folder << "/README.md`); a test checks that this file is current.\n";
  for (const std::string& path : models) {
    if (model_format(path) == kTranslatorFormat) {
      print_translator_card(path);
      continue;
    }
    ClassifierBundle bundle = load_classifier(path);
    const json& p = bundle.provenance;
    const ClassifierConfig& c = bundle.model->config();
    const std::string name = std::filesystem::path(path).filename().string();
    const auto size = std::filesystem::file_size(path);
    std::cout << "\n## " << name << "\n\n"
              << "| | |\n|---|---|\n"
              << "| architecture | " << c.architecture << ": " << c.describe() << " |\n"
              << "| parameters | " << bundle.model->parameter_count() << " |\n"
              << "| vocabulary | " << bundle.vocabulary.size()
              << (c.ngram_order > 1 ? " words and n-grams"
                  : c.ngram_path > 0 ? " entries: the network's " + std::to_string(c.embedding_words) +
                                           " words, then the n-gram path's other words and n-grams"
                                     : std::string(" words"))
              << " (PAD = 0, UNK = 1), from the training part of the split only"
              << (std::max(c.ngram_order, c.ngram_path) > 1 &&
                          ngram_layout_words(bundle.vocabulary, std::max(c.ngram_order, c.ngram_path)) >= 0
                      ? std::string("; the n-grams stored as their words' ids (") +
                            (c.ngram_path > 0 && bundle.storage == safetensors::WeightStorage::Int8
                                 ? "the path's table int8 with one scale, "
                                 : "") +
                            "src/io/model_file.hpp)"
                      : std::string())
              << " |\n"
              << "| file size | " << size << " bytes |\n"
              << weights_card_row(p, safetensors::storage_name(bundle.storage))
              << "| embedding initialisation | " << pretraining_summary(p) << " |\n"
              << distillation_card_row(p) << ngram_path_card_row(p)
              << (p.value("training", json()).contains("adversarial_epsilon")
                      ? "| adversarial training | on the embeddings (Miyato et al. 2017): each batch also learns from its reviews "
                        "with the embedded tokens moved by L2 distance " + p["training"]["adversarial_epsilon"].dump() +
                            " per review along the loss's gradient (before the embedding dropout)" +
                            (p["training"].contains("adversarial_warmup")
                                 ? ", ramped up from 0 over the first " + plain(p["training"]["adversarial_warmup"]) + " epochs"
                                 : std::string()) +
                            " |\n"
                      : std::string())
              << (p.value("training", json()).contains("weight_decay")
                      ? "| weight decay | " + p["training"]["weight_decay"].dump() +
                            ", decoupled (AdamW, Loshchilov & Hutter 2019): each step shrinks every weight by 1 − learning rate × it |\n"
                      : std::string())
              << "| dropout | embeddings " << c.embedding_dropout << ", pooled vector " << c.dropout << " |\n"
              << "| data | " << p.value("data", std::string("not recorded")) << " |\n"
              << "| **IMDB test accuracy** (25,000 reviews, whole reviews) | **" << percent(p.value("test_accuracy", json())) << "** (loss "
              << number(p.value("test_loss", json()), 4) << ", " << p.value("test_count", json()).dump() << " reviews) |\n"
              << "| validation accuracy | " << percent(p.value("validation_accuracy", json())) << " (loss "
              << number(p.value("validation_loss", json()), 4)
              << "; held-out training reviews, which share movies with the training part, so it reads higher than test) |\n"
              << "| best epoch / epochs run | " << p.value("best_epoch", json()).dump() << " / " << p.value("epochs_run", json()).dump() << " |\n"
              << (p.value("trainer", json()).is_string() ? "| trained with | " + p["trainer"].get<std::string>() + " |\n" : "")
              << "| training time | " << number(p.value("training_seconds", json()), 0)
              << (p.contains("trainer") ? " s (all epochs; not writing the data or the test evaluation) |\n"
                                        : std::string(" s (reading and tokenizing the data") + (p.value("pretraining", json()).is_object() ? ", word2vec" : "") +
                                              (p.contains("distillation") ? ", the teachers' labelling" : "") +
                                              " and all epochs; not the test evaluation) |\n")
              << "| machine | " << p.value("machine", std::string("not recorded")) << " |\n"
              << "| seed | " << p.value("seed", json()).dump() << " |\n"
              << "| trained | " << p.value("date", std::string("not recorded")) << " |\n"
              << "| training options | `" << p.value("training", json()).dump() << "` |\n\n"
              << "Reproduce (from the repository root, with the IMDB data in `../shared/data/imdb/`):\n\n"
              << "```sh\n" << reproduce_commands(p, path) << "```\n\n" << moved_note(p, path)
              << "Check the test accuracy:\n\n"
              << "```sh\n./build/release/attnlens eval --model " << path << " --split test\n```\n";
  }
  return 0;
}

CLI::App* add_export_command(CLI::App& app, ExportArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "export", "Write a classifier as an ONNX graph (token ids in; logit, probability and attention out)");
  cmd->add_option("--model", args.model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", args.out, "Where to write the graph (.onnx)")->required();
  cmd->add_option("--format", args.format, "Output format")->check(CLI::IsMember({"onnx"}))->capture_default_str();
  return cmd;
}

int run_export(const ExportArgs& args) {
  check(model_format(args.model) == kClassifierFormat, args.model + ": only classifiers can be exported to ONNX");
  ClassifierBundle bundle = load_classifier(args.model);
  const std::string bytes = export_onnx(bundle);
  safetensors::write_file_atomic(args.out, std::vector<uint8_t>(bytes.begin(), bytes.end()));
  std::cerr << "wrote " << args.out << " (ONNX opset " << kOnnxOpset << ", " << bytes.size() << " bytes)" << std::endl;
  return 0;
}

}  // namespace attnlens::cli
