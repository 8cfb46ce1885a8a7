// Reader for labelled texts, one "text<TAB>label" per line (plain or gzip), such as
// `attnlens cue-task` writes and `attnlens train --train-file` reads. Labels are the words
// parse_label() knows (1/0, pos/neg, positive/negative, true/false); a first line whose label
// column reads "label" is a header. Empty lines are skipped.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attnlens {

struct LabelledText {
  std::string text;
  float label = 0;  // 1: positive class
};

// "1"/"0", "pos"/"neg", "positive"/"negative", "true"/"false" (any case, surrounding spaces
// ignored) → 1 or 0; anything else → nullopt. The page's file reader accepts the same words.
std::optional<float> parse_label(std::string_view text);

// Errors name the file and the line: wrong column count, empty text, unknown label,
// invalid UTF-8, an empty file.
std::vector<LabelledText> load_labelled_texts(const std::string& path);
// The same for a file's text (decompressed); `path` names it in errors.
std::vector<LabelledText> parse_labelled_texts(std::string_view file_text, const std::string& path);

}  // namespace attnlens
