#include "data/tatoeba.hpp"

#include <archive.h>

#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "text/tokenizer.hpp"

namespace fs = std::filesystem;

namespace attnlens {

std::string locate_eng_fra(const std::string& data_dir) {
  const fs::path root(data_dir);
  for (const fs::path& file : {root / "eng-fra" / "eng-fra.tsv.gz", root / "eng-fra.tsv.gz", root / "eng-fra" / "eng-fra.tsv",
                               root / "eng-fra.tsv"})
    if (fs::is_regular_file(file)) return file.string();
  throw Error("English-French pairs not found under '" + data_dir +
              "'. Expected eng-fra/eng-fra.tsv.gz there: lines 'english<TAB>french' from the Tatoeba project "
              "(tatoeba.org, CC-BY 2.0 FR). Put the file in that folder (or ../shared/data/eng-fra/), or pass --data DIR / "
              "set ATTNLENS_DATA.");
}

namespace {

// The whole file, decompressed when it is gzip (libarchive's raw format reads plain files too).
std::string read_maybe_compressed(const std::string& path) {
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_raw(reader.get());
  check(archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) == ARCHIVE_OK, path + ": cannot open");
  archive_entry* entry;
  check(archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK, path + ": cannot read");
  std::string text;
  char buffer[1 << 16];
  la_ssize_t got;
  while ((got = archive_read_data(reader.get(), buffer, sizeof buffer)) > 0) {
    text.append(buffer, static_cast<size_t>(got));
    check(text.size() < (size_t{1} << 31), path + ": larger than 2 GiB");
  }
  const char* message = archive_error_string(reader.get());
  check(got == 0, path + ": damaged (" + std::string(message ? message : "read error") + ")");
  return text;
}

bool valid_utf8(const std::string& text) {
  for (size_t pos = 0; pos < text.size();) {
    size_t length;
    if (decode_utf8(text, pos, length) == 0xFFFD && !(text.compare(pos, 3, "\xEF\xBF\xBD") == 0)) return false;
    pos += length;
  }
  return true;
}

}  // namespace

std::vector<SentencePair> load_sentence_pairs(const std::string& path) {
  const std::string text = read_maybe_compressed(path);
  std::vector<SentencePair> pairs;
  size_t line_number = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string where = path + " line " + std::to_string(line_number);
    const size_t tab = line.find('\t');
    check(tab != std::string::npos, where + ": expected 'source<TAB>target'");
    const size_t tab2 = line.find('\t', tab + 1);
    SentencePair pair{line.substr(0, tab), line.substr(tab + 1, tab2 == std::string::npos ? std::string::npos : tab2 - tab - 1)};
    check(!pair.source.empty() && !pair.target.empty(), where + ": empty sentence");
    check(valid_utf8(line), where + ": not valid UTF-8");
    pairs.push_back(std::move(pair));
  }
  check(!pairs.empty(), path + ": no sentence pairs");
  return pairs;
}

}  // namespace attnlens
