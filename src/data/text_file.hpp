// Reading line-oriented text files for the data loaders (sentence pairs, labelled texts).
#pragma once
#include <functional>
#include <string>

namespace attnlens {

// The whole file, decompressed when it is gzip (libarchive's raw format reads plain files too).
std::string read_maybe_compressed(const std::string& path);
// True when `text` is valid UTF-8 (a literal U+FFFD is fine).
bool valid_utf8(const std::string& text);
// Calls visit(line, 1-based line number) for every line, without its "\n" or "\r\n".
void for_each_line(const std::string& text, const std::function<void(const std::string&, size_t)>& visit);

}  // namespace attnlens
