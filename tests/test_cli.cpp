// The CLI as other tools drive it: exit codes, --help, error messages, JSON forms.
#include <sys/wait.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "helpers.hpp"
#include "io/model_file.hpp"

using namespace attnlens;
using nlohmann::json;

namespace {

struct Run {
  int status;
  std::string out;
};

// Runs the CLI through the shell; stderr is merged into out when merge_stderr is set.
Run run(const std::string& arguments, bool merge_stderr = false) {
  const std::string command = std::string("'") + ATTNLENS_CLI + "' " + arguments + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string temp_path(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }

std::string small_model() {
  const std::string path = temp_path("attnlens-cli-model.safetensors");
  save_classifier(path, testing::small_bundle());
  return path;
}

}  // namespace

TEST_CASE("cli: --help on every command, clear errors, non-zero exits", "[cli]") {
  CHECK(run("--help").status == 0);
  for (const char* command : {"train", "eval", "classify", "predict", "explain", "info", "card", "train-translator", "translate"}) {
    const Run help = run(std::string(command) + " --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("Usage") != std::string::npos);
  }
  CHECK(run("").status != 0);
  const Run unknown = run("frobnicate", true);
  CHECK(unknown.status != 0);
  CHECK(unknown.out.find("frobnicate") != std::string::npos);
  const Run missing = run("predict", true);
  CHECK(missing.status != 0);
  CHECK(missing.out.find("--model is required") != std::string::npos);
  const Run bad_number = run("train --epochs zero", true);
  CHECK(bad_number.status != 0);
  CHECK(bad_number.out.find("--epochs") != std::string::npos);
  const Run no_file = run("classify --model /nonexistent.safetensors good", true);
  CHECK(no_file.status != 0);
  CHECK(no_file.out.find("/nonexistent.safetensors") != std::string::npos);
}

TEST_CASE("cli: a corrupt model file gives a named error, not a crash", "[cli]") {
  const std::string path = temp_path("attnlens-corrupt.safetensors");
  std::ofstream(path, std::ios::binary) << "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":";
  const Run r = run("classify --model '" + path + "' hello", true);
  CHECK(r.status == 1);
  CHECK(r.out.find("attnlens: error:") != std::string::npos);
  CHECK(r.out.find(path) != std::string::npos);
}

TEST_CASE("cli: classify --json and --batch --json, and predict, its old name", "[cli]") {
  const std::string model = small_model();
  const Run single = run("classify --model '" + model + "' --json 'Good film, not bad!'");
  REQUIRE(single.status == 0);
  const json result = json::parse(single.out);
  CHECK((result["label"] == "positive" || result["label"] == "negative"));
  CHECK(result["probability"].get<double>() >= 0);
  CHECK(result["probability"].get<double>() <= 1);
  REQUIRE(result["tokens"].size() == 6);
  CHECK(result["tokens"][0]["text"] == "good");
  CHECK(result["tokens"][0]["start"] == 0);
  CHECK(result["tokens"][0]["end"] == 4);
  double total = 0;
  for (const auto& t : result["tokens"]) total += t["weight"].get<double>();
  CHECK(total == Approx(1.0));
  CHECK(result["tokens"][5]["oov"] == true);  // "!" is not in the vocabulary

  const std::string input = temp_path("attnlens-batch.txt");
  std::ofstream(input, std::ios::binary) << "good film\n\nbad\r\nnot \xFF good <br /> film\n";
  const Run batch = run("classify --model '" + model + "' --batch --json < '" + input + "'");
  REQUIRE(batch.status == 0);
  std::istringstream lines(batch.out);
  std::string line;
  std::vector<json> rows;
  while (std::getline(lines, line)) rows.push_back(json::parse(line));
  REQUIRE(rows.size() == 4);  // one object per input line, empty lines included
  CHECK(rows[1]["tokens"].empty());
  CHECK(rows[2]["tokens"][0]["text"] == "bad");
  CHECK(rows[3]["tokens"].size() == 4);
  // Same text, same numbers: batch mode equals single mode.
  const json one = json::parse(run("classify --model '" + model + "' --json 'good film'").out);
  CHECK(one["probability"] == rows[0]["probability"]);
  // predict, the command's name before 0.2, still works and gives the same.
  CHECK(json::parse(run("predict --model '" + model + "' --json 'good film'").out) == one);

  CHECK(result["explanation"] == "attention");

  // A model without attention explains by gradient × input instead, and says so.
  ClassifierBundle cnn = testing::small_bundle();
  ClassifierConfig cnn_config = testing::architecture_configs(6)[2];
  cnn.model = std::make_unique<Classifier>(cnn_config);
  Rng rng(3);
  cnn.model->init(rng);
  const std::string cnn_path = temp_path("attnlens-cli-cnn.safetensors");
  save_classifier(cnn_path, cnn);
  const json saliency = json::parse(run("classify --model '" + cnn_path + "' --json 'good film, not bad at all'").out);
  CHECK(saliency["explanation"] == "gradient×input");
  double saliency_total = 0;
  for (const auto& t : saliency["tokens"]) saliency_total += t["weight"].get<double>();
  CHECK(saliency_total == Approx(1.0));

  const Run info = run("info --model '" + model + "'");
  REQUIRE(info.status == 0);
  CHECK(json::parse(info.out)["vocabulary_size"] == 6);
}

TEST_CASE("cli: classify --explanation chooses the token weights", "[cli]") {
  const auto save = [](int index, const std::string& name) {
    ClassifierBundle bundle = testing::small_bundle();
    bundle.model = std::make_unique<Classifier>(testing::architecture_configs(6)[static_cast<size_t>(index)]);
    Rng rng(5);
    bundle.model->init(rng);
    const std::string path = temp_path(name);
    save_classifier(path, bundle);
    return path;
  };
  const auto weights = [](const json& result) {
    std::vector<double> out;
    for (const auto& t : result["tokens"]) out.push_back(t["weight"].get<double>());
    return out;
  };
  const auto sum = [](const std::vector<double>& w) { return std::accumulate(w.begin(), w.end(), 0.0); };
  const std::string text = "'good film, not bad at all'";
  // An attention model: its attention by default, gradient × input on request; the same prediction.
  const std::string attention_model = save(0, "attnlens-cli-explain-attention.safetensors");
  const json pooled = json::parse(run("classify --model '" + attention_model + "' --json " + text).out);
  const json saliency = json::parse(run("classify --model '" + attention_model + "' --json --explanation gradient-x-input " + text).out);
  CHECK(pooled["explanation"] == "attention");
  CHECK(saliency["explanation"] == "gradient×input");
  CHECK(saliency["probability"] == pooled["probability"]);
  CHECK(sum(weights(saliency)) == Approx(1.0));
  CHECK(weights(saliency) != weights(pooled));
  // A Transformer: the self-attention each token receives, by layer and head; the mean over heads
  // is the mean of the heads.
  const std::string transformer = save(4, "attnlens-cli-explain-transformer.safetensors");
  const std::string base = "predict --model '" + transformer + "' --json --explanation attention ";
  const json mean = json::parse(run(base + text).out);
  CHECK(mean["explanation"] == "self-attention");
  CHECK(mean["attention_layer"] == 1);  // −1: the last of two
  CHECK(mean["attention_head"] == -1);
  CHECK(sum(weights(mean)) == Approx(1.0));
  const std::vector<double> head0 = weights(json::parse(run(base + "--layer 1 --head 0 " + text).out));
  const std::vector<double> head1 = weights(json::parse(run(base + "--layer 1 --head 1 " + text).out));
  const std::vector<double> averaged = weights(mean);
  REQUIRE(head0.size() == averaged.size());
  for (size_t i = 0; i < averaged.size(); ++i) CHECK(averaged[i] == Approx((head0[i] + head1[i]) / 2).margin(1e-7));
  const Run no_head = run(base + "--head 2 " + text, true);
  CHECK(no_head.status == 1);
  CHECK(no_head.out.find("head 2 does not exist") != std::string::npos);
  // A model with no attention at all says so.
  const Run none = run("classify --model '" + save(1, "attnlens-cli-explain-lstm.safetensors") + "' --explanation attention " + text, true);
  CHECK(none.status == 1);
  CHECK(none.out.find("has no attention to show") != std::string::npos);
  CHECK(run("classify --model '" + attention_model + "' --explanation shapley " + text, true).status != 0);
}

TEST_CASE("cli: explain --json for every method, --batch, and clear errors", "[cli][explain]") {
  const std::string model = std::string(ATTNLENS_SOURCE_DIR) + "/models/gru-attention.safetensors";
  const std::string text = "'A dull plot, but the music is lovely.'";
  for (const char* method : {"attention", "gradient", "gradient-x-input", "integrated-gradients", "occlusion", "random"}) {
    const Run r = run("explain --model '" + model + "' --json --method " + method + " " + text);
    REQUIRE(r.status == 0);
    const json j = json::parse(r.out);
    INFO(method);
    CHECK(j["method"] == method);
    CHECK(!j["aggregation"].get<std::string>().empty());
    CHECK(j["tokens"].size() == 10);
    CHECK(j["tokens"][1]["text"] == "dull");
    CHECK(j["tokens"][1]["start"] == 2);
    CHECK(j["tokens"][1]["end"] == 6);
    CHECK(j.contains("completeness_gap") == (std::string(method) == "integrated-gradients"));
  }
  // Integrated gradients: more points, a smaller gap; the gap is |Σ scores − (F(x) − F(x′))|.
  const json coarse = json::parse(run("explain --model '" + model + "' --json --method integrated-gradients --steps 2 --rule riemann " + text).out);
  const json fine = json::parse(run("explain --model '" + model + "' --json --method integrated-gradients --steps 300 " + text).out);
  double total = 0;
  for (const auto& t : fine["tokens"]) total += t["score"].get<double>();
  CHECK(std::abs(total - (fine["output"].get<double>() - fine["baseline_output"].get<double>())) ==
        Approx(fine["completeness_gap"].get<double>()).margin(1e-9));
  CHECK(fine["completeness_gap"].get<double>() < coarse["completeness_gap"].get<double>());
  // --batch: one JSON object per line.
  const std::string input = temp_path("attnlens-cli-explain.txt");
  std::ofstream(input) << "great fun\nawful\n\n";
  const Run batch = run("explain --model '" + model + "' --method occlusion --batch --input '" + input + "'");
  REQUIRE(batch.status == 0);
  std::istringstream lines(batch.out);
  std::string line;
  std::vector<json> results;
  while (std::getline(lines, line)) results.push_back(json::parse(line));
  REQUIRE(results.size() == 3);
  CHECK(results[0]["tokens"].size() == 2);
  CHECK(results[2]["tokens"].empty());
  // --faithfulness: occlusion by deletion is leave-one-out, so its tau with leave-one-out is 1.
  const json occluded = json::parse(run("explain --model '" + model + "' --json --faithfulness --method occlusion " + text).out);
  const json& f = occluded["faithfulness"];
  CHECK(f["kendall_tau_loo"].get<double>() == Approx(1));
  for (const char* bin : {"1", "5", "10", "20", "50"}) {
    CHECK(f["comprehensiveness"].contains(bin));
    CHECK(f["sufficiency"].contains(bin));
  }
  CHECK(f["deletion_curve"].size() == 21);
  CHECK(f["random"].contains("aopc_comprehensiveness"));
  CHECK(f["aopc_comprehensiveness"].get<double>() > f["random"]["aopc_comprehensiveness"].get<double>());
  // --attention-experiments (also --adversarial-attention), for attention-pooling models only.
  const json experiments = json::parse(run("explain --model '" + model + "' --json --adversarial-attention " + text).out);
  const json& x = experiments["attention_experiments"];
  CHECK(x["adversarial"]["abs_change"].get<double>() <= 0.01 + 1e-9);
  CHECK(x["adversarial"]["attention"].size() == 10);
  CHECK(x["permuted"]["median_abs_change"].get<double>() >= 0);
  const Run cnn = run("explain --model '" + std::string(ATTNLENS_SOURCE_DIR) + "/models/cnn.safetensors' --method occlusion --attention-experiments good", true);
  CHECK(cnn.status == 1);
  CHECK(cnn.out.find("no attention pooling") != std::string::npos);
  // Errors.
  CHECK(run("explain --model '" + model + "' --method lime good", true).status != 0);
  CHECK(run("explain --model '" + model + "' --method occlusion --window 2 good", true).status != 0);
  CHECK(run("explain --model '" + model + "' --method integrated-gradients --steps 0 good", true).status != 0);
}

TEST_CASE("cli: train and eval report missing data clearly", "[cli]") {
  for (const std::string& command : {"eval --model '" + small_model() + "' --json", "train --epochs 1 --out '" +
                                                                                       temp_path("attnlens-cli-nodata.safetensors") + "'"}) {
    INFO(command);
    const Run r = run(command + " --data /nonexistent-data", true);
    CHECK(r.status == 1);
    CHECK(r.out.find("IMDB data not found under '/nonexistent-data'") != std::string::npos);
    CHECK(r.out.find("--data") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(temp_path("attnlens-cli-nodata.safetensors")));  // nothing written
}

namespace {

std::string small_translator() {
  const std::string path = temp_path("attnlens-cli-translator.safetensors");
  save_translator(path, testing::small_translator_bundle());
  return path;
}

}  // namespace

TEST_CASE("cli: translate --batch --json, one object per input line", "[cli][translation]") {
  const std::string model = small_translator();
  const std::string input = temp_path("attnlens-cli-sentences.txt");
  std::ofstream(input, std::ios::binary) << "I am cold.\n\nYou are <script>alert(1)</script> \xF0\x9F\x98\x80 caf\xC3\xA9\r\n\xFF\xFE bad bytes\n";
  const Run r = run("translate --model '" + model + "' --batch --json --input '" + input + "'");
  REQUIRE(r.status == 0);
  std::istringstream lines(r.out);
  std::vector<json> results;
  for (std::string line; std::getline(lines, line);) results.push_back(json::parse(line));
  REQUIRE(results.size() == 4);
  const json& first = results[0];
  CHECK(first["translation"].is_string());
  CHECK(first["source_tokens"].size() == 4);
  CHECK(first["source_tokens"][2]["text"] == "cold");
  CHECK(first["source_tokens"][2]["start"] == 5);
  CHECK(first["source_tokens"][2]["oov"] == false);
  CHECK(first["attention"].size() == first["target_tokens"].size());
  for (const auto& row : first["attention"]) {
    REQUIRE(row.size() == 4);
    double sum = 0;
    for (const auto& w : row) sum += w.get<double>();
    CHECK(sum == Approx(1.0).margin(1e-5));
  }
  CHECK(results[1]["translation"] == "");  // an empty line translates to nothing
  CHECK(results[1]["source_tokens"].empty());
  CHECK(results[2]["source_tokens"][2]["oov"] == true);  // "<" is not in the vocabulary
  // Without --json: one translation per line; --beam works the same way.
  const Run plain = run("translate --model '" + model + "' --batch --beam 3 --input '" + input + "'");
  CHECK(plain.status == 0);
  CHECK(std::count(plain.out.begin(), plain.out.end(), '\n') == 4);
  // A single sentence prints the translation and the word each target token attended to most.
  const Run one = run("translate --model '" + model + "' 'I am cold.'");
  CHECK(one.status == 0);
  CHECK(one.out.find("←") != std::string::npos);
  // info knows translators.
  const Run info = run("info --model '" + model + "'");
  REQUIRE(info.status == 0);
  CHECK(json::parse(info.out)["format"] == "attnlens.translator");
  CHECK(json::parse(info.out)["target_vocabulary_size"] == 10);
}

TEST_CASE("cli: translator errors are clear", "[cli][translation]") {
  const std::string model = small_translator();
  CHECK(run("translate --model '" + model + "' --beam 0 hi").status != 0);
  const Run classifier = run("translate --model '" + small_model() + "' hi", true);
  CHECK(classifier.status == 1);
  CHECK(classifier.out.find("expected 'attnlens.translator'") != std::string::npos);
  const Run no_data = run("eval --model '" + model + "' --data /nonexistent-data", true);
  CHECK(no_data.status == 1);
  CHECK(no_data.out.find("English-French pairs not found under '/nonexistent-data'") != std::string::npos);
  const Run train = run("train-translator --data /nonexistent-data --out '" + temp_path("never.safetensors") + "'", true);
  CHECK(train.status == 1);
  CHECK(train.out.find("eng-fra/eng-fra.tsv.gz") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(temp_path("never.safetensors")));
  const Run bad_attention = run("train-translator --attention sideways", true);
  CHECK(bad_attention.status != 0);
  CHECK(bad_attention.out.find("sideways") != std::string::npos);
}

TEST_CASE("cli: train-translator on a small generated corpus, then eval and translate the result", "[cli][translation]") {
  const std::filesystem::path data = std::filesystem::temp_directory_path() / "attnlens-cli-pairs";
  std::filesystem::create_directories(data / "eng-fra");
  {
    std::ofstream pairs(data / "eng-fra" / "eng-fra.tsv", std::ios::binary);
    const char* const subjects[][2] = {{"I am", "Je suis"}, {"You are", "Tu es"}, {"We are", "Nous sommes"}, {"They are", "Ils sont"}};
    const char* const states[][2] = {{"cold", "froid"}, {"tired", "fatigu\xC3\xA9"}, {"happy", "heureux"}, {"here", "ici"},
                                     {"late", "en retard"}, {"ready", "pr\xC3\xAAt"}};
    for (const auto& s : subjects)
      for (const auto& st : states)
        for (const char* end : {".", "!"}) pairs << s[0] << ' ' << st[0] << end << '\t' << s[1] << ' ' << st[1] << (end[0] == '!' ? " !" : ".") << '\n';
  }
  const std::string out = temp_path("attnlens-cli-trained-translator.safetensors");
  const Run train = run("train-translator --data '" + data.string() + "' --out '" + out +
                        "' --epochs 2 --threads 1 --eval-test --test-beam 2", true);
  INFO(train.out);
  REQUIRE(train.status == 0);
  CHECK(train.out.find("test BLEU") != std::string::npos);
  const Run eval = run("eval --model '" + out + "' --data '" + data.string() + "' --split test --json");
  REQUIRE(eval.status == 0);
  const json result = json::parse(eval.out);
  CHECK(result["bleu"].is_number());
  CHECK(result["by_source_length"].size() == 4);
  CHECK(result["split"] == "test");
  CHECK(result["by_source_length"][3]["tokens"] == "8+");
  const json trained = json::parse(run("info --model '" + out + "'").out)["provenance"];
  CHECK(trained["test_greedy"]["bleu"] == result["bleu"]);  // eval reproduces what training recorded
  CHECK(trained["test_beam"]["beam"] == 2);
  // --record re-measures into the file (beam 3 replaces the beam-2 record).
  REQUIRE(run("eval --model '" + out + "' --data '" + data.string() + "' --split test --beam 3 --record").status == 0);
  CHECK(json::parse(run("info --model '" + out + "'").out)["provenance"]["test_beam"]["beam"] == 3);
  CHECK(run("eval --model '" + out + "' --data '" + data.string() + "' --split validation --record").status != 0);
  const Run card = run("card --model '" + out + "'");
  CHECK(card.status == 0);
  CHECK(card.out.find("Tatoeba (tatoeba.org), CC-BY 2.0 FR") != std::string::npos);
}

TEST_CASE("cli: cue-task → train --train-file/--test-file learns it, bad labelled files are clear errors", "[cli][train]") {
  const std::string train_file = temp_path("attnlens-cue-train.tsv"), test_file = temp_path("attnlens-cue-test.tsv");
  REQUIRE(run("cue-task --count 600 --length 30 --fillers 20 --seed 1 > '" + train_file + "'").status == 0);
  REQUIRE(run("cue-task --count 200 --length 30 --fillers 20 --seed 2 > '" + test_file + "'").status == 0);
  const std::string config = temp_path("attnlens-cue-config.json"), out = temp_path("attnlens-cue-model.safetensors");
  std::ofstream(config) << R"({"model": {"architecture": "window-attention", "embedding_dim": 16, "pooling": "attention",
    "encoder": [{"type": "conv1d", "size": 16, "kernel_size": 3}, {"type": "relu"}]},
    "training": {"epochs": 8, "batch_size": 16, "learning_rate": 0.01}, "pretraining": {"epochs": 0}})";
  const Run train = run("train --train-file '" + train_file + "' --test-file '" + test_file + "' --config '" + config +
                        "' --out '" + out + "' --threads 1", true);
  INFO(train.out);
  REQUIRE(train.status == 0);
  const json provenance = json::parse(run("info --model '" + out + "'").out)["provenance"];
  CHECK(provenance["test_accuracy"].get<double>() >= 0.9);
  CHECK(provenance["test_count"] == 200);
  CHECK(provenance["data"].get<std::string>().find("attnlens-cue-train.tsv (labelled texts)") == 0);
  const Run validation = run("eval --model '" + out + "' --split validation", true);
  CHECK(validation.status == 1);
  CHECK(validation.out.find("this model was not trained on IMDB's train split") != std::string::npos);

  // --write-dataset: the same vocabulary, split and config as this training, as JSON Lines for
  // tools/pytorch/train.py; nothing is trained.
  const std::string dataset = temp_path("attnlens-cue-dataset.jsonl");
  REQUIRE(run("train --train-file '" + train_file + "' --config '" + config + "' --write-dataset '" + dataset + "'").status == 0);
  {
    std::ifstream in(dataset);
    std::string line;
    REQUIRE(std::getline(in, line));
    const json header = json::parse(line);
    const ClassifierBundle model = load_classifier(out);
    CHECK(header["format"] == "attnlens.dataset");
    CHECK(header["format_version"] == "2");
    CHECK(!header.contains("initial_embedding"));  // this config does not pretrain
    CHECK(header["config"] == model.model->config().to_json());
    CHECK(header["vocabulary"] == json(model.vocabulary.words()));
    CHECK(header["tokenizer"] == tokenizer_to_json(model.tokenizer));
    CHECK(header["training"]["epochs"] == 8);
    CHECK(header["provenance"]["data"] == provenance["data"]);
    int train_rows = 0, validation_rows = 0, positives = 0;
    bool ids_in_range = true;
    while (std::getline(in, line)) {
      const json row = json::parse(line);
      (row["part"] == "train" ? train_rows : validation_rows) += 1;
      positives += row["label"].get<int>();
      for (const auto& id : row["ids"]) ids_in_range = ids_in_range && id.get<int>() >= 0 && id.get<int>() < model.vocabulary.size();
      // A cue text's ids are its tokens in the model's vocabulary.
      if (train_rows + validation_rows == 1) CHECK(row["ids"].size() == 30);
    }
    CHECK(train_rows == provenance["train_examples"].get<int>());
    CHECK(validation_rows == provenance["validation_examples"].get<int>());
    CHECK(train_rows + validation_rows == 600);
    CHECK(positives > 200);
    CHECK(ids_in_range);
  }
  const Run both = run("train --train-file '" + train_file + "' --write-dataset '" + dataset + "' --resume '" + out + "'", true);
  CHECK(both.status == 1);
  CHECK(both.out.find("--write-dataset writes the prepared data and trains nothing") != std::string::npos);
  const Run nowhere = run("train --train-file '" + train_file + "' --write-dataset '" + temp_path("no-such-folder") +
                          "/data.jsonl'", true);
  CHECK(nowhere.status == 1);
  CHECK(nowhere.out.find("there is no folder") != std::string::npos);

  // --pooling replaces the config's (a student trained with another pooling than its teacher's).
  const std::string pooled = temp_path("attnlens-cue-pooled.safetensors");
  REQUIRE(run("train --train-file '" + train_file + "' --config '" + config + "' --epochs 1 --pooling max --out '" + pooled +
              "' --threads 1").status == 0);
  CHECK(json::parse(run("info --model '" + pooled + "'").out)["config"]["pooling"] == "max");
  const std::string ngram_config = temp_path("attnlens-ngram-config.json");
  std::ofstream(ngram_config) << R"({"model": {"architecture": "ngram", "ngram_order": 2, "embedding_dim": 1, "pooling": "sum"}})";
  for (const auto& [options, message] : std::vector<std::pair<std::string, std::string>>{
           {"--config '" + config + "' --pooling softmax", "--pooling: softmax not in {attention,mean,max,sum,last}"},
           {"--config '" + ngram_config + "' --pooling attention", "config.pooling: an n-gram model's is sum"}}) {
    const Run r = run("train --train-file '" + train_file + "' " + options + " --out '" + temp_path("attnlens-unused.safetensors") + "'", true);
    INFO(options << ": " << r.out);
    CHECK(r.status != 0);
    CHECK(r.out.find(message) != std::string::npos);
  }

  const auto fails_with = [&](const std::string& content, const std::string& message) {
    const std::string file = temp_path("attnlens-bad-labelled.tsv");
    std::ofstream(file, std::ios::binary) << content;
    const Run r = run("train --train-file '" + file + "' --out '" + temp_path("attnlens-unused.safetensors") + "'", true);
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK(r.out.find(message) != std::string::npos);
  };
  fails_with("", "the file is empty");
  fails_with("good\t1\nbad\n", "line 2: expected two tab-separated columns");
  fails_with("good\t1\nbad\tmeh\n", "line 2: unknown label 'meh'");
  fails_with("1\tgood\n", "line 1: the label comes first");
  fails_with("good\t1\ncaf\xE9\t0\n", "line 2: not valid UTF-8");
  fails_with("text\tlabel\ngood\t1\ngreat\tpos\n", "all 2 texts are labelled positive");
  fails_with("good\t1\n \t0\n", "line 2: empty text");
  // A config file's value passes its flag's own checks (it bypassed them before: epochs 10^9 ran).
  for (const auto& [training, message] : std::vector<std::pair<std::string, std::string>>{
           {R"("training": {"epochs": 1000000000})", "'epochs' (as --epochs): Value 1000000000 not in range"},
           {R"("training": {"max_length": -3})", "'max_length' (as --max-length)"},
           {R"("vocabulary": {"max_size": 1})", "'max_size' (as --vocab-size)"},
           {R"("training": {"batch_size": 0})", "'batch_size' (as --batch-size)"},
           // A section that is not an object (the fuzzer's find: "model": "..." ended in std::terminate).
           {R"("model": "bilstm-attention")", "section 'model' must be a JSON object"},
           {R"("training": [8])", "section 'training' must be a JSON object"}}) {
    const std::string bad_config = temp_path("attnlens-bad-config.json");
    std::ofstream(bad_config) << "{" << training << "}";
    const Run r = run("train --train-file '" + train_file + "' --config '" + bad_config + "' --out '" +
                          temp_path("attnlens-unused.safetensors") + "'", true);
    INFO(training << ": " << r.out);
    CHECK(r.status == 1);
    CHECK(r.out.find(message) != std::string::npos);
  }
  CHECK(run("cue-task --length 1").status != 0);
  const Run unknown = run("frobnicate", true);
  CHECK(unknown.status == 2);
  CHECK(unknown.out.find("cue-task") != std::string::npos);  // the list of commands is the real one
}

TEST_CASE("cli: convert stores weights as float16 or int8, and predict, info and card read them", "[cli][storage]") {
  const std::string model = small_model();
  const json original = json::parse(run("classify --model '" + model + "' --json 'a good film'").out);
  for (const char* weights : {"float16", "int8"}) {
    INFO(weights);
    const std::string out = temp_path(std::string("attnlens-converted-") + weights + ".safetensors");
    const Run convert = run("convert --model '" + model + "' --out '" + out + "' --weights " + weights, true);
    INFO(convert.out);
    REQUIRE(convert.status == 0);
    CHECK(convert.out.find(std::string("(") + weights + " weights)") != std::string::npos);
    const json predicted = json::parse(run("classify --model '" + out + "' --json 'a good film'").out);
    CHECK(predicted["probability"].get<double>() == Approx(original["probability"].get<double>()).margin(0.01));
    const json info = json::parse(run("info --model '" + out + "'").out);
    CHECK(info["provenance"]["conversion"]["weights"] == weights);
    CHECK(info["provenance"]["conversion"]["original"]["weights"] == "float32");
    const std::string card = run("card --model '" + out + "'").out;
    CHECK(card.find(std::string("| weights | ") + weights) != std::string::npos);
    CHECK(card.find("converted from float32") != std::string::npos);
  }
  const Run bad = run("convert --model '" + model + "' --out x.safetensors --weights int4", true);
  CHECK(bad.status != 0);
  CHECK(bad.out.find("int4") != std::string::npos);
}
