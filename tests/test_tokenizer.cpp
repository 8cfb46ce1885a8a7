#include <catch2/catch.hpp>
#include <random>

#include "text/tokenizer.hpp"
#include "text/vocabulary.hpp"

using namespace attnlens;

namespace {
std::vector<std::string> texts(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const auto& t : tokens) out.push_back(t.text);
  return out;
}
// Every token's offsets must point at bytes of the original that, lower-cased, give its text.
void expect_offsets_valid(const std::string& original, const std::vector<Token>& tokens) {
  size_t previous_end = 0;
  for (const auto& t : tokens) {
    REQUIRE(t.start < t.end);
    REQUIRE(t.end <= original.size());
    REQUIRE(t.start >= previous_end);
    previous_end = t.end;
  }
}
}  // namespace

TEST_CASE("tokenizer: words, apostrophes and punctuation", "[tokenizer]") {
  const std::string text = "I don't LIKE it... \"Really\"!";
  const auto tokens = tokenize(text);
  CHECK(texts(tokens) == std::vector<std::string>{"i", "don't", "like", "it", ".", ".", ".", "\"", "really", "\"", "!"});
  expect_offsets_valid(text, tokens);
  CHECK(text.substr(tokens[1].start, tokens[1].end - tokens[1].start) == "don't");
  CHECK(text.substr(tokens[2].start, tokens[2].end - tokens[2].start) == "LIKE");
}

TEST_CASE("tokenizer: apostrophes at word edges are punctuation, curly apostrophes normalise", "[tokenizer]") {
  CHECK(texts(tokenize("'quoted' rock 'n' roll")) ==
        std::vector<std::string>{"'", "quoted", "'", "rock", "'", "n", "'", "roll"});
  const std::string curly = "Don\u2019t";
  const auto tokens = tokenize(curly);
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0].text == "don't");
  CHECK(tokens[0].end == curly.size());
}

TEST_CASE("tokenizer: HTML line breaks are spaces", "[tokenizer]") {
  const std::string text = "Great film.<br /><br />Bad ending<BR/>really<br>ok";
  const auto tokens = tokenize(text);
  CHECK(texts(tokens) == std::vector<std::string>{"great", "film", ".", "bad", "ending", "really", "ok"});
  expect_offsets_valid(text, tokens);
  CHECK(text.substr(tokens[3].start, 3) == "Bad");
  CHECK(texts(tokenize("a <b>bold</b> <brother>")) ==
        std::vector<std::string>{"a", "<", "b", ">", "bold", "<", "/", "b", ">", "<", "brother", ">"});
}

TEST_CASE("tokenizer: multi-byte UTF-8 is never split and offsets are byte offsets", "[tokenizer]") {
  const std::string text = "Amélie était GÉNIAL — 10/10 😀!";
  const auto tokens = tokenize(text);
  CHECK(texts(tokens) == std::vector<std::string>{"amélie", "était", "génial", "—", "10", "/", "10", "😀", "!"});
  expect_offsets_valid(text, tokens);
  CHECK(text.substr(tokens[0].start, tokens[0].end - tokens[0].start) == "Amélie");
  CHECK(text.substr(tokens[7].start, tokens[7].end - tokens[7].start) == "😀");
  CHECK(tokens[7].end - tokens[7].start == 4);
  CHECK(texts(tokenize("ПРИВЕТ Ωmega")) == std::vector<std::string>{"привет", "ωmega"});
}

TEST_CASE("tokenizer: invalid bytes never crash and never escape as invalid UTF-8", "[tokenizer]") {
  const std::string text = std::string("caf\xE9 ok \xF0\x9F\x98") + " \xC0\xAF x\xFF\xFEy \xED\xA0\x80";
  const auto tokens = tokenize(text);
  expect_offsets_valid(text, tokens);
  REQUIRE(!tokens.empty());
  CHECK(tokens[0].text == "caf\uFFFD");
  CHECK(tokens[1].text == "ok");
  for (const auto& t : tokens) {  // every token text is valid UTF-8
    size_t pos = 0;
    while (pos < t.text.size()) {
      size_t length;
      CHECK((decode_utf8(t.text, pos, length) != 0xFFFD || t.text.compare(pos, 3, "\uFFFD") == 0));
      pos += length;
    }
  }
}

TEST_CASE("tokenizer: empty and whitespace-only text", "[tokenizer]") {
  CHECK(tokenize("").empty());
  CHECK(tokenize(" \t\n<br /> \u00A0").empty());
}

TEST_CASE("tokenizer: random bytes (fuzz)", "[tokenizer]") {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string text(rng() % 64, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    expect_offsets_valid(text, tokenize(text));
  }
}

TEST_CASE("vocabulary: PAD 0, UNK 1, most frequent first, ties alphabetical", "[vocabulary]") {
  const std::vector<std::vector<Token>> corpus = {tokenize("b a a c c d"), tokenize("a c e")};
  const Vocabulary vocabulary = Vocabulary::build(corpus, 5);
  CHECK(vocabulary.words() == std::vector<std::string>{"<pad>", "<unk>", "a", "c", "b"});
  CHECK(vocabulary.id("a") == 2);
  CHECK(vocabulary.id("zzz") == Vocabulary::kUnk);
  CHECK(Vocabulary::build(corpus, 100, 2).size() == 4);  // min_count 2 keeps a, c
  CHECK_THROWS_WITH(Vocabulary({"<pad>", "<unk>", "x", "x"}), Catch::Contains("duplicate entry 'x'"));
  CHECK_THROWS_WITH(Vocabulary({"x", "<unk>"}), Catch::Contains("<pad> and <unk>"));
}

TEST_CASE("vocabulary: an n-gram entry's words, each known, at most max_words of them", "[vocabulary]") {
  const Vocabulary vocabulary({"<pad>", "<unk>", "good", "not", "very", "not good"});
  int32_t ids[3] = {-1, -1, -1};
  CHECK(vocabulary.entry_word_ids("not very good", 3, ids) == 3);
  CHECK((ids[0] == 3 && ids[1] == 4 && ids[2] == 2));
  CHECK(vocabulary.entry_word_ids("good", 3) == 1);
  CHECK(vocabulary.entry_word_ids("not very good", 2) == 0);  // too many words
  CHECK(vocabulary.entry_word_ids("not bad", 3) == 0);        // an unknown word
  CHECK(vocabulary.entry_word_ids("not <unk>", 3) == 0);      // <unk> and <pad> are not words
  CHECK(vocabulary.entry_word_ids("not  good", 3) == 0);      // an empty word between two spaces
  CHECK(vocabulary.entry_word_ids("good ", 3) == 0);
  CHECK(vocabulary.entry_word_ids("", 3) == 0);
}
