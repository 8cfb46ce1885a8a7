#include "text/tokenizer.hpp"

namespace attnlens {

char32_t decode_utf8(std::string_view text, size_t pos, size_t& length) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  length = 1;
  if (lead < 0x80) return lead;
  size_t extra;
  char32_t cp, min;
  if ((lead & 0xE0) == 0xC0) { extra = 1; cp = lead & 0x1F; min = 0x80; }
  else if ((lead & 0xF0) == 0xE0) { extra = 2; cp = lead & 0x0F; min = 0x800; }
  else if ((lead & 0xF8) == 0xF0) { extra = 3; cp = lead & 0x07; min = 0x10000; }
  else return 0xFFFD;
  if (pos + extra >= text.size()) return 0xFFFD;  // truncated at the end of the text
  for (size_t k = 1; k <= extra; ++k) {
    if ((byte(pos + k) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (byte(pos + k) & 0x3F);
  }
  // Overlong forms, surrogates and out-of-range values are invalid.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0xFFFD;
  length = extra + 1;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {

enum class Kind { Space, Punct, Word };

Kind character_kind(char32_t cp) {
  if (cp < 0x80) {
    if (cp <= 0x20 || cp == 0x7F) return Kind::Space;
    if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return Kind::Word;
    return Kind::Punct;
  }
  if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 || cp == 0x2029 ||
      cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF || (cp >= 0x80 && cp < 0xA0))
    return Kind::Space;
  if ((cp >= 0xA1 && cp <= 0xBF && cp != 0xAA && cp != 0xB5 && cp != 0xBA) || cp == 0xD7 || cp == 0xF7 ||
      (cp >= 0x2010 && cp <= 0x2027) || (cp >= 0x2030 && cp <= 0x205E) || (cp >= 0x20A0 && cp <= 0x20CF) ||
      (cp >= 0x2100 && cp <= 0x2BFF) || (cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3008 && cp <= 0x3011) ||
      (cp >= 0xFE10 && cp <= 0xFE6F) || (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0x1F000 && cp <= 0x1FAFF) ||
      cp == 0xFE0F || cp == 0x200D)
    return Kind::Punct;
  return Kind::Word;
}

char32_t to_lower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0xC0) return cp;
  if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) return cp + 32;                     // Latin-1
  if (cp >= 0x100 && cp <= 0x137 && cp % 2 == 0) return cp + 1;                       // Latin Extended-A
  if (cp >= 0x139 && cp <= 0x148 && cp % 2 == 1) return cp + 1;
  if (cp >= 0x14A && cp <= 0x177 && cp % 2 == 0) return cp + 1;
  if (cp == 0x178) return 0xFF;
  if (cp >= 0x179 && cp <= 0x17E && cp % 2 == 1) return cp + 1;
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;                      // Greek
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;                                     // Cyrillic
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

bool is_apostrophe(char32_t cp) { return cp == '\'' || cp == 0x2019; }

// French words that elide their final vowel before a vowel: l'homme, j'ai, qu'il, jusqu'ici.
// `word` ends with the apostrophe; matching ignores case only when the tokenizer lower-cases.
bool is_elided_word(const std::string& word) {
  static const char* const kElided[] = {"l'", "j'", "d'", "m'", "n'", "s'", "t'", "c'", "qu'", "jusqu'", "lorsqu'",
                                        "puisqu'", "quoiqu'", "presqu'", "L'", "J'", "D'", "M'", "N'", "S'", "T'",
                                        "C'", "Qu'", "QU'", "Jusqu'", "Lorsqu'", "Puisqu'", "Quoiqu'", "Presqu'"};
  for (const char* elided : kElided)
    if (word == elided) return true;
  return false;
}

// Length of an HTML line break starting at pos (<br>, <br/>, <br />, any case), else 0.
size_t html_break_length(std::string_view text, size_t pos) {
  if (text.size() - pos < 4 || text[pos] != '<') return 0;
  if ((text[pos + 1] | 0x20) != 'b' || (text[pos + 2] | 0x20) != 'r') return 0;
  size_t i = pos + 3;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && text[i] == '/') ++i;
  if (i < text.size() && text[i] == '>') return i + 1 - pos;
  return 0;
}

}  // namespace

std::vector<Token> tokenize(std::string_view text, const TokenizerOptions& options) {
  std::vector<Token> tokens;
  Token current;
  bool in_word = false;
  size_t pos = 0;
  const auto finish_word = [&]() {
    if (in_word) tokens.push_back(std::move(current));
    current = Token{};
    in_word = false;
  };
  size_t length_after_hyphen = 0;
  while (pos < text.size()) {
    if (options.strip_html_breaks) {
      if (const size_t skip = html_break_length(text, pos)) {
        finish_word();
        pos += skip;
        continue;
      }
    }
    size_t length;
    const char32_t cp = decode_utf8(text, pos, length);
    const Kind kind = character_kind(cp);
    if (kind == Kind::Word) {
      if (!in_word) { current.start = pos; in_word = true; }
      append_utf8(current.text, options.lowercase ? to_lower(cp) : cp);
      current.end = pos + length;
    } else if (is_apostrophe(cp) && in_word && pos + length < text.size()) {
      size_t next_length;
      const char32_t next = decode_utf8(text, pos + length, next_length);
      if (character_kind(next) == Kind::Word) {  // inner apostrophe: part of the word, written as '
        current.text += '\'';
        current.end = pos + length;
        if (options.split_elisions && is_elided_word(current.text)) finish_word();  // "l'" + "homme"
      } else {
        finish_word();
        tokens.push_back(Token{"'", pos, pos + length});
      }
    } else if (options.split_hyphens && cp == '-' && in_word && pos + length < text.size() &&
               character_kind(decode_utf8(text, pos + length, length_after_hyphen)) == Kind::Word) {
      finish_word();  // "laisse-moi" -> "laisse" "-moi": the hyphen starts the next word
      current.start = pos;
      current.text = "-";
      current.end = pos + length;
      in_word = true;
    } else {
      finish_word();
      if (kind == Kind::Punct) {
        Token punct{std::string(), pos, pos + length};
        append_utf8(punct.text, is_apostrophe(cp) ? U'\'' : cp);
        tokens.push_back(std::move(punct));
      }
    }
    pos += length;
  }
  finish_word();
  return tokens;
}

TokenizerOptions french_tokenizer_options() {
  TokenizerOptions options;
  options.split_elisions = true;
  options.split_hyphens = true;
  return options;
}

std::string detokenize(const std::vector<std::string>& tokens, bool french_spacing, bool capitalize) {
  std::string out;
  bool glue_next = true;  // no space before the first token
  for (const std::string& token : tokens) {
    if (token.empty()) continue;
    const bool closing = token == "." || token == "," || token == ")" || token == "..." || token == "%" ||
                         (!french_spacing && (token == "?" || token == "!" || token == ":" || token == ";")) ||
                         (token.size() > 1 && token[0] == '-');
    if (!glue_next && !closing) out += ' ';
    out += token;
    glue_next = token.back() == '\'' || token == "(";
  }
  if (capitalize && !out.empty()) {
    size_t length;
    const char32_t first = decode_utf8(out, 0, length);
    char32_t upper = first;
    if (first >= 'a' && first <= 'z') upper = first - 32;
    else if (first >= 0xE0 && first <= 0xFE && first != 0xF7) upper = first - 32;
    if (upper != first) {
      std::string head;
      append_utf8(head, upper);
      out.replace(0, length, head);
    }
  }
  return out;
}

}  // namespace attnlens
