#include "data/text_file.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>

#include "core/error.hpp"
#include "text/tokenizer.hpp"

namespace attnlens {

namespace {

bool starts_with(const uint8_t* bytes, size_t size, const char* magic, size_t length) {
  return size >= length && std::memcmp(bytes, magic, length) == 0;
}

enum class Compression { None, Gzip, Bzip2, Xz };

Compression compression_of(const uint8_t* bytes, size_t size) {
  if (starts_with(bytes, size, "\x1f\x8b", 2)) return Compression::Gzip;
  if (starts_with(bytes, size, "BZh", 3)) return Compression::Bzip2;
  if (starts_with(bytes, size, "\xfd" "7zXZ\0", 6)) return Compression::Xz;
  return Compression::None;
}

}  // namespace

std::string decompress_text(const uint8_t* bytes, size_t size, const std::string& source) {
  const Compression compression = compression_of(bytes, size);
  if (compression == Compression::None) {
    check(size <= kMaxTextBytes, source + ": larger than 2 GiB");
    return std::string(reinterpret_cast<const char*>(bytes), size);
  }
  // Only the filter the magic names, in process: libarchive's "all" filters would also start
  // external programs (lrzip, lzop, grzip) for input that claims their formats.
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  check(reader != nullptr, source + ": out of memory");
  if (compression == Compression::Gzip) archive_read_support_filter_gzip(reader.get());
  if (compression == Compression::Bzip2) archive_read_support_filter_bzip2(reader.get());
  if (compression == Compression::Xz) archive_read_support_filter_xz(reader.get());
  archive_read_support_format_raw(reader.get());
  const auto message = [&] {
    const char* m = archive_error_string(reader.get());
    return std::string(m ? m : "read error");
  };
  check(archive_read_open_memory(reader.get(), bytes, size) == ARCHIVE_OK, source + ": cannot open (" + message() + ")");
  archive_entry* entry;
  check(archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK, source + ": damaged (" + message() + ")");
  // A header libarchive's filter does not take leaves the bytes to the raw reader as they are.
  check(archive_filter_code(reader.get(), 0) != ARCHIVE_FILTER_NONE,
        source + ": damaged (it starts as a compressed file does, but is not one)");
  const size_t limit = std::min(kMaxTextBytes, size * kMaxExpansion + kExpansionSlack);
  std::string text;
  text.reserve(std::min(limit, size * 4));
  char buffer[1 << 16];
  la_ssize_t got;
  while ((got = archive_read_data(reader.get(), buffer, sizeof buffer)) > 0) {
    check(text.size() + static_cast<size_t>(got) <= limit,
          source + ": expands to more than " + std::to_string(limit >> 20) + " MiB (" + std::to_string(kMaxExpansion) +
              " times its " + std::to_string(size) + " compressed bytes, plus 16 MiB); not a text file");
    text.append(buffer, static_cast<size_t>(got));
  }
  check(got == 0, source + ": damaged (" + message() + ")");
  return text;
}

std::string read_maybe_compressed(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  check(in.good(), path + ": cannot open");
  const std::streamoff length = in.tellg();
  check(length >= 0, path + ": cannot read");
  check(static_cast<uint64_t>(length) <= kMaxTextBytes, path + ": larger than 2 GiB");
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(0);
  in.read(bytes.data(), length);
  check(in.gcount() == length, path + ": cannot read");
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (compression_of(data, bytes.size()) == Compression::None) return bytes;  // plain text: no second copy
  return decompress_text(data, bytes.size(), path);
}

bool valid_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    size_t length;
    if (decode_utf8(text, pos, length) == 0xFFFD && text.compare(pos, 3, "\xEF\xBF\xBD") != 0) return false;
    pos += length;
  }
  return true;
}

void for_each_line(std::string_view text, const std::function<void(std::string_view, size_t)>& visit) {
  size_t line_number = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    visit(line, ++line_number);
  }
}

}  // namespace attnlens
