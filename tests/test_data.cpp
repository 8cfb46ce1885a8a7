// The IMDB reader on generated folder and archive layouts, the text-file readers on plain,
// compressed and hostile files, and word2vec on a corpus with known structure. (The real data is
// used by imdb_tests.)
#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/imdb.hpp"
#include "data/labelled.hpp"
#include "data/short_reviews.hpp"
#include "data/tatoeba.hpp"
#include "data/text_file.hpp"
#include "train/word2vec.hpp"
#include "data_helpers.hpp"

using namespace attnlens;
using attnlens::testing::archive_in_memory;
using attnlens::testing::run_with_memory_limit;
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
  const std::vector<uint8_t> bytes = testing::archive_in_memory(kFiles, "gzip");
  std::ofstream(root / "imdb" / "aclImdb-labeled.tar.gz", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
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

namespace {

// A ustar header for one regular file `name` that declares `size` bytes (none follow).
std::vector<uint8_t> tar_header(const std::string& name, uint64_t size) {
  std::vector<uint8_t> block(512, 0);
  const auto put = [&](size_t offset, const std::string& text) { std::copy(text.begin(), text.end(), block.begin() + offset); };
  char field[16];
  put(0, name);
  put(100, "0000644");
  put(108, "0000000");
  put(116, "0000000");
  std::snprintf(field, sizeof field, "%011llo", static_cast<unsigned long long>(size));
  put(124, field);
  put(136, "00000000000");
  block[156] = '0';
  put(257, std::string("ustar\0" "00", 8));
  std::fill(block.begin() + 148, block.begin() + 156, ' ');
  unsigned sum = 0;
  for (uint8_t b : block) sum += b;
  std::snprintf(field, sizeof field, "%06o", sum);
  put(148, std::string(field) + std::string(1, '\0') + " ");
  return block;
}

}  // namespace

TEST_CASE("IMDB reader: archive bytes read as the archive file is, in any compression", "[data][imdb]") {
  const fs::path root = make_archive();
  for (const char* filter : {"none", "gzip", "bzip2", "xz"}) {
    INFO(filter);
    const std::vector<uint8_t> bytes = archive_in_memory(kFiles, filter);
    expect_train_split(load_imdb_archive(bytes.data(), bytes.size(), "reviews.tar", "train"));
    CHECK(load_imdb_archive(bytes.data(), bytes.size(), "reviews.tar", "unsup").size() == 1);
  }
  fs::remove_all(root);
  const std::vector<uint8_t> none = archive_in_memory({{"aclImdb/README", "no reviews"}}, "gzip");
  CHECK_THROWS_WITH(load_imdb_archive(none.data(), none.size(), "x.tar.gz", "test"),
                    Catch::Contains("x.tar.gz: no reviews found for split 'test'"));
  // A review id too long for an int is not a review path (it was std::stoi's out_of_range).
  const std::vector<uint8_t> long_id = archive_in_memory({{"aclImdb/test/pos/99999999999_7.txt", "x"}}, "none");
  CHECK_THROWS_WITH(load_imdb_archive(long_id.data(), long_id.size(), "x.tar", "test"), Catch::Contains("no reviews found"));
}

TEST_CASE("IMDB reader: an archive's entries may declare at most 16 times its size (plus 16 MiB)", "[data][imdb][hostile]") {
  // 1 KB of tar whose one entry claims 1 TB: refused from its header, before anything is read or skipped.
  std::vector<uint8_t> bomb = tar_header("aclImdb/train/pos/1_9.txt", uint64_t{1} << 40);
  bomb.resize(bomb.size() + 1024, 0);
  CHECK_THROWS_WITH(load_imdb_archive(bomb.data(), bomb.size(), "bomb.tar", "train"),
                    Catch::Contains("bomb.tar: entry aclImdb/train/pos/1_9.txt would take the archive past 16 MiB"));
  // Entries that are not reviews count too: skipping them would inflate them.
  std::vector<uint8_t> skipped = tar_header("aclImdb/train/unsup/big.bin", uint64_t{1} << 30);
  skipped.resize(skipped.size() + 1024, 0);
  CHECK_THROWS_WITH(load_imdb_archive(skipped.data(), skipped.size(), "skip.tar", "train"),
                    Catch::Contains("skip.tar: entry aclImdb/train/unsup/big.bin would take the archive past"));
  // 64 MiB of zeros in 64 KiB of gzip (a ratio of 1,000): refused at the entry that passes 17 MiB.
  std::vector<std::pair<std::string, std::string>> zeros;
  for (int i = 0; i < 64; ++i) zeros.push_back({"aclImdb/train/neg/" + std::to_string(i) + "_1.txt", std::string(1 << 20, ' ')});
  const std::vector<uint8_t> inflating = archive_in_memory(zeros, "gzip");
  CHECK(inflating.size() < (200u << 10));
  CHECK_THROWS_WITH(load_imdb_archive(inflating.data(), inflating.size(), "zeros.tar.gz", "train"),
                    Catch::Contains("would take the archive past 18 MiB") || Catch::Contains("would take the archive past 17 MiB"));
}

TEST_CASE("text files: plain, gzip, bzip2 and xz, and one that expands past 16 times its size is refused", "[data][hostile]") {
  const std::string text = "A fine film.\t1\nDull.\t0\n";
  for (const char* filter : {"gzip", "bzip2", "xz"}) {
    const std::vector<uint8_t> bytes = archive_in_memory({{"", text}}, filter);
    CHECK(decompress_text(bytes.data(), bytes.size(), filter) == text);
    CHECK(parse_labelled_texts(decompress_text(bytes.data(), bytes.size(), filter), filter).size() == 2);
  }
  CHECK(decompress_text(reinterpret_cast<const uint8_t*>(text.data()), text.size(), "plain") == text);
  // 64 MiB of one letter is about 64 KiB of gzip: refused once it passes 16 × that + 16 MiB.
  const std::vector<uint8_t> bomb = archive_in_memory({{"", std::string(64u << 20, 'a')}}, "gzip");
  CHECK(bomb.size() < (1u << 20));
  CHECK_THROWS_WITH(decompress_text(bomb.data(), bomb.size(), "bomb.tsv.gz"),
                    Catch::Contains("bomb.tsv.gz: expands to more than") && Catch::Contains("not a text file"));
  const std::string damaged = "\x1f\x8b\x08 this is not gzip";
  CHECK_THROWS_WITH(decompress_text(reinterpret_cast<const uint8_t*>(damaged.data()), damaged.size(), "d.gz"),
                    Catch::Contains("d.gz: damaged"));
}

TEST_CASE("labelled texts: a long line or a million columns costs at most twice the file", "[data][hostile]") {
  const fs::path root = fs::temp_directory_path() / "attnlens-labelled-hostile";
  fs::create_directories(root);
  const size_t size = 64u << 20;
  const auto file = [&](const std::string& name, const std::string& content) {
    std::ofstream(root / name, std::ios::binary | std::ios::trunc) << content;
    return (root / name).string();
  };
  // One 64 MiB text with a label, and one without: read within 2 × 64 MiB + 32 MiB more address space.
  std::string long_line(size, 'w');
  long_line += "\t1\nshort\t0\n";
  const std::string ok = file("long.tsv", long_line);
  CHECK(run_with_memory_limit(2 * size + (32u << 20), [&] { check(load_labelled_texts(ok).size() == 2, "two texts"); }) == "ok");
  long_line.assign(size, 'w');
  const std::string no_label = file("nolabel.tsv", long_line);
  CHECK_THAT(run_with_memory_limit(2 * size + (32u << 20), [&] { load_labelled_texts(no_label); }),
             Catch::Contains("line 1: expected two tab-separated columns"));
  std::string columns = "text";
  for (int i = 0; i < 1000000; ++i) columns += "\tx";
  const std::string wide = file("wide.tsv", columns);
  CHECK_THROWS_WITH(load_labelled_texts(wide), Catch::Contains("wide.tsv line 1: more than two tab-separated columns"));
  fs::remove_all(root);
}

// The short-review check (issue 18): one sentence per strongly rated review, cut by a plain rule.
TEST_CASE("short reviews: the last sentence of 4 to 30 words of each review rated 1, 2, 9 or 10", "[data][short-reviews]") {
  CHECK(review_sentences("Great film. I loved it!! Really?<br /><br />10/10 \"Go see it.\" Rated 3.5 stars...") ==
        std::vector<std::string>{"Great film.", "I loved it!!", "Really?", "10/10 \"Go see it.\"", "Rated 3.5 stars..."});
  CHECK(review_sentences("  ").empty());
  CHECK(review_sentences("no end mark at all") == std::vector<std::string>{"no end mark at all"});
  CHECK(review_sentences("(It works.) Then<br/>more<br>and more") ==
        std::vector<std::string>{"(It works.)", "Then", "more", "and more"});

  const std::string long_sentence = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                                    "sixteen seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four "
                                    "twenty-five twenty-six twenty-seven twenty-eight twenty-nine thirty thirty-one.";
  const std::vector<Review> reviews = {
      {"Boring from start to end. Avoid.", 0, 1, 10},                               // "Avoid." has 1 word: the one before
      {"The plot was weak. But the acting made it worth watching!", 1, 7, 11},      // rated 7: left out
      {"A masterpiece of quiet cinema. See it twice.<br />Truly.", 1, 10, 12},      // "Truly." too short
      {"Too short. " + long_sentence, 1, 9, 13},                                     // 31 words, and 2: none fits
      {"I expected nothing and got even less than that.", 0, 2, 14},
  };
  const std::vector<Review> short_ones = short_reviews(reviews);
  REQUIRE(short_ones.size() == 3);
  CHECK(short_ones[0].text == "Boring from start to end.");
  CHECK(short_ones[0].label == 0);
  CHECK(short_ones[1].text == "A masterpiece of quiet cinema.");
  CHECK((short_ones[1].label == 1 && short_ones[1].rating == 10 && short_ones[1].id == 12));
  CHECK(short_ones[2].text == "I expected nothing and got even less than that.");
}
