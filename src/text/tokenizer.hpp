// Word-level tokenizer for English reviews, with byte offsets into the original text.
//
// Rules: lower-case (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic); HTML line
// breaks (<br>, <br/>, <br />, any case) are spaces; letters, digits and any other
// non-punctuation character form words; an apostrophe (' or ’) between two word
// characters stays inside the word ("don't"); each punctuation or symbol character
// (including emoji) is its own token. Any byte string is accepted: an invalid UTF-8
// byte is read as U+FFFD (a word character), and a multi-byte character is never split.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attnlens {

struct Token {
  std::string text;  // normalised (lower-cased) form, valid UTF-8
  size_t start = 0;  // byte offset of the first byte in the original text
  size_t end = 0;    // byte offset one past the last byte
};

struct TokenizerOptions {
  bool lowercase = true;
  bool strip_html_breaks = true;
};

std::vector<Token> tokenize(std::string_view text, const TokenizerOptions& options = {});

// UTF-8 helpers shared with the bindings (offset conversion to UTF-16).
// Decodes one code point at text[pos]; sets `length` to the bytes consumed (≥ 1).
// Invalid or truncated sequences decode to U+FFFD with length 1.
char32_t decode_utf8(std::string_view text, size_t pos, size_t& length);
void append_utf8(std::string& out, char32_t code_point);

}  // namespace attnlens
