#include "cli/translation.hpp"

#include <filesystem>

#include "cli/common.hpp"
#include "cli/convert.hpp"
#include "data/imdb.hpp"
#include "data/tatoeba.hpp"
#include "io/translator_file.hpp"
#include "pipeline/translate.hpp"
#include "train/checkpoint.hpp"
#include "train/translator_trainer.hpp"

namespace attnlens::cli {

namespace {

constexpr const char* kTatoebaCredit = "Tatoeba (tatoeba.org), CC-BY 2.0 FR";

struct PreparedData {
  std::vector<SentencePair> pairs;
  TranslationCorpus corpus;
  PairSplit split;
};

// Reads the pairs, splits them by source sentence and encodes them with the bundle's
// tokenizers and vocabularies (built here from the training part when `build_vocabularies`).
PreparedData prepare_data(const std::string& data_dir, TranslatorBundle& bundle, double validation_fraction,
                          double test_fraction, uint64_t split_seed, size_t limit, bool build_vocabularies,
                          int source_vocab_size, int target_vocab_size, int min_count) {
  PreparedData data;
  const std::string path = locate_eng_fra(data_dir);
  std::cerr << "reading sentence pairs from " << path << std::endl;
  data.pairs = load_sentence_pairs(path);
  if (limit > 0 && limit < data.pairs.size()) {  // evenly spaced subset: every length is represented
    std::vector<SentencePair> subset;
    for (size_t k = 0; k < limit; ++k) subset.push_back(data.pairs[k * data.pairs.size() / limit]);
    data.pairs = std::move(subset);
  }
  std::vector<std::string> keys;
  std::vector<std::vector<Token>> source_tokens, target_tokens;
  for (const SentencePair& pair : data.pairs) {
    source_tokens.push_back(tokenize(pair.source, bundle.source_tokenizer));
    std::string key;
    for (const Token& t : source_tokens.back()) key += t.text + ' ';
    keys.push_back(std::move(key));
    if (build_vocabularies) target_tokens.push_back(tokenize(pair.target, bundle.target_tokenizer));
  }
  data.split = split_by_source(keys, validation_fraction, test_fraction, split_seed);
  if (build_vocabularies) {
    std::vector<std::vector<Token>> train_source, train_target;
    for (size_t i : data.split.train) {
      train_source.push_back(source_tokens[i]);
      train_target.push_back(target_tokens[i]);
    }
    bundle.source_vocabulary = Vocabulary::build(train_source, source_vocab_size, min_count);
    bundle.target_vocabulary = build_target_vocabulary(train_target, target_vocab_size, min_count);
  }
  data.corpus = encode_pairs(data.pairs, bundle.source_tokenizer, bundle.target_tokenizer, bundle.source_vocabulary,
                             bundle.target_vocabulary);
  return data;
}

const std::vector<size_t>& split_part(const PairSplit& split, const std::string& name) {
  if (name == "train") return split.train;
  if (name == "validation") return split.validation;
  if (name == "test") return split.test;
  throw Error("split must be 'train', 'validation' or 'test', got '" + name + "'");
}

void print_bleu_table(const BleuReport& r, std::ostream& out) {
  out << std::fixed << std::setprecision(2) << "BLEU " << r.overall.score() << " (all references of each source sentence; "
      << r.overall.sentences() << " sentences)  single-reference BLEU " << r.single_reference.score() << " ("
      << r.single_reference.sentences() << " pairs)\n"
      << "precisions " << 100 * r.overall.precision(1) << " / " << 100 * r.overall.precision(2) << " / "
      << 100 * r.overall.precision(3) << " / " << 100 * r.overall.precision(4) << "  brevity penalty "
      << std::setprecision(3) << r.overall.brevity_penalty() << "\n"
      << "by English length (tokens, punctuation included):";
  for (size_t k = 0; k < r.by_length.size(); ++k)
    out << "  " << length_bucket_name(k) << " tokens: " << std::setprecision(2) << r.by_length[k].score() << " ("
        << r.by_length[k].sentences() << ")";
  out << "\n";
}

json translation_json(const Translation& t) {
  json source = json::array();
  for (const SourceToken& s : t.source_tokens)
    source.push_back({{"text", s.text}, {"start", s.start}, {"end", s.end}, {"oov", s.oov}});
  json attention = json::array();
  for (Eigen::Index i = 0; i < t.attention.rows(); ++i) {
    json row = json::array();
    for (Eigen::Index j = 0; j < t.attention.cols(); ++j) row.push_back(std::round(t.attention(i, j) * 1e6) / 1e6);
    attention.push_back(row);
  }
  return {{"translation", t.translation}, {"source_tokens", source},  {"target_tokens", t.target_tokens},
          {"attention", attention},       {"log_probability", t.log_probability}, {"truncated", t.truncated}};
}

}  // namespace

void apply_config_file(TrainTranslatorArgs& args, const CLI::App& cmd) {
  if (args.config_path.empty()) return;
  const json config = read_config(args.config_path, {"model", "training", "vocabulary", "split"});
  const auto set = [&](const json& section, const char* key, const char* flag, auto& target) {
    set_from_config(args.config_path, section, key, cmd, flag, target);
  };
  if (config.contains("model")) {
    json model = config["model"];
    if (cmd.count("--attention")) model["attention"] = args.model.attention;
    try {
      args.model = TranslatorConfig::from_json(model);
    } catch (const Error& e) {
      throw Error(args.config_path + ": model." + std::string(e.what()).substr(std::string("config.").size()));
    }
  }
  read_training_section(args.config_path, config, cmd, args.training);
  const json vocabulary = config.value("vocabulary", json::object());
  set(vocabulary, "source_max_size", nullptr, args.source_vocab_size);
  set(vocabulary, "target_max_size", nullptr, args.target_vocab_size);
  set(vocabulary, "min_count", nullptr, args.min_count);
  const json split = config.value("split", json::object());
  set(split, "validation_fraction", nullptr, args.validation_fraction);
  set(split, "test_fraction", nullptr, args.test_fraction);
  set(split, "seed", nullptr, args.split_seed);
}

CLI::App* add_train_translator_command(CLI::App& app, TrainTranslatorArgs& args) {
  args.data_dir = default_data_directory();
  args.training.epochs = 10;
  args.training.batch_size = 64;
  auto* cmd = app.add_subcommand("train-translator",
                                 "Train an English→French translator on the Tatoeba pairs; keeps the epoch with the best validation BLEU");
  cmd->add_option("--config", args.config_path, "JSON config with 'model', 'training', 'vocabulary' and 'split' sections (flags override it)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", args.data_dir, "Data directory holding eng-fra/eng-fra.tsv.gz")->capture_default_str();
  cmd->add_option("--out", args.out, "Where to save the model (.safetensors)")->capture_default_str();
  cmd->add_option("--history", args.history, "Prefix for the per-epoch history (.json); default: next to --out");
  cmd->add_option("--attention", args.model.attention, "Decoder attention")->check(CLI::IsMember({"none", "additive", "dot", "general"}))
      ->capture_default_str();
  add_training_options(cmd, args.training, "Sentence pairs", "validation BLEU");
  cmd->add_option("--limit", args.limit, "Use an evenly spaced subset of this many pairs (quick runs)");
  cmd->add_flag("--eval-test", args.eval_test, "After training, measure test BLEU (greedy and beam search) and record it in the model file");
  cmd->add_option("--test-beam", args.test_beam, "Beam width for the recorded test BLEU")->check(CLI::Range(1, 64))->capture_default_str();
  add_checkpoint_options(cmd, args.checkpoint, args.checkpoint_every, args.resume);
  return cmd;
}

CLI::App* add_translate_command(CLI::App& app, TranslateArgs& args) {
  auto* cmd = app.add_subcommand("translate", "Translate English text and show the attention alignment");
  cmd->add_option("--model", args.model, "Translator model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("text", args.text, "Sentence to translate (default: read from stdin or --input)");
  cmd->add_option("--input", args.input, "Read from this file instead of stdin")->check(CLI::ExistingFile);
  cmd->add_flag("--json", args.json_output,
                "Print JSON: {translation, source_tokens: [{text, start, end, oov}], target_tokens, attention: [[…]] (rows: target tokens)}");
  cmd->add_flag("--batch", args.batch, "One sentence per input line, one result per output line (model loaded once)");
  cmd->add_option("--beam", args.decode.beam, "Beam width (1: greedy)")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--max-length", args.decode.max_length, "Longest translation in tokens (0: 2 × source length + 10)")
      ->check(CLI::Range(0, 1000))->capture_default_str();
  cmd->add_option("--length-penalty", args.decode.length_penalty, "Beam search length penalty α")->check(CLI::Range(0.0, 5.0))
      ->capture_default_str();
  return cmd;
}

int run_train_translator(TrainTranslatorArgs& args, const CLI::App& cmd, const std::string& command_line) {
  apply_config_file(args, cmd);
  const auto started = std::chrono::steady_clock::now();
  TranslatorBundle bundle;
  bundle.source_tokenizer = TokenizerOptions{};
  bundle.target_tokenizer = french_tokenizer_options();
  PreparedData data = prepare_data(args.data_dir, bundle, args.validation_fraction, args.test_fraction, args.split_seed,
                                   args.limit, true, args.source_vocab_size, args.target_vocab_size, args.min_count);
  args.model.source_vocab_size = bundle.source_vocabulary.size();
  args.model.target_vocab_size = bundle.target_vocabulary.size();
  bundle.model = std::make_unique<Translator>(args.model);
  Rng init_rng(args.training.seed);
  bundle.model->init(init_rng);
  std::cerr << "training " << args.model.architecture << ": " << args.model.describe() << " ("
            << bundle.model->parameter_count() << " parameters; vocabularies " << bundle.source_vocabulary.size() << " en, "
            << bundle.target_vocabulary.size() << " fr) on " << data.split.train.size() << " pairs, validating on "
            << data.split.validation.size() << ", " << args.training.threads << " threads" << std::endl;
  const std::string history_path =
      (args.history.empty() ? args.out.substr(0, args.out.rfind(".safetensors")) + ".history" : args.history) + ".json";
  json provenance = {
      {"data", std::string("English-French sentence pairs from ") + kTatoebaCredit + ", " + std::to_string(data.pairs.size()) +
                   " pairs; split by English sentence (no test sentence appears in training)"},
      {"credit", kTatoebaCredit},
      {"split", {{"validation_fraction", args.validation_fraction}, {"test_fraction", args.test_fraction},
                 {"seed", args.split_seed}, {"limit", args.limit}}},
      {"train_pairs", data.split.train.size()},
      {"validation_pairs", data.split.validation.size()},
      {"test_pairs", data.split.test.size()},
      {"seed", args.training.seed},
      {"training", args.training.to_json()},
      {"vocabulary", {{"source_max_size", args.source_vocab_size}, {"target_max_size", args.target_vocab_size},
                      {"min_count", args.min_count}}},
      {"command", command_line},
      {"machine", machine_description()},
  };
  // A checkpoint belongs to this run only if it has the same model, arithmetic, data, vocabularies and split.
  Fingerprint data_fingerprint;
  data_fingerprint.add(bundle.source_vocabulary.words()).add(bundle.target_vocabulary.words());
  for (size_t i = 0; i < data.corpus.source.size(); ++i) data_fingerprint.add(data.corpus.source[i]).add(data.corpus.target[i]);
  data_fingerprint.add(data.split.train).add(data.split.validation).add(data.split.test);
  const CheckpointIdentity identity{"translator", args.model.to_json(), checkpoint_training(args.training),
                                    data_fingerprint.hex()};
  TranslatorTrainer trainer(*bundle.model, args.training);
  EpochLoopState loop(args.training.seed);
  if (!args.resume.empty()) {
    load_checkpoint(args.resume, identity, *bundle.model, trainer.optimizer(), loop);
    provenance["resumed"] = true;
    std::cerr << "resuming " << args.resume << ": epoch " << loop.epoch << ", " << loop.next_batch << " batches into it"
              << std::endl;
  }
  const std::string checkpoint_path = args.checkpoint.empty() ? args.resume : args.checkpoint;
  Checkpointing checkpointing{&loop, nullptr, args.checkpoint_every};
  if (!checkpoint_path.empty())
    checkpointing.save = [&](const EpochLoopState& state) {
      save_checkpoint(checkpoint_path, identity, *bundle.model, trainer.optimizer(), state, json::object());
    };
  ProgressBar bar("sentences");
  json history = loop.history;
  TranslationEpochStats best;
  for (const json& e : history)
    if (e.value("improved", false)) best = TranslationEpochStats::from_json(e);
  const auto finalize_provenance = [&]() {
    provenance["best_epoch"] = best.epoch;
    provenance["epochs_run"] = history.size();
    provenance["validation_bleu"] = best.validation_bleu;
    provenance["validation_loss"] = best.validation_loss;
    provenance["training_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    provenance["date"] = now_iso8601();
    bundle.provenance = provenance;
  };
  trainer.fit(
      data.corpus, data.split.train, data.split.validation, bundle.target_vocabulary,
      [&](const TranslationEpochStats& s) {
        bar.end_line();
        std::cerr << "epoch " << s.epoch << " done in " << format_duration(s.seconds) << ": train loss " << std::fixed
                  << std::setprecision(4) << s.train_loss << " | validation loss " << s.validation_loss << " BLEU "
                  << std::setprecision(2) << s.validation_bleu << (s.improved ? " (best so far, saved)" : "") << std::endl;
        history.push_back(s.to_json());
        if (s.improved) {
          best = s;
          finalize_provenance();
          save_translator(args.out, bundle);  // atomic: a killed run keeps the last best model
        }
        write_text_file(history_path, history.dump(2) + "\n");
      },
      [&](const Progress& p) { bar.update(p); }, checkpointing);
  finalize_provenance();
  if (args.eval_test) {
    for (const int beam : {1, args.test_beam}) {
      DecodeOptions options;
      options.beam = beam;
      std::cerr << "test BLEU, " << (beam == 1 ? std::string("greedy") : "beam " + std::to_string(beam)) << "..." << std::endl;
      const BleuReport r = evaluate_bleu(*bundle.model, data.corpus, data.split.test, bundle.target_vocabulary, options,
                                         args.training.threads);
      print_bleu_table(r, std::cerr);
      json record = r.to_json();
      record["beam"] = beam;
      bundle.provenance[beam == 1 ? "test_greedy" : "test_beam"] = record;
      if (beam == args.test_beam) break;
    }
  }
  save_translator(args.out, bundle);
  std::cerr << "saved " << args.out << " (best epoch " << best.epoch << ", validation BLEU " << std::fixed
            << std::setprecision(2) << best.validation_bleu << "); history in " << history_path << std::endl;
  return 0;
}

int run_translate(const TranslateArgs& args, const CLI::App& cmd) {
  TranslatorBundle bundle = load_translator(args.model);
  std::ifstream file;
  if (!args.input.empty()) {
    file.open(args.input, std::ios::binary);
    check(file.good(), args.input + ": cannot open");
  }
  std::istream& in = args.input.empty() ? std::cin : file;
  const auto print = [&](const Translation& t, bool details) {
    if (args.json_output) {
      std::cout << translation_json(t).dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
      return;
    }
    std::cout << t.translation << '\n';
    if (!details || t.attention.size() == 0) return;
    for (Eigen::Index i = 0; i < t.attention.rows(); ++i) {
      Eigen::Index j;
      const double w = t.attention.row(i).maxCoeff(&j);
      std::cout << "  " << std::left << std::setw(14) << t.target_tokens[static_cast<size_t>(i)] << " ← "
                << t.source_tokens[static_cast<size_t>(j)].text << std::fixed << std::setprecision(2) << " (" << w << ")\n";
    }
  };
  if (args.batch) {
    check(!cmd.count("text"), "--batch reads sentences from stdin or --input, one per line; do not also pass TEXT");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      print(translate_text(bundle, line, args.decode), false);
    }
    std::cout.flush();
    return 0;
  }
  std::string text = args.text;
  if (!cmd.count("text")) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  print(translate_text(bundle, text, args.decode), true);
  return 0;
}

int run_eval_translator(const TranslatorEvalArgs& args) {
  TranslatorBundle bundle = load_translator(args.model);
  const json split = bundle.provenance.value("split", json::object());
  check(split.is_object() && split.contains("seed"), args.model + ": provenance.split is missing; cannot rebuild its test split");
  const PreparedData data =
      prepare_data(args.data_dir, bundle, split.value("validation_fraction", 0.1), split.value("test_fraction", 0.1),
                   split.value("seed", uint64_t{1}), split.value("limit", size_t{0}), false, 0, 0, 0);
  const BleuReport r =
      evaluate_bleu(*bundle.model, data.corpus, split_part(data.split, args.split), bundle.target_vocabulary, args.decode, args.threads);
  if (args.record) {
    check(args.split == "test", "--record stores test results only: use --split test");
    json record = r.to_json();
    record["beam"] = args.decode.beam;
    bundle.provenance[args.decode.beam == 1 ? "test_greedy" : "test_beam"] = record;
    save_translator(args.model, bundle);  // atomic
    std::cerr << "recorded in " << args.model << std::endl;
  }
  if (args.json_output) {
    json j = r.to_json();
    j["model"] = args.model;
    j["split"] = args.split;
    j["beam"] = args.decode.beam;
    std::cout << j.dump() << std::endl;
  } else {
    std::cout << "Tatoeba eng-fra " << args.split << ", "
              << (args.decode.beam == 1 ? std::string("greedy") : "beam " + std::to_string(args.decode.beam)) << ":\n";
    print_bleu_table(r, std::cout);
  }
  return 0;
}

json translator_info(const std::string& path) {
  TranslatorBundle bundle = load_translator(path);
  return {{"format", kTranslatorFormat},
          {"config", bundle.model->config().to_json()},
          {"source_tokenizer", tokenizer_to_json(bundle.source_tokenizer)},
          {"target_tokenizer", tokenizer_to_json(bundle.target_tokenizer)},
          {"source_language", bundle.source_language},
          {"target_language", bundle.target_language},
          {"source_vocabulary_size", bundle.source_vocabulary.size()},
          {"target_vocabulary_size", bundle.target_vocabulary.size()},
          {"parameters", bundle.model->parameter_count()},
          {"provenance", bundle.provenance}};
}

void print_translator_card(const std::string& path) {
  TranslatorBundle bundle = load_translator(path);
  const json& p = bundle.provenance;
  const TranslatorConfig& c = bundle.model->config();
  const std::string name = std::filesystem::path(path).filename().string();
  const auto bleu = [&](const char* key) {
    const json r = p.value(key, json());
    if (!r.is_object()) return std::string("not measured");
    std::ostringstream out;
    out << std::fixed << std::setprecision(2) << "**" << r.value("bleu", 0.0) << "** (single reference "
        << r.value("bleu_single_reference", 0.0) << "; by English tokens";
    for (const auto& b : r.value("by_source_length", json::array()))
      out << " " << b.value("tokens", std::string()) << ": " << b.value("bleu", 0.0);
    out << ")";
    return out.str();
  };
  std::ostringstream card;
  card << "\n## " << name << "\n\n"
            << "| | |\n|---|---|\n"
            << "| architecture | " << c.architecture << ": " << c.describe() << " |\n"
            << "| parameters | " << bundle.model->parameter_count() << " |\n"
            << "| vocabularies | " << bundle.source_vocabulary.size() << " English, " << bundle.target_vocabulary.size()
            << " French words (training part only; words seen fewer than " << p.value("vocabulary", json::object()).value("min_count", 0)
            << " times are <unk>) |\n"
            << "| file size | " << std::filesystem::file_size(path) << " bytes |\n"
            << weights_card_row(p, safetensors::storage_name(bundle.storage))
            << "| dropout | " << c.dropout << " (embeddings and the output layer, training only) |\n"
            << "| data | " << p.value("data", std::string("not recorded")) << " |\n"
            << "| **test BLEU, greedy** (" << p.value("test_pairs", json()).dump() << " test pairs) | " << bleu("test_greedy") << " |\n"
            << "| test BLEU, beam " << p.value("test_beam", json::object()).value("beam", 0) << " | " << bleu("test_beam") << " |\n"
            << "| validation BLEU (greedy) | " << std::fixed << std::setprecision(2) << p.value("validation_bleu", 0.0) << " |\n"
            << "| best epoch / epochs run | " << p.value("best_epoch", json()).dump() << " / " << p.value("epochs_run", json()).dump() << " |\n"
            << "| training time | " << std::setprecision(0) << p.value("training_seconds", 0.0)
            << " s (wall clock, sharing the machine's cores with the other runs of tools/translation-study) |\n"
            << "| machine | " << p.value("machine", std::string("not recorded")) << " |\n"
            << "| trained | " << p.value("date", std::string("not recorded")) << " |\n"
            << "| training options | `" << p.value("training", json()).dump() << "` |\n\n"
            << "BLEU is corpus BLEU-4 on lower-cased tokens (the model's own tokenizer), computed by attnlens; the headline "
               "figure scores each distinct English test sentence against all of its French translations in the test split.\n\n"
            << "Reproduce (from the repository root, with the pairs in `../shared/data/eng-fra/`):\n\n"
            << "```sh\n./build/release/" << p.value("command", std::string("attnlens train-translator")) << "\n```\n\n"
            << "Check the test BLEU:\n\n"
            << "```sh\n./build/release/attnlens eval --model models/" << name << " --split test\n```\n";
  std::cout << card.str();
}

}  // namespace attnlens::cli
