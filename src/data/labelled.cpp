#include "data/labelled.hpp"

#include <cctype>
#include <filesystem>

#include "core/error.hpp"
#include "data/text_file.hpp"

namespace attnlens {

std::optional<float> parse_label(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() > 8) return std::nullopt;
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "1" || lower == "pos" || lower == "positive" || lower == "true") return 1.f;
  if (lower == "0" || lower == "neg" || lower == "negative" || lower == "false") return 0.f;
  return std::nullopt;
}

std::vector<LabelledText> load_labelled_texts(const std::string& path) {
  check(std::filesystem::is_regular_file(path), path + ": no such file");
  check(std::filesystem::file_size(path) > 0, path + ": the file is empty");
  return parse_labelled_texts(read_maybe_compressed(path), path);
}

std::vector<LabelledText> parse_labelled_texts(std::string_view file_text, const std::string& path) {
  std::vector<LabelledText> data;
  bool first = true;
  for_each_line(file_text, [&](std::string_view line, size_t line_number) {
    if (line.empty()) return;
    const bool header_allowed = first;
    first = false;
    const std::string where = path + " line " + std::to_string(line_number);
    check(valid_utf8(line), where + ": not valid UTF-8 (save the file as UTF-8)");
    const size_t tab = line.find('\t');
    check(tab != std::string::npos, where + ": expected two tab-separated columns, text and label");
    check(line.find('\t', tab + 1) == std::string::npos,
          where + ": more than two tab-separated columns (expected text<TAB>label)");
    const std::string_view text = line.substr(0, tab), label = line.substr(tab + 1);
    const std::optional<float> value = parse_label(label);
    if (!value && header_allowed) {
      std::string lower(label);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "label") return;  // a header
    }
    if (!value && parse_label(text))
      throw Error(where + ": the label comes first; expected text<TAB>label");
    check(value.has_value(), where + ": unknown label '" + std::string(label.substr(0, 40)) +
                                 "' (use 1/0, pos/neg, positive/negative or true/false)");
    check(text.find_first_not_of(" \t\r") != std::string::npos, where + ": empty text");
    data.push_back({std::string(text), *value});
  });
  check(!data.empty(), path + ": no labelled texts");
  size_t positives = 0;
  for (const auto& d : data) positives += d.label == 1.f;
  check(positives > 0 && positives < data.size(), path + ": all " + std::to_string(data.size()) + " texts are labelled " +
                                                      (positives ? "positive" : "negative") + "; both labels are needed");
  return data;
}

}  // namespace attnlens
