// The IMDB reader on generated folder and archive layouts, and word2vec on a corpus
// with known structure. (The real data is used by imdb_tests.)
#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/imdb.hpp"
#include "data/tatoeba.hpp"
#include "train/word2vec.hpp"

using namespace attnlens;
namespace fs = std::filesystem;

namespace {

const std::vector<std::pair<std::string, std::string>> kFiles = {
    {"aclImdb/train/pos/3_9.txt", "Great <br />film"}, {"aclImdb/train/pos/10_7.txt", "Good."},
    {"aclImdb/train/neg/2_1.txt", "Awful"},            {"aclImdb/test/pos/0_10.txt", "Superb"},
    {"aclImdb/test/neg/5_3.txt", "Dull"},              {"aclImdb/train/unsup/7_0.txt", "Unlabelled text"},
    {"aclImdb/train/pos/notes.md", "not a review"},    {"aclImdb/imdb.vocab", "the\na\n"}};

fs::path make_folder() {
  const fs::path root = fs::temp_directory_path() / "attnlens-imdb-folder";
  fs::remove_all(root);
  for (const auto& [path, text] : kFiles) {
    fs::create_directories((root / path).parent_path());
    std::ofstream(root / path, std::ios::binary) << text;
  }
  return root;
}

fs::path make_archive() {
  const fs::path root = fs::temp_directory_path() / "attnlens-imdb-archive";
  fs::remove_all(root);
  fs::create_directories(root / "imdb");
  const fs::path path = root / "imdb" / "aclImdb-labeled.tar.gz";
  archive* writer = archive_write_new();
  archive_write_add_filter_gzip(writer);
  archive_write_set_format_pax_restricted(writer);
  REQUIRE(archive_write_open_filename(writer, path.c_str()) == ARCHIVE_OK);
  for (const auto& [name, text] : kFiles) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(text.size()));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_write_header(writer, entry);
    archive_write_data(writer, text.data(), text.size());
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
  return root;
}

void expect_train_split(const std::vector<Review>& train) {
  REQUIRE(train.size() == 3);  // sorted: positives first, then by id
  CHECK(train[0].id == 3);
  CHECK(train[0].label == 1);
  CHECK(train[0].rating == 9);
  CHECK(train[0].text == "Great <br />film");
  CHECK(train[1].id == 10);
  CHECK(train[2].label == 0);
  CHECK(train[2].text == "Awful");
}

}  // namespace

TEST_CASE("IMDB reader: folder layout", "[data][imdb]") {
  const fs::path root = make_folder();
  expect_train_split(load_imdb(root.string(), "train"));
  const auto test = load_imdb(root.string(), "test");
  REQUIRE(test.size() == 2);
  CHECK(test[0].rating == 10);
  const auto unsup = load_imdb(root.string(), "unsup");
  REQUIRE(unsup.size() == 1);
  CHECK(unsup[0].label == -1);
  CHECK_THROWS_WITH(load_imdb(root.string(), "valid"), Catch::Contains("must be 'train', 'test' or 'unsup'"));
  fs::remove_all(root);
}

TEST_CASE("IMDB reader: reads the .tar.gz archive without unpacking", "[data][imdb]") {
  const fs::path root = make_archive();
  expect_train_split(load_imdb(root.string(), "train"));
  CHECK(load_imdb(root.string(), "test").size() == 2);
  fs::remove_all(root);
}

TEST_CASE("IMDB reader: missing or damaged data says what to do", "[data][imdb]") {
  CHECK_THROWS_WITH(load_imdb("/nonexistent", "train"), Catch::Contains("IMDB data not found under '/nonexistent'") &&
                                                            Catch::Contains("aclImdb_v1.tar.gz"));
  const fs::path root = fs::temp_directory_path() / "attnlens-imdb-damaged";
  fs::create_directories(root / "imdb");
  std::ofstream(root / "imdb" / "aclImdb-labeled.tar.gz", std::ios::binary) << "\x1f\x8b\x08 this is not gzip";
  CHECK_THROWS_AS(load_imdb(root.string(), "train"), Error);
  fs::remove_all(root);
}

TEST_CASE("word2vec puts words that share contexts close together", "[word2vec]") {
  // Two topics: words 2-6 appear together, words 7-11 appear together.
  Rng rng(1);
  std::vector<std::vector<int32_t>> corpus;
  for (int s = 0; s < 3000; ++s) {
    const int32_t base = s % 2 ? 2 : 7;
    std::vector<int32_t> sentence;
    for (int k = 0; k < 12; ++k) sentence.push_back(base + static_cast<int32_t>(rng.below(5)));
    corpus.push_back(sentence);
  }
  Word2VecOptions options;
  options.dim = 8;
  options.epochs = 2;
  options.subsample = 0;
  ParamMatrix vectors = train_word2vec(corpus, 12, options);
  vectors.rowwise().normalize();
  const auto cosine = [&](int a, int b) { return vectors.row(a).dot(vectors.row(b)); };
  double within = 0, across = 0;
  for (int a = 2; a < 7; ++a)
    for (int b = 2; b < 7; ++b)
      if (a != b) { within += cosine(a, b); across += cosine(a, b + 5); }
  CHECK(within / 20 > across / 20 + 0.5);
  // Reproducible for a seed.
  const ParamMatrix again = train_word2vec(corpus, 12, options);
  CHECK(again.bottomRows(10).rowwise().normalized() == vectors.bottomRows(10));
}

TEST_CASE("sentence-pair reader: plain and gzip files, and bad lines named by number", "[data][translation]") {
  const fs::path root = fs::temp_directory_path() / "attnlens-pairs";
  fs::remove_all(root);
  fs::create_directories(root / "eng-fra");
  const std::string text = "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\r\nI am cold.\tJ'ai froid.\n\n";
  std::ofstream(root / "plain.tsv", std::ios::binary) << text;
  const auto plain = load_sentence_pairs((root / "plain.tsv").string());
  REQUIRE(plain.size() == 2);
  CHECK(plain[0].source == "Go.");
  CHECK(plain[0].target == "Va !");  // the attribution column is ignored
  CHECK(plain[1].target == "J'ai froid.");
  {  // the same, gzip-compressed, where locate_eng_fra looks
    archive* writer = archive_write_new();
    archive_write_add_filter_gzip(writer);
    archive_write_set_format_raw(writer);
    REQUIRE(archive_write_open_filename(writer, (root / "eng-fra" / "eng-fra.tsv.gz").c_str()) == ARCHIVE_OK);
    archive_entry* entry = archive_entry_new();
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_write_header(writer, entry);
    archive_write_data(writer, text.data(), text.size());
    archive_entry_free(entry);
    archive_write_close(writer);
    archive_write_free(writer);
  }
  CHECK(locate_eng_fra(root.string()) == (root / "eng-fra" / "eng-fra.tsv.gz").string());
  const auto gz = load_sentence_pairs(locate_eng_fra(root.string()));
  REQUIRE(gz.size() == 2);
  CHECK(gz[1].source == "I am cold.");
  const auto expect_error = [&](const std::string& content, const std::string& message) {
    std::ofstream(root / "bad.tsv", std::ios::binary | std::ios::trunc) << content;
    CHECK_THROWS_WITH(load_sentence_pairs((root / "bad.tsv").string()), Catch::Contains(message));
  };
  expect_error("Go.\tVa !\nno tab here\n", "line 2: expected 'source<TAB>target'");
  expect_error("Go.\t\n", "line 1: empty sentence");
  expect_error("Go.\tVa !\n\nbad \xFF\tmauvais\n", "line 3: not valid UTF-8");
  expect_error("\n\n", "no sentence pairs");
  CHECK_THROWS_WITH(locate_eng_fra((root / "nowhere").string()), Catch::Contains("eng-fra/eng-fra.tsv.gz"));
}
