// The tokenizer on arbitrary bytes, with the options the first byte picks: every token is
// non-empty valid UTF-8, its offsets lie inside the text and in order, and nothing throws.
#include "data/text_file.hpp"
#include "fuzz.hpp"
#include "text/tokenizer.hpp"

using namespace attnlens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  TokenizerOptions options;
  options.lowercase = data[0] & 1;
  options.strip_html_breaks = data[0] & 2;
  options.split_elisions = data[0] & 4;
  options.split_hyphens = data[0] & 8;
  const std::string_view text = fuzz::text_of(data + 1, size - 1);
  size_t previous_end = 0;
  std::vector<std::string> words;
  for (const Token& token : tokenize(text, options)) {
    FUZZ_EXPECT(!token.text.empty() && valid_utf8(token.text));
    FUZZ_EXPECT(token.start >= previous_end && token.start < token.end && token.end <= text.size());
    previous_end = token.end;
    words.push_back(token.text);
  }
  // Decoding walks forward one whole code point (or one bad byte) at a time.
  for (size_t pos = 0, length = 0; pos < text.size(); pos += length) {
    const char32_t c = decode_utf8(text, pos, length);
    FUZZ_EXPECT(length >= 1 && length <= 4 && pos + length <= text.size() && c <= 0x10FFFF);
  }
  FUZZ_EXPECT(valid_utf8(detokenize(words, data[0] & 16, data[0] & 32)));
  return 0;
}
