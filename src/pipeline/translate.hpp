// Translating text with a TranslatorBundle: tokenise, map to ids (marking unknown words),
// decode (greedy or beam search), join the target tokens into text, and keep the
// attention matrix aligned with the tokens — what the CLI and the page show.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "io/translator_file.hpp"
#include "models/decoding.hpp"

namespace attnlens {

struct SourceToken {
  std::string text;  // normalised form
  size_t start = 0, end = 0;  // byte offsets in the input
  bool oov = false;           // not in the source vocabulary (read as <unk>)
};

struct Translation {
  std::string translation;                 // detokenised target text
  std::vector<SourceToken> source_tokens;
  std::vector<std::string> target_tokens;  // without </s>
  Matrix attention;                        // [target tokens, source tokens]; empty when the model has no attention
  double log_probability = 0, score = 0;
  bool truncated = false;                  // the input had more than kMaxSourceTokens tokens
};

constexpr size_t kMaxSourceTokens = 200;

Translation translate_text(TranslatorBundle& bundle, std::string_view text, const DecodeOptions& options);

}  // namespace attnlens
