#include "cli/classify.hpp"

#include "data/short_reviews.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/reviews.hpp"
#include "cli/translation.hpp"
#include "core/error.hpp"
#include "io/model_file.hpp"
#include "io/translator_file.hpp"
#include "pipeline/classify.hpp"
#include "pipeline/attention_experiments.hpp"
#include "pipeline/explain.hpp"
#include "pipeline/faithfulness.hpp"
#include "train/dataset.hpp"
#include "train/distillation.hpp"
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
          : p.explanation == "contribution"   ? std::string("contribution to the predicted class's logit (+ for it, - against)")
                                              : std::string("gradient × input saliency"))
      << "\n";
  const bool signed_weights = p.explanation == "contribution";
  double max_weight = 0;
  for (const auto& t : p.tokens) max_weight = std::max(max_weight, std::abs(t.weight));
  for (const auto& t : p.tokens) {
    const int bar = max_weight > 0 ? static_cast<int>(std::lround(20 * std::abs(t.weight) / max_weight)) : 0;
    out << "  " << std::left << std::setw(16) << t.text << std::right << std::setprecision(4) << t.weight << ' '
        << std::string(static_cast<size_t>(bar), signed_weights && t.weight < 0 ? '-' : signed_weights ? '+' : '#')
        << (t.oov ? "  (unknown word)" : "") << '\n';
  }
}


}  // namespace

// The validation part a classifier was trained beside, rebuilt from its provenance: the IMDB train
// split, cut by train --limit as train cuts it, divided by stratified_split with the seed and
// fraction recorded in provenance.split (train records it; tools/pytorch/train.py copies it from
// the dataset file). Files from before that record: the engine's own trainings, from their seed
// and part sizes. The data's review count and the part sizes must come out as recorded, or this
// is not that split and nothing is evaluated. Whole reviews, where training validated on reviews
// cut to its max_length: models trained with different cuts compare fairly here.
std::vector<Review> validation_reviews(const json& provenance, const std::string& data_dir) {
  const std::string data = provenance.value("data", std::string());
  const auto count = [](const json& object, const char* field) -> size_t {
    const json v = object.is_object() ? object.value(field, json()) : json();
    return v.is_number_unsigned() ? v.get<size_t>() : 0;
  };
  const json& split_record = provenance.contains("split") ? provenance["split"] : json();
  const bool recorded = split_record.is_object();
  check(data.rfind("IMDB (Maas et al. 2011), official train split", 0) == 0,
        "--split validation: this model was not trained on IMDB's train split (its provenance says \"" + data + "\")");
  check(recorded || !provenance.contains("trainer"),
        "--split validation: this model's provenance does not record its split's seed (provenance.split); its trainer (" +
            provenance.value("trainer", std::string()) + ") may have used another seed than the split's");
  const size_t train = recorded ? count(split_record, "train_examples") : count(provenance, "train_examples");
  const size_t held_out = recorded ? count(split_record, "validation_examples") : count(provenance, "validation_examples");
  const json seed = recorded ? split_record.value("seed", json()) : provenance.value("seed", json());
  check(held_out > 0 && train > 0 && seed.is_number_unsigned(),
        "--split validation: this model's provenance does not record its train/validation split (seed and part sizes)");
  std::vector<Review> all = load_imdb(data_dir, "train");
  size_t used = train + held_out;
  double fraction = static_cast<double>(held_out) / static_cast<double>(used);
  if (recorded) {
    const size_t source = count(split_record, "source_examples"), limit = count(split_record, "limit");
    check(all.size() == source, "--split validation: the model was trained on a train split of " + std::to_string(source) +
                                    " reviews; " + data_dir + " has " + std::to_string(all.size()));
    used = limit == 0 ? source : std::min(limit, source);
    const json f = split_record.value("validation_fraction", json());
    check(f.is_number() && f.get<double>() >= 0 && f.get<double>() < 1, "--split validation: provenance.split has no valid validation_fraction");
    fraction = f.get<double>();
  }
  all = subsample(std::move(all), used);
  check(all.size() == used, "--split validation: the model was trained on " + std::to_string(used) +
                                " IMDB training reviews, the data directory has " + std::to_string(all.size()));
  std::vector<float> labels;
  for (const Review& r : all) labels.push_back(static_cast<float>(r.label));
  const Split split = stratified_split(labels, fraction, seed.get<uint64_t>());
  check(split.validation.size() == held_out && split.train.size() == train,
        "--split validation: the rebuilt split has " + std::to_string(split.train.size()) + " training and " +
            std::to_string(split.validation.size()) + " validation reviews, the model records " + std::to_string(train) +
            " and " + std::to_string(held_out));
  std::vector<Review> reviews;
  for (size_t i : split.validation) reviews.push_back(std::move(all[i]));
  return reviews;
}

int run_eval(const EvalArgs& args) {
  if (model_format(args.model) == kTranslatorFormat) {
    check(!args.short_reviews, "--short-reviews is for classifiers (IMDB reviews)");
    check(args.logits.empty(), "--logits is for classifiers (IMDB reviews)");
    TranslatorEvalArgs translator{args.model, args.data_dir, args.split, args.json_output, args.record, args.threads, DecodeOptions{}};
    translator.decode.beam = args.beam;
    return run_eval_translator(translator);
  }
  check(!args.record, "--record is for translators");
  check(args.logits.empty() || args.max_length == 0,
        "--logits gives each whole review's logit, as classify does: leave out --max-length");
  ClassifierBundle bundle = load_classifier(args.model);
  std::vector<Review> reviews =
      args.split == "validation" ? validation_reviews(bundle.provenance, args.data_dir) : load_imdb(args.data_dir, args.split);
  if (args.short_reviews) reviews = short_reviews(reviews);
  reviews = subsample(std::move(reviews), args.limit);
  const std::vector<Example> examples = encode_reviews(reviews, bundle.vocabulary, bundle.tokenizer);
  TrainOptions options;
  options.threads = args.threads;
  options.batch_size = args.batch_size;
  Trainer evaluator(*bundle.model, options);
  const auto started = std::chrono::steady_clock::now();
  const EvalResult r = evaluator.evaluate(examples, all_indices(examples.size()), args.max_length);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!args.logits.empty()) {
    // One row per review evaluated, in order, each read alone (a batch changes a logit in its last bits).
    std::vector<std::string> texts;
    texts.reserve(reviews.size());
    for (const Review& review : reviews) texts.push_back(review.text);
    const std::vector<double> logits = text_logits(bundle, texts, args.threads);
    std::ostringstream csv;
    csv << "id,rating,label,logit\n" << std::setprecision(9);  // IMDB's file {id}_{rating}.txt under pos/ or neg/
    for (size_t i = 0; i < reviews.size(); ++i)
      csv << reviews[i].id << ',' << reviews[i].rating << ',' << reviews[i].label << ',' << logits[i] << '\n';
    write_text_file(args.logits, csv.str());
  }
  json result = r.to_json();
  result["split"] = args.split;
  result["short_reviews"] = args.short_reviews;
  if (args.short_reviews)
    result["short_reviews_rule"] = short_review_rule();
  result["model"] = args.model;
  result["seconds"] = seconds;
  result["reviews_per_second"] = r.count / std::max(seconds, 1e-9);
  if (args.json_output) {
    std::cout << result.dump() << std::endl;
  } else {
    std::cout << "IMDB " << args.split << (args.short_reviews ? ", short reviews" : "") << ": accuracy " << std::fixed << std::setprecision(2) << 100 * r.accuracy
              << "%  loss " << std::setprecision(4) << r.loss << "  on " << r.count << " reviews (" << std::setprecision(1)
              << seconds << " s)\n"
              << (args.short_reviews ? "(" + short_review_rule() + ")\n" : std::string())
              << "confusion matrix (rows: actual, columns: predicted)\n"
              << "              positive  negative\n"
              << "  positive  " << std::setw(10) << r.true_positive << std::setw(10) << r.false_negative << "\n"
              << "  negative  " << std::setw(10) << r.false_positive << std::setw(10) << r.true_negative << "\n";
  }
  return 0;
}

namespace {

// Calls `each` with the text to read: TEXT, else all of stdin or --input; with --batch, each
// line of stdin or --input (`each` is told it is one of many).
void for_each_text(const std::string& text, const std::string& input, bool batch, const CLI::App& cmd,
                   const std::function<void(const std::string&, bool)>& each) {
  std::ifstream file;
  if (!input.empty()) {
    file.open(input, std::ios::binary);
    check(file.good(), input + ": cannot open");
  }
  std::istream& in = input.empty() ? std::cin : file;
  if (batch) {
    check(!cmd.count("text"), "--batch reads texts from stdin or --input, one per line; do not also pass TEXT");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      each(line, true);
    }
    std::cout.flush();
    return;
  }
  if (cmd.count("text")) return each(text, false);
  each(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), false);
}

}  // namespace

int run_classify(const ClassifyArgs& args, const CLI::App& cmd) {
  const ExplainOptions explain{explain_method(args.explanation), args.layer, args.head};
  ClassifierBundle bundle = load_classifier(args.model);
  for_each_text(args.text, args.input, args.batch, cmd, [&](const std::string& text, bool many) {
    const Prediction p = classify(bundle, text, explain);
    if (args.json_output) std::cout << to_json(p).dump(-1, ' ', false, json::error_handler_t::replace) << '\n';  // --batch flushes at the end
    else if (many) std::cout << p.label << '\t' << std::fixed << std::setprecision(6) << p.probability << '\n';
    else print_prediction(p, std::cout);
  });
  return 0;
}

int run_explain(const ExplainArgs& args, const CLI::App& cmd) {
  ExplainRequest request;
  request.method = explain_request_method(args.method);
  request.steps = args.steps;
  request.baseline = args.baseline == "pad" ? ExplainRequest::Baseline::Pad : ExplainRequest::Baseline::Zero;
  request.rule = args.rule == "riemann" ? ExplainRequest::Rule::Riemann : ExplainRequest::Rule::GaussLegendre;
  request.window = args.window;
  request.occlude = args.occlude == "pad" ? ExplainRequest::Occlude::Pad : ExplainRequest::Occlude::Delete;
  request.seed = args.seed;
  request.layer = args.layer;
  request.head = args.head;
  ClassifierBundle bundle = load_classifier(args.model);
  for_each_text(args.text, args.input, args.batch, cmd, [&](const std::string& text, bool many) {
    const Explanation e = explain(bundle, text, request);
    std::optional<Faithfulness> f;
    if (args.faithfulness) {
      std::vector<double> scores;
      for (const TokenScore& t : e.tokens) scores.push_back(t.weight);
      FaithfulnessOptions options;
      options.removal = request.occlude;
      options.seed = args.seed;
      f = faithfulness(bundle, text, scores, options);
    }
    std::optional<AttentionExperiments> experiments;
    if (args.attention_experiments) {
      AttentionExperimentOptions options;
      options.seed = args.seed;
      experiments = attention_experiments(bundle, text, options);
    }
    if (args.json_output || many) {
      json out = to_json(e);
      if (f) out["faithfulness"] = to_json(*f);
      if (experiments) out["attention_experiments"] = to_json(*experiments);
      std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
      return;
    }
    std::cout << e.label << " (probability of positive " << std::fixed << std::setprecision(4) << e.probability << ")\n"
              << e.method << ": " << e.aggregation << "\n";
    if (e.completeness_gap)
      std::cout << "F(x) " << *e.output << ", F(baseline) " << *e.baseline_output << ", completeness gap "
                << std::setprecision(6) << *e.completeness_gap << std::setprecision(4) << "\n";
    double largest = 0;
    for (const TokenScore& t : e.tokens) largest = std::max(largest, std::abs(t.weight));
    for (const TokenScore& t : e.tokens) {
      const int bar = largest > 0 ? static_cast<int>(std::lround(20 * std::abs(t.weight) / largest)) : 0;
      std::cout << "  " << std::left << std::setw(16) << t.text << std::right << std::setw(10) << t.weight << ' '
                << std::string(static_cast<size_t>(bar), t.weight < 0 ? '-' : '+') << (t.oov ? "  (unknown word)" : "") << '\n';
    }
    if (f) {
      const auto optional = [](const std::optional<double>& v) { return v ? std::to_string(*v) : std::string("none"); };
      std::cout << "faithfulness (tokens " << (request.occlude == ExplainRequest::Occlude::Delete ? "deleted" : "replaced by <pad>")
                << "; random orderings in brackets):\n"
                << "  AOPC comprehensiveness " << f->aopc_comprehensiveness << " [" << f->random_aopc_comprehensiveness << "]\n"
                << "  AOPC sufficiency       " << f->aopc_sufficiency << " [" << f->random_aopc_sufficiency << "]\n"
                << "  removing the top token flips the label: " << (f->decision_flip_top1 ? "yes" : "no")
                << "; tokens removed by rank until it flips: " << optional(f->decision_flip_fraction) << "\n"
                << "  Kendall tau with leave-one-out: " << optional(f->kendall_tau_loo) << '\n';
    }
    if (experiments)
      std::cout << "attention experiments (p " << experiments->probability << " with the model's weights):\n"
                << "  permuted, 100 times: median |change of p| " << experiments->permuted_median_change << ", largest "
                << experiments->permuted_max_change << "\n"
                << "  uniform: |change of p| " << experiments->uniform_change << "\n"
                << "  adversarial: Jensen-Shannon divergence " << experiments->adversarial_jsd << " (at most ln 2 = 0.6931) with |change of p| "
                << experiments->adversarial_change << "\n";
  });
  return 0;
}

CLI::App* add_eval_command(CLI::App& app, EvalArgs& args) {
  CLI::App* cmd = app.add_subcommand("eval", "Accuracy, loss and confusion matrix of a model on an IMDB split");
  cmd->add_option("--model", args.model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--data", args.data_dir, "Data directory holding IMDB")->capture_default_str();
  cmd->add_option("--split", args.split,
                  "Split (validation: the part of IMDB's train split the classifier was validated on, rebuilt from its "
                  "provenance, whole reviews; a translator's validation pairs)")
      ->check(CLI::IsMember({"train", "validation", "test"}))->capture_default_str();
  cmd->add_option("--beam", args.beam, "Translators: beam width (1: greedy)")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_flag("--record", args.record, "Translators: store the test BLEU in the model file's provenance (as train-translator --eval-test does)");
  cmd->add_flag("--json", args.json_output, "Print one JSON object");
  cmd->add_flag("--short-reviews", args.short_reviews,
                "Classifiers: the short-review check, instead of whole reviews: " + short_review_rule());
  cmd->add_option("--logits", args.logits,
                  "Classifiers: also write each review's logit to this CSV file (id,rating,label,logit: IMDB's file "
                  "{id}_{rating}.txt; a row per review evaluated, in order, each read whole and alone, as classify "
                  "does): for ensembles and error analysis");
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
                  "Token weights: auto (attention pooling's weights, with an n-gram path the contributions, else "
                  "gradient × input), attention (a Transformer: the self-attention each token receives), "
                  "gradient-x-input, contribution (attention pooling: each token's signed part of the logit)")
      ->check(CLI::IsMember({"auto", "attention", "gradient-x-input", "contribution"}));
  cmd->add_option("--layer", args.layer, "With --explanation attention on a Transformer: the layer, from 0 (-1: the last)");
  cmd->add_option("--head", args.head, "With --explanation attention on a Transformer: the head, from 0 (-1: the mean)");
  cmd->add_flag("--batch", args.batch, "One review per input line, one result per output line (model loaded once)");
  return cmd;
}

CLI::App* add_explain_command(CLI::App& app, ExplainArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "explain", "Score each token's part in a prediction by attention, gradients, integrated gradients, occlusion or chance");
  cmd->add_option("--model", args.model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("text", args.text, "Review text (default: read from stdin or --input)");
  cmd->add_option("--input", args.input, "Read from this file instead of stdin")->check(CLI::ExistingFile);
  cmd->add_option("--method", args.method,
                  "attention, attention-rollout (Transformer), gradient (L2 norm), gradient-x-input, integrated-gradients, "
                  "occlusion, random or contribution (attention pooling: α_t · dlogit/dα_t plus the n-gram path's share); "
                  "gradient methods, occlusion and contribution are signed towards the predicted class")
      ->check(CLI::IsMember({"attention", "attention-rollout", "gradient", "gradient-x-input", "integrated-gradients", "occlusion", "random",
                             "contribution"}))
      ->capture_default_str();
  cmd->add_option("--steps", args.steps, "Integrated gradients: quadrature points")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--baseline", args.baseline, "Integrated gradients: the baseline embeddings (pad: what <pad> embeds to, zero today)")
      ->check(CLI::IsMember({"zero", "pad"}))->capture_default_str();
  cmd->add_option("--rule", args.rule, "Integrated gradients: the quadrature")
      ->check(CLI::IsMember({"gauss-legendre", "riemann"}))->capture_default_str();
  cmd->add_option("--window", args.window, "Occlusion: tokens taken away at once")->check(CLI::IsMember({1, 3}))->capture_default_str();
  cmd->add_option("--occlude", args.occlude, "Occlusion: delete the tokens or replace them by <pad>")
      ->check(CLI::IsMember({"delete", "pad"}))->capture_default_str();
  cmd->add_option("--seed", args.seed, "Random: the seed")->capture_default_str();
  cmd->add_option("--layer", args.layer, "Attention on a Transformer: the layer, from 0 (-1: the last)");
  cmd->add_option("--head", args.head, "Attention on a Transformer: the head, from 0 (-1: the mean)");
  cmd->add_flag("--json", args.json_output,
                "Print JSON: {label, probability, logit, method, aggregation, tokens: [{text, start, end, score, oov}], "
                "[output, baseline_output, completeness_gap]}");
  cmd->add_flag("--faithfulness", args.faithfulness,
                "Also measure how faithful the scores are: comprehensiveness and sufficiency at 1-50 % of the tokens and "
                "their AOPC, decision flip, Kendall tau with leave-one-out, the deletion curve, a random baseline "
                "(tokens removed as --occlude says)");
  cmd->add_flag("--attention-experiments,--adversarial-attention", args.attention_experiments,
                "Attention-pooling models: the prediction with the attention permuted (100 times), uniform, and "
                "adversarial (as different as possible, prediction within 0.01), after Jain & Wallace (2019)");
  cmd->add_flag("--batch", args.batch, "One review per input line, one JSON object per output line (model loaded once)");
  return cmd;
}

}  // namespace attnlens::cli
