#include "cli/classify.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>

#include "cli/reviews.hpp"
#include "cli/translation.hpp"
#include "core/error.hpp"
#include "io/model_file.hpp"
#include "io/translator_file.hpp"
#include "pipeline/classify.hpp"
#include "train/trainer.hpp"

namespace attnlens::cli {

namespace {

void print_prediction(const Prediction& p, std::ostream& out) {
  out << p.label << " (probability of positive " << std::fixed << std::setprecision(4) << p.probability << ")\n"
      << "token weights: "
      << (p.explanation == "attention"        ? std::string("attention")
          : p.explanation == "self-attention" ? "self-attention received, layer " + std::to_string(p.attention_layer + 1) +
                                                    (p.attention_head < 0 ? ", mean over heads"
                                                                          : ", head " + std::to_string(p.attention_head + 1))
                                              : std::string("gradient × input saliency"))
      << "\n";
  double max_weight = 0;
  for (const auto& t : p.tokens) max_weight = std::max(max_weight, t.weight);
  for (const auto& t : p.tokens) {
    const int bar = max_weight > 0 ? static_cast<int>(std::lround(20 * t.weight / max_weight)) : 0;
    out << "  " << std::left << std::setw(16) << t.text << std::right << std::setprecision(4) << t.weight << ' '
        << std::string(bar, '#') << (t.oov ? "  (unknown word)" : "") << '\n';
  }
}

}  // namespace

int run_eval(const EvalArgs& args) {
  if (model_format(args.model) == kTranslatorFormat) {
    TranslatorEvalArgs translator{args.model, args.data_dir, args.split, args.json_output, args.record, args.threads, DecodeOptions{}};
    translator.decode.beam = args.beam;
    return run_eval_translator(translator);
  }
  check(args.split != "validation", "--split validation: classifiers are evaluated on IMDB's train or test split");
  check(!args.record, "--record is for translators");
  ClassifierBundle bundle = load_classifier(args.model);
  const std::vector<Review> reviews = subsample(load_imdb(args.data_dir, args.split), args.limit);
  const std::vector<Example> examples = encode_reviews(reviews, bundle.vocabulary, bundle.tokenizer);
  TrainOptions options;
  options.threads = args.threads;
  options.batch_size = args.batch_size;
  Trainer evaluator(*bundle.model, options);
  const auto started = std::chrono::steady_clock::now();
  const EvalResult r = evaluator.evaluate(examples, all_indices(examples.size()), args.max_length);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  json result = r.to_json();
  result["split"] = args.split;
  result["model"] = args.model;
  result["seconds"] = seconds;
  result["reviews_per_second"] = r.count / std::max(seconds, 1e-9);
  if (args.json_output) {
    std::cout << result.dump() << std::endl;
  } else {
    std::cout << "IMDB " << args.split << ": accuracy " << std::fixed << std::setprecision(2) << 100 * r.accuracy
              << "%  loss " << std::setprecision(4) << r.loss << "  on " << r.count << " reviews (" << std::setprecision(1)
              << seconds << " s)\n"
              << "confusion matrix (rows: actual, columns: predicted)\n"
              << "              positive  negative\n"
              << "  positive  " << std::setw(10) << r.true_positive << std::setw(10) << r.false_negative << "\n"
              << "  negative  " << std::setw(10) << r.false_positive << std::setw(10) << r.true_negative << "\n";
  }
  return 0;
}

int run_classify(const ClassifyArgs& args, const CLI::App& cmd) {
  const ExplainOptions explain{explain_method(args.explanation), args.layer, args.head};
  ClassifierBundle bundle = load_classifier(args.model);
  std::ifstream file;
  if (!args.input.empty()) {
    file.open(args.input, std::ios::binary);
    check(file.good(), args.input + ": cannot open");
  }
  std::istream& in = args.input.empty() ? std::cin : file;
  if (args.batch) {
    check(!cmd.count("text"), "--batch reads reviews from stdin or --input, one per line; do not also pass TEXT");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const Prediction p = classify(bundle, line, explain);
      if (args.json_output) std::cout << to_json(p).dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
      else std::cout << p.label << '\t' << std::fixed << std::setprecision(6) << p.probability << '\n';
    }
    std::cout.flush();
    return 0;
  }
  std::string text = args.text;
  if (!cmd.count("text")) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const Prediction p = classify(bundle, text, explain);
  if (args.json_output) std::cout << to_json(p).dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
  else print_prediction(p, std::cout);
  return 0;
}

CLI::App* add_eval_command(CLI::App& app, EvalArgs& args) {
  CLI::App* cmd = app.add_subcommand("eval", "Accuracy, loss and confusion matrix of a model on an IMDB split");
  cmd->add_option("--model", args.model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--data", args.data_dir, "Data directory holding IMDB")->capture_default_str();
  cmd->add_option("--split", args.split, "Split (validation: translators only)")
      ->check(CLI::IsMember({"train", "validation", "test"}))->capture_default_str();
  cmd->add_option("--beam", args.beam, "Translators: beam width (1: greedy)")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_flag("--record", args.record, "Translators: store the test BLEU in the model file's provenance (as train-translator --eval-test does)");
  cmd->add_flag("--json", args.json_output, "Print one JSON object");
  cmd->add_option("--limit", args.limit, "Evaluate an evenly spaced subset of this many reviews (0: all)");
  cmd->add_option("--max-length", args.max_length, "Cut reviews to this many tokens (0: whole reviews, as classify does)");
  cmd->add_option("--threads", args.threads, "Worker threads")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--batch-size", args.batch_size, "Reviews per batch")->check(CLI::Range(1, 65536))->capture_default_str();
  return cmd;
}

CLI::App* add_classify_command(CLI::App& app, ClassifyArgs& args) {
  // "predict" was its name before 0.2: still accepted. (predict() in C++ and JS is the forward pass alone.)
  CLI::App* cmd = app.add_subcommand("classify", "Classify text and show each token's weight in the explanation chosen");
  cmd->alias("predict");
  cmd->add_option("--model", args.model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("text", args.text, "Review text (default: read from stdin or --input)");
  cmd->add_option("--input", args.input, "Read from this file instead of stdin")->check(CLI::ExistingFile);
  cmd->add_flag("--json", args.json_output, "Print JSON: {label, probability, logit, tokens: [{text, start, end, weight, oov}]}");
  cmd->add_option("--explanation", args.explanation,
                  "Token weights: auto (attention pooling's weights, else gradient × input), attention (a Transformer: "
                  "the self-attention each token receives), gradient-x-input")
      ->check(CLI::IsMember({"auto", "attention", "gradient-x-input"}));
  cmd->add_option("--layer", args.layer, "With --explanation attention on a Transformer: the layer, from 0 (-1: the last)");
  cmd->add_option("--head", args.head, "With --explanation attention on a Transformer: the head, from 0 (-1: the mean)");
  cmd->add_flag("--batch", args.batch, "One review per input line, one result per output line (model loaded once)");
  return cmd;
}

}  // namespace attnlens::cli
