#include "data/text_file.hpp"

#include <archive.h>

#include <memory>

#include "core/error.hpp"
#include "text/tokenizer.hpp"

namespace attnlens {

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

void for_each_line(const std::string& text, const std::function<void(const std::string&, size_t)>& visit) {
  size_t line_number = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    visit(line, ++line_number);
  }
}

}  // namespace attnlens
