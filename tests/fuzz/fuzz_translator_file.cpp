// A translator model file end to end: parse, check, build, translate one sentence (greedy for
// inputs of even length, a beam of 3 for odd, so both decoders see every file shape).
#include "fuzz.hpp"
#include "io/translator_file.hpp"
#include "pipeline/translate.hpp"

using namespace attnlens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accepts([&] {
    TranslatorBundle bundle = load_translator(data, size, "fuzz.safetensors");
    DecodeOptions options;
    options.beam = size % 2 ? 3 : 1;
    const std::string_view text = "I am cold, aren't you? The well-known café.";
    const Translation t = translate_text(bundle, text, options);
    FUZZ_EXPECT(t.target_tokens.size() <= 2 * t.source_tokens.size() + 10);
    if (t.attention.size()) {
      FUZZ_EXPECT(t.attention.rows() == static_cast<Eigen::Index>(t.target_tokens.size()) + 1 ||
                  t.attention.rows() == static_cast<Eigen::Index>(t.target_tokens.size()));
      FUZZ_EXPECT(t.attention.cols() == static_cast<Eigen::Index>(t.source_tokens.size()));
    }
    for (const SourceToken& token : t.source_tokens) FUZZ_EXPECT(token.start < token.end && token.end <= text.size());
  });
  return 0;
}
