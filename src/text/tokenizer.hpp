// Word-level tokenizer for English reviews, with byte offsets into the original text.
//
// Rules (the defaults; see TokenizerOptions for the French ones): lower-case (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic); HTML line
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
  // French: an elided article or pronoun is its own token ("l'homme" -> "l'" "homme",
  // "qu'il" -> "qu'" "il"); other inner apostrophes ("aujourd'hui") stay inside the word.
  bool split_elisions = false;
  // A hyphen between word characters starts a new token ("dis-moi" -> "dis" "-moi"),
  // so clitic pronouns and compounds share their parts' vocabulary entries.
  bool split_hyphens = false;
};

// French options: everything above, elisions and hyphens split.
TokenizerOptions french_tokenizer_options();

// Joins tokens back into text: no space after an elision ("l'"), none before a hyphen
// token ("-moi") or . , ) and none after (; `french_spacing` puts a space before ? ! : ;
// as French typography does. The first letter is capitalised when `capitalize` is set.
std::string detokenize(const std::vector<std::string>& tokens, bool french_spacing, bool capitalize);

std::vector<Token> tokenize(std::string_view text, const TokenizerOptions& options = {});

// UTF-8 helpers shared with the bindings (offset conversion to UTF-16).
// Decodes one code point at text[pos]; sets `length` to the bytes consumed (≥ 1).
// Invalid or truncated sequences decode to U+FFFD with length 1.
char32_t decode_utf8(std::string_view text, size_t pos, size_t& length);
void append_utf8(std::string& out, char32_t code_point);

}  // namespace attnlens
