// The sentence-pair reader (source<TAB>target[<TAB>attribution] lines; plain or compressed).
#include "data/tatoeba.hpp"
#include "data/text_file.hpp"
#include "fuzz.hpp"

using namespace attnlens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accepts([&] {
    const std::string text = decompress_text(data, size, "fuzz.tsv");
    const std::vector<SentencePair> pairs = parse_sentence_pairs(text, "fuzz.tsv");
    FUZZ_EXPECT(!pairs.empty());
    for (const SentencePair& p : pairs) {
      FUZZ_EXPECT(!p.source.empty() && !p.target.empty() && valid_utf8(p.source) && valid_utf8(p.target));
      FUZZ_EXPECT(p.source.find('\t') == std::string::npos && p.target.find('\t') == std::string::npos);
    }
  });
  return 0;
}
