#include "data/imdb.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>

#include "core/error.hpp"
#include "data/text_file.hpp"

namespace fs = std::filesystem;

namespace attnlens {

std::string default_data_directory() {
  const char* env = std::getenv("ATTNLENS_DATA");
  return env && *env ? env : "../shared/data";
}

std::string locate_imdb(const std::string& data_dir) {
  const fs::path root(data_dir);
  for (const fs::path& folder : {root / "aclImdb", root / "imdb" / "aclImdb", root})
    if (fs::is_directory(folder / "test" / "pos") && fs::is_directory(folder / "train" / "neg")) return folder.string();
  for (const fs::path& archive : {root / "imdb" / "aclImdb-labeled.tar.gz", root / "aclImdb-labeled.tar.gz",
                                  root / "imdb" / "aclImdb_v1.tar.gz", root / "aclImdb_v1.tar.gz"})
    if (fs::is_regular_file(archive)) return archive.string();
  throw Error("IMDB data not found under '" + data_dir +
              "'. Expected aclImdb/{train,test}/{pos,neg}/ or imdb/aclImdb-labeled.tar.gz there. "
              "Get aclImdb_v1.tar.gz (Maas et al. 2011, ai.stanford.edu/~amaas/data/sentiment/), put it in that "
              "folder (or ../shared/data/imdb/), or pass --data DIR / set ATTNLENS_DATA.");
}

std::string locate_imdb_unlabelled(const std::string& data_dir) {
  const fs::path root(data_dir);
  for (const fs::path& folder : {root / "aclImdb", root / "imdb" / "aclImdb", root})
    if (fs::is_directory(folder / "train" / "unsup")) return folder.string();
  for (const fs::path& archive : {root / "imdb" / "aclImdb-unsup.tar.gz", root / "aclImdb-unsup.tar.gz",
                                  root / "imdb" / "aclImdb_v1.tar.gz", root / "aclImdb_v1.tar.gz"})
    if (fs::is_regular_file(archive)) return archive.string();
  throw Error("unlabelled IMDB reviews not found under '" + data_dir +
              "'. Expected aclImdb/train/unsup/ or imdb/aclImdb-unsup.tar.gz there (both come with aclImdb_v1.tar.gz).");
}

namespace {

std::string archive_message(archive* reader) {
  const char* message = archive_error_string(reader);
  return message ? message : "unknown error";
}

// Parses ".../<train|test>/<pos|neg|unsup>/<id>_<rating>.txt" for the given split
// ("unsup" means train/unsup); returns false for any other path.
bool parse_review_path(const std::string& path, const std::string& split, Review& review) {
  static const std::regex pattern(R"((?:^|/)(train|test)/(pos|neg|unsup)/(\d{1,9})_(\d{1,9})\.txt$)");
  std::smatch m;
  if (!std::regex_search(path, m, pattern)) return false;
  const bool unlabelled = m[2] == "unsup";
  if (split == "unsup" ? !(unlabelled && m[1] == "train") : (unlabelled || m[1] != split)) return false;
  review.label = unlabelled ? -1 : m[2] == "pos" ? 1 : 0;
  review.id = std::stoi(m[3]);
  review.rating = std::stoi(m[4]);
  return true;
}

// Reads the reviews of `split` from an opened archive. The archive's entries may together declare
// at most kMaxExpansion times its compressed size (plus kExpansionSlack), checked from each entry's
// header before it is read or skipped, so no archive makes this allocate or inflate without end.
void read_archive(archive* reader, uint64_t compressed_size, const std::string& source, const std::string& split,
                  std::vector<Review>& reviews) {
  const uint64_t limit = std::min<uint64_t>(kMaxTextBytes, compressed_size * kMaxExpansion + kExpansionSlack);
  uint64_t declared = 0;
  archive_entry* entry;
  int status;
  while ((status = archive_read_next_header(reader, &entry)) == ARCHIVE_OK) {
    const char* name = archive_entry_pathname(entry);
    const std::string where = source + ": entry " + (name ? name : "without a name");
    const la_int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    check(size >= 0 && static_cast<uint64_t>(size) <= limit - declared,
          where + " would take the archive past " + std::to_string(limit >> 20) + " MiB (" + std::to_string(kMaxExpansion) +
              " times its compressed size, plus 16 MiB)");
    declared += static_cast<uint64_t>(size);
    Review review;
    if (!name || archive_entry_filetype(entry) != AE_IFREG || !parse_review_path(name, split, review)) continue;
    check(size < (64 << 20), where + " has an implausible size");
    review.text.resize(static_cast<size_t>(size));
    const la_ssize_t got = archive_read_data(reader, review.text.data(), review.text.size());
    check(got == size, where + " is truncated");
    reviews.push_back(std::move(review));
  }
  check(status == ARCHIVE_EOF, source + ": archive is damaged (" + archive_message(reader) + ")");
}

// A reader for tar archives, plain or compressed with gzip, bzip2 or xz, in process (libarchive's
// "all" filters would also start external programs for input that claims their formats).
std::unique_ptr<archive, decltype(&archive_read_free)> tar_reader() {
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  check(reader != nullptr, "out of memory");
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_filter_bzip2(reader.get());
  archive_read_support_filter_xz(reader.get());
  archive_read_support_format_tar(reader.get());
  return reader;
}

void read_archive_file(const std::string& path, const std::string& split, std::vector<Review>& reviews) {
  auto reader = tar_reader();
  check(archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) == ARCHIVE_OK,
        path + ": cannot open archive (" + archive_message(reader.get()) + ")");
  read_archive(reader.get(), fs::file_size(path), path, split, reviews);
}

void read_folder(const std::string& root, const std::string& split, std::vector<Review>& reviews) {
  const std::vector<std::string> folders =
      split == "unsup" ? std::vector<std::string>{"train/unsup"} : std::vector<std::string>{split + "/pos", split + "/neg"};
  for (const std::string& sub : folders) {
    const fs::path folder = fs::path(root) / sub;
    check(fs::is_directory(folder), folder.string() + ": folder is missing");
    for (const auto& file : fs::directory_iterator(folder)) {
      Review review;
      if (!file.is_regular_file() || !parse_review_path(file.path().generic_string(), split, review)) continue;
      std::ifstream in(file.path(), std::ios::binary);
      review.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      reviews.push_back(std::move(review));
    }
  }
}

void check_split(const std::string& split) {
  check(split == "train" || split == "test" || split == "unsup",
        "IMDB split must be 'train', 'test' or 'unsup', got '" + split + "'");
}

// Positives first, then by id (unique within a label in the real data), then by text: one order for any input.
std::vector<Review> sorted_reviews(std::vector<Review> reviews, const std::string& location, const std::string& split) {
  check(!reviews.empty(), location + ": no reviews found for split '" + split + "'");
  std::sort(reviews.begin(), reviews.end(), [](const Review& a, const Review& b) {
    return a.label != b.label ? a.label > b.label : a.id != b.id ? a.id < b.id : a.text < b.text;
  });
  return reviews;
}

}  // namespace

std::vector<Review> load_imdb(const std::string& data_dir, const std::string& split) {
  check_split(split);
  const std::string location = split == "unsup" ? locate_imdb_unlabelled(data_dir) : locate_imdb(data_dir);
  std::vector<Review> reviews;
  if (fs::is_directory(location)) read_folder(location, split, reviews);
  else read_archive_file(location, split, reviews);
  return sorted_reviews(std::move(reviews), location, split);
}

std::vector<Review> load_imdb_archive(const uint8_t* bytes, size_t size, const std::string& source, const std::string& split) {
  check_split(split);
  std::vector<Review> reviews;
  auto reader = tar_reader();
  check(archive_read_open_memory(reader.get(), bytes, size) == ARCHIVE_OK,
        source + ": cannot open archive (" + archive_message(reader.get()) + ")");
  read_archive(reader.get(), size, source, split, reviews);
  return sorted_reviews(std::move(reviews), source, split);
}

}  // namespace attnlens
