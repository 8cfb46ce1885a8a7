// Translation: the French tokenizer, BLEU against hand-computed values, the split,
// decoding (beam 1 = greedy, attention rows), the model file, and a trained reversal task
// whose attention must be the anti-diagonal.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "helpers.hpp"
#include "io/translator_file.hpp"
#include "pipeline/translate.hpp"
#include "train/bleu.hpp"
#include "train/translator_trainer.hpp"

using namespace attnlens;

namespace {

std::vector<std::string> texts(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const Token& t : tokens) out.push_back(t.text);
  return out;
}

std::vector<std::string> words(const std::string& sentence) {
  std::vector<std::string> out;
  std::istringstream in(sentence);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

TranslatorConfig tiny_config(const std::string& attention, int source_vocab, int target_vocab) {
  TranslatorConfig config;
  config.source_vocab_size = source_vocab;
  config.target_vocab_size = target_vocab;
  config.embedding_dim = 16;
  config.hidden_size = 32;
  config.decoder_size = 64;
  config.attention = attention;
  config.attention_size = 32;
  config.output_size = 64;
  config.dropout = 0;
  return config;
}

TranslatorBundle tiny_bundle(const std::string& attention = "additive") {
  TranslatorBundle bundle;
  bundle.source_vocabulary = Vocabulary({"<pad>", "<unk>", "i", "am", "cold", "you", "are", "."});
  bundle.target_vocabulary = Vocabulary({"<pad>", "<unk>", "<s>", "</s>", "j'", "ai", "froid", "tu", "as", "."});
  bundle.target_tokenizer = french_tokenizer_options();
  bundle.model = std::make_unique<Translator>(tiny_config(attention, 8, 10));
  Rng rng(5);
  bundle.model->init(rng);
  return bundle;
}

}  // namespace

TEST_CASE("French tokenizer: elisions, clitic hyphens, accents, curly apostrophes, offsets", "[translation][tokenizer]") {
  const TokenizerOptions fr = french_tokenizer_options();
  CHECK(texts(tokenize("L'homme qu'il a vu aujourd'hui.", fr)) ==
        std::vector<std::string>{"l'", "homme", "qu'", "il", "a", "vu", "aujourd'hui", "."});
  CHECK(texts(tokenize("Dis-moi, est-ce que c'est vrai ?", fr)) ==
        std::vector<std::string>{"dis", "-moi", ",", "est", "-ce", "que", "c'", "est", "vrai", "?"});
  CHECK(texts(tokenize("Jusqu'où ÉTAIT-il allé ?", fr)) ==
        std::vector<std::string>{"jusqu'", "où", "était", "-il", "allé", "?"});
  const auto curly = tokenize("J\xE2\x80\x99" "ai faim", fr);  // J’ai
  REQUIRE(curly.size() == 3);
  CHECK(curly[0].text == "j'");
  CHECK(curly[0].start == 0);
  CHECK(curly[0].end == 4);  // J + the three bytes of ’
  CHECK(curly[1].text == "ai");
  CHECK(curly[1].start == 4);
  const auto hyphen = tokenize("a-t-il", fr);
  REQUIRE(hyphen.size() == 3);
  CHECK(hyphen[1].text == "-t");
  CHECK(hyphen[1].start == 1);
  CHECK(hyphen[2].end == 6);
  // The default (English) tokenizer keeps both inside the word.
  CHECK(texts(tokenize("l'homme don't well-known", {})) ==
        std::vector<std::string>{"l'homme", "don't", "well", "-", "known"});
  // A lone or trailing hyphen is punctuation, not a clitic.
  CHECK(texts(tokenize("oui - non-", fr)) == std::vector<std::string>{"oui", "-", "non", "-"});
}

TEST_CASE("detokenize joins elisions, clitics and punctuation (French spacing)", "[translation][tokenizer]") {
  CHECK(detokenize({"dis", "-moi", ",", "c'", "est", "vrai", "?"}, true, true) == "Dis-moi, c'est vrai ?");
  CHECK(detokenize({"is", "it", "true", "?"}, false, true) == "Is it true?");
  CHECK(detokenize({"été", "."}, true, true) == "Été.");
  CHECK(detokenize({}, true, true).empty());
  const TokenizerOptions fr = french_tokenizer_options();
  for (const std::string sentence : {"J'ai froid.", "Dis-moi la vérité !", "Qu'est-ce que c'est ?"})
    CHECK(detokenize(texts(tokenize(sentence, fr)), true, true) == sentence);
}

TEST_CASE("BLEU matches hand-computed values", "[translation][bleu]") {
  // Identical sentences: every precision 1, BP 1.
  CHECK(corpus_bleu({words("a b c d e")}, {{words("a b c d e")}}) == Approx(100.0));
  // p1 = 5/6, p2 = 3/5, p3 = 2/4, p4 = 1/3, BP = 1.
  BleuStats one;
  one.add(words("a b c d e f"), {words("a b c d x f")});
  CHECK(one.precision(1) == Approx(5.0 / 6));
  CHECK(one.precision(2) == Approx(3.0 / 5));
  CHECK(one.precision(3) == Approx(2.0 / 4));
  CHECK(one.precision(4) == Approx(1.0 / 3));
  CHECK(one.score() == Approx(100 * std::pow(5.0 / 6 * 3.0 / 5 * 2.0 / 4 * 1.0 / 3, 0.25)));
  // Clipping: "the" counts at most as often as in the reference.
  BleuStats clipped;
  clipped.add(words("the the the the"), {words("the cat")});
  CHECK(clipped.precision(1) == Approx(0.25));
  // Brevity: c = 4, r = 8 -> BP = exp(1 - 2).
  BleuStats brief;
  brief.add(words("a b c d"), {words("a b c d e f g h")});
  CHECK(brief.brevity_penalty() == Approx(std::exp(-1.0)));
  CHECK(brief.score() == Approx(100 * std::exp(-1.0)));
  // Several references: counts clipped by the best reference; the closest length, shorter on a tie.
  BleuStats multi;
  multi.add(words("a b c d e"), {words("a b c d"), words("x b c d e f")});
  CHECK(multi.reference_length() == 4);
  CHECK(multi.precision(1) == Approx(1.0));
  CHECK(multi.precision(4) == Approx(1.0));  // "a b c d" matches the first reference, "b c d e" the second
  // Corpus level: statistics are summed before the geometric mean, not averaged per sentence.
  BleuStats corpus;
  corpus.add(words("a b c d e f"), {words("a b c d x f")});
  corpus.add(words("a b c d"), {words("a b c d")});
  CHECK(corpus.precision(4) == Approx((1.0 + 1.0) / (3 + 1)));
  CHECK(corpus.precision(1) == Approx((5.0 + 4) / (6 + 4)));
  // A missing n-gram order gives 0, an empty hypothesis gives 0.
  CHECK(corpus_bleu({words("a b c")}, {{words("a b c")}}) == 0.0);
  CHECK(corpus_bleu({{}}, {{words("a b c d")}}) == 0.0);
  CHECK_THROWS(corpus_bleu({words("a")}, {}));
}

TEST_CASE("split by source sentence: seeded, disjoint, every pair once", "[translation][split]") {
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("sentence " + std::to_string(i % 700));  // 300 sources have two pairs
  const PairSplit a = split_by_source(keys, 0.1, 0.1, 3), b = split_by_source(keys, 0.1, 0.1, 3), c = split_by_source(keys, 0.1, 0.1, 4);
  CHECK(a.test == b.test);
  CHECK(a.test != c.test);
  CHECK(a.train.size() + a.validation.size() + a.test.size() == keys.size());
  std::set<std::string> train_keys, test_keys;
  for (size_t i : a.train) train_keys.insert(keys[i]);
  for (size_t i : a.test) test_keys.insert(keys[i]);
  for (size_t i : a.validation) CHECK(train_keys.count(keys[i]) == 0);
  for (const auto& k : test_keys) CHECK(train_keys.count(k) == 0);
  CHECK(test_keys.size() == 70);  // 10 % of the 700 distinct sources
}

TEST_CASE("decoding: beam search of width 1 is greedy, attention rows are distributions over the source", "[translation][decode]") {
  for (const char* attention : {"none", "additive", "dot", "general"}) {
    DYNAMIC_SECTION(attention) {
      TranslatorConfig config = tiny_config(attention, 12, 15);
      if (std::string(attention) == "dot") config.decoder_size = 2 * config.hidden_size;
      Translator model(config);
      Rng rng(17);
      model.init(rng);
      const std::vector<std::vector<int32_t>> sources = {{2, 3, 4}, {5}, {6, 7, 8, 9, 10, 11, 1}, {4, 4}};
      int compared = 0;  // hypotheses checked against teacher forcing
      CHECK(config.parameter_count() == model.parameter_count());
      const auto greedy = greedy_decode(model, sources, 0);
      for (size_t s = 0; s < sources.size(); ++s) {
        DecodeOptions options;
        options.beam = 1;
        const Hypothesis beam = beam_search(model, sources[s], options);
        CHECK(beam.tokens == greedy[s].tokens);
        CHECK(beam.log_probability == Approx(greedy[s].log_probability).epsilon(1e-5));
        CHECK(static_cast<int>(greedy[s].tokens.size()) <= 2 * static_cast<int>(sources[s].size()) + 10);
        if (config.has_attention()) {
          REQUIRE(greedy[s].attention.rows() == static_cast<Eigen::Index>(greedy[s].tokens.size()));
          REQUIRE(greedy[s].attention.cols() == static_cast<Eigen::Index>(sources[s].size()));
          for (Eigen::Index i = 0; i < greedy[s].attention.rows(); ++i)
            CHECK(greedy[s].attention.row(i).sum() == Approx(1.0).epsilon(1e-5));
          if (greedy[s].attention.rows() > 0) CHECK((beam.attention - greedy[s].attention).cwiseAbs().maxCoeff() < 1e-5);
        } else {
          CHECK(greedy[s].attention.size() == 0);
        }
        // Greedy alone in a batch of one gives the same as inside the batch (padding is masked).
        CHECK(greedy_decode(model, {sources[s]}, 0).front().tokens == greedy[s].tokens);
        // Beam search (width 4): the hypothesis it returns has the log-probability the model gives
        // its tokens and </s> by teacher forcing (a hypothesis cut at the length limit, as an untrained
        // model's mostly are, has no </s>, so teacher forcing, which adds one, gives less; the trained
        // model below ends its hypotheses), and its score is that over the length penalty.
        options.beam = 4;
        const Hypothesis wide = beam_search(model, sources[s], options);
        const int limit = 2 * static_cast<int>(sources[s].size()) + 10;
        CHECK(static_cast<int>(wide.tokens.size()) <= limit);
        for (const Hypothesis* h : {&wide, &greedy[s]}) {
          // (An untrained decoder may emit <pad>, which teacher forcing refuses as a target.)
          if (std::count(h->tokens.begin(), h->tokens.end(), 0) > 0) continue;
          ++compared;
          TranslationCorpus corpus;
          corpus.source = {sources[s]};
          corpus.target = {h->tokens};
          const Translator::Stats forced = model.forward(make_translation_batch(corpus, {0}));
          CHECK(forced.tokens == static_cast<int64_t>(h->tokens.size()) + 1);
          if (static_cast<int>(h->tokens.size()) < limit) {
            CHECK(-forced.loss_sum == Approx(h->log_probability).epsilon(1e-4));
          } else {
            CHECK(-forced.loss_sum < h->log_probability);
          }
        }
        CHECK(wide.score == Approx(wide.log_probability / std::pow((5.0 + static_cast<double>(wide.tokens.size() + 1)) / 6.0,
                                                                    options.length_penalty)));
      }
      CHECK(compared > 0);
      DecodeOptions capped;
      capped.max_length = 2;
      CHECK(beam_search(model, sources[2], capped).tokens.size() <= 2);
      CHECK_THROWS_WITH(beam_search(model, {}, DecodeOptions{}), Catch::Contains("no tokens"));
      DecodeOptions bad;
      bad.beam = 0;
      CHECK_THROWS_WITH(beam_search(model, sources[0], bad), Catch::Contains("beam"));
    }
  }
}

TEST_CASE("translator files: round trip, and hostile metadata gives named errors", "[translation][io]") {
  TranslatorBundle bundle = tiny_bundle("general");
  bundle.provenance = {{"credit", "test"}};
  const std::vector<uint8_t> bytes = serialize_translator(bundle);
  TranslatorBundle loaded = load_translator(bytes.data(), bytes.size(), "mem");
  CHECK(loaded.model->config().to_json() == bundle.model->config().to_json());
  CHECK(loaded.target_tokenizer.split_elisions);
  CHECK(loaded.provenance == bundle.provenance);
  const Translation a = translate_text(bundle, "I am cold.", DecodeOptions{});
  const Translation b = translate_text(loaded, "I am cold.", DecodeOptions{});
  CHECK(a.target_tokens == b.target_tokens);
  CHECK(a.source_tokens.size() == 4);
  CHECK_FALSE(a.source_tokens[0].oov);
  CHECK(translate_text(bundle, "Zebras!", DecodeOptions{}).source_tokens[0].oov);
  CHECK(translate_text(bundle, "   ", DecodeOptions{}).translation.empty());
  // A classifier file is not a translator, and vice versa.
  const std::vector<uint8_t> classifier = serialize_classifier(testing::small_bundle());
  CHECK_THROWS_WITH(load_translator(classifier.data(), classifier.size(), "c"), Catch::Contains("attnlens.classifier"));
  CHECK_THROWS_WITH(load_classifier(bytes.data(), bytes.size(), "t"), Catch::Contains("attnlens.translator"));
  // Target vocabulary without <s> </s> at 2 and 3.
  TranslatorBundle broken = tiny_bundle();
  broken.target_vocabulary = Vocabulary({"<pad>", "<unk>", "a", "b", "j'", "ai", "froid", "tu", "as", "."});
  const auto broken_bytes = serialize_translator(broken);
  CHECK_THROWS_WITH(load_translator(broken_bytes.data(), broken_bytes.size(), "b"), Catch::Contains("<s>"));
  // A config that describes more weights than the file holds is refused before anything is allocated.
  {
    TranslatorBundle huge = tiny_bundle();
    auto bytes_huge = serialize_translator(huge);
    std::string text(bytes_huge.begin(), bytes_huge.end());
    const std::string from = "\\\"embedding_dim\\\":16", to = "\\\"embedding_dim\\\":4000";
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    // keep the header length field consistent with the longer header
    uint64_t header = 0;
    for (int k = 7; k >= 0; --k) header = (header << 8) | static_cast<unsigned char>(text[static_cast<size_t>(k)]);
    header += to.size() - from.size();
    for (int k = 0; k < 8; ++k) text[static_cast<size_t>(k)] = static_cast<char>((header >> (8 * k)) & 0xFF);
    CHECK_THROWS_WITH(load_translator(reinterpret_cast<const uint8_t*>(text.data()), text.size(), "huge"),
                      Catch::Contains("but its config describes"));
  }
  // Truncated files.
  for (size_t cut : {size_t{0}, size_t{7}, bytes.size() / 2, bytes.size() - 1})
    CHECK_THROWS_AS(load_translator(bytes.data(), cut, "cut"), Error);
}

TEST_CASE("a trained translator reverses sequences and its attention is the anti-diagonal", "[translation][training]") {
  // Source symbols 2..11 (ids), target symbols 4..13: target_t = source_{L-1-t} + 2.
  Rng data_rng(11);
  TranslationCorpus corpus;
  for (int n = 0; n < 3000; ++n) {
    const int length = 3 + static_cast<int>(data_rng.below(5));  // 3–7
    std::vector<int32_t> source, target;
    for (int t = 0; t < length; ++t) source.push_back(2 + static_cast<int32_t>(data_rng.below(10)));
    for (int t = length - 1; t >= 0; --t) target.push_back(source[static_cast<size_t>(t)] + 2);
    std::string key;
    for (int32_t id : source) key += std::to_string(id) + ' ';
    std::vector<std::string> reference;
    for (int32_t id : target) reference.push_back(std::to_string(id));
    corpus.source.push_back(source);
    corpus.target.push_back(target);
    corpus.references.push_back(reference);
    corpus.source_key.push_back(key);
    corpus.source_lengths.push_back(length);
  }
  const PairSplit split = split_by_source(corpus.source_key, 0.0, 0.1, 1);
  TranslatorConfig config = tiny_config("additive", 12, 14);
  Translator model(config);
  Rng rng(2);
  model.init(rng);
  TrainOptions options;
  options.epochs = 6;
  options.batch_size = 32;
  options.learning_rate = 3e-3;
  options.threads = 2;
  TranslatorTrainer trainer(model, options);
  std::vector<std::string> words = {"<pad>", "<unk>", "<s>", "</s>"};
  for (int id = 4; id < 14; ++id) words.push_back(std::to_string(id));
  const Vocabulary target_vocabulary(words);
  const auto history = trainer.fit(corpus, split.train, {}, target_vocabulary);
  CHECK(history.back().train_loss < history.front().train_loss);

  std::vector<std::vector<int32_t>> sources;
  for (size_t i : split.test) sources.push_back(corpus.source[i]);
  const auto results = greedy_decode(model, sources, 0);
  int exact = 0, anti_diagonal = 0, positions = 0;
  double anti_diagonal_weight = 0;
  for (size_t k = 0; k < results.size(); ++k) {
    const size_t i = split.test[k];
    exact += results[k].tokens == corpus.target[i];
    const int L = static_cast<int>(corpus.source[i].size());
    for (Eigen::Index row = 0; row < std::min<Eigen::Index>(results[k].attention.rows(), L); ++row) {
      Eigen::Index best;
      results[k].attention.row(row).maxCoeff(&best);
      anti_diagonal += best == L - 1 - row;
      anti_diagonal_weight += results[k].attention(row, L - 1 - row);
      ++positions;
    }
  }
  const double accuracy = static_cast<double>(exact) / static_cast<double>(results.size());
  INFO("exact reversals " << exact << " / " << results.size() << "; attention argmax on the anti-diagonal " << anti_diagonal
                          << " / " << positions << "; mean weight there " << anti_diagonal_weight / positions);
  CHECK(accuracy >= 0.95);
  CHECK(static_cast<double>(anti_diagonal) / positions >= 0.9);
  CHECK(anti_diagonal_weight / positions >= 0.6);
  const BleuReport report = evaluate_bleu(model, corpus, split.test, target_vocabulary, DecodeOptions{}, 2);
  CHECK(report.overall.score() > 90);
  // The same score whatever the number of threads (batches are fixed before they are dealt out).
  CHECK(evaluate_bleu(model, corpus, split.test, target_vocabulary, DecodeOptions{}, 1).overall.score() == report.overall.score());
  DecodeOptions beam;
  beam.beam = 3;
  CHECK(evaluate_bleu(model, corpus, split.test, target_vocabulary, beam, 3).overall.score() ==
        evaluate_bleu(model, corpus, split.test, target_vocabulary, beam, 1).overall.score());
  // Greedy and beam-search hypotheses, which this model ends with </s>: their log-probability is
  // exactly what teacher forcing gives their tokens and </s>.
  for (size_t k = 0; k < 20 && k < sources.size(); ++k) {
    for (const Hypothesis& h : {results[k], beam_search(model, sources[k], beam)}) {
      REQUIRE(h.tokens.size() < sources[k].size() * 2 + 10);  // ended, not cut
      TranslationCorpus one;
      one.source = {sources[k]};
      one.target = {h.tokens};
      const Translator::Stats forced = model.forward(make_translation_batch(one, {0}));
      CHECK(-forced.loss_sum == Approx(h.log_probability).epsilon(1e-4).margin(1e-5));
    }
  }
}
