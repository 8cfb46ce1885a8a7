// Reading line-oriented text files for the data loaders (sentence pairs, labelled texts).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace attnlens {

// What a compressed text file may expand to: at most kMaxExpansion times its compressed size
// plus kExpansionSlack bytes (English text compresses 3–5× with gzip, bzip2 or xz), and never more
// than kMaxTextBytes. A file that expands further is refused before it is decompressed further.
constexpr size_t kMaxExpansion = 16;
constexpr size_t kExpansionSlack = size_t{16} << 20;
constexpr size_t kMaxTextBytes = size_t{2} << 30;

// The text of a file's bytes: decompressed when they start with the gzip, bzip2 or xz magic,
// as they are otherwise. `source` names the file in errors.
std::string decompress_text(const uint8_t* bytes, size_t size, const std::string& source);
// The whole file (up to kMaxTextBytes), decompressed as decompress_text does.
std::string read_maybe_compressed(const std::string& path);
// True when `text` is valid UTF-8 (a literal U+FFFD is fine).
bool valid_utf8(std::string_view text);
// Calls visit(line, 1-based line number) for every line, without its "\n" or "\r\n"; the line
// is a view into `text`.
void for_each_line(std::string_view text, const std::function<void(std::string_view, size_t)>& visit);

}  // namespace attnlens
