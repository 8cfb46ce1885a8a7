// The labelled-text reader (text<TAB>label lines; plain, gzip, bzip2 or xz bytes).
#include "data/labelled.hpp"
#include "data/text_file.hpp"
#include "fuzz.hpp"

using namespace attnlens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accepts([&] {
    const std::string text = decompress_text(data, size, "fuzz.tsv");
    const std::vector<LabelledText> texts = parse_labelled_texts(text, "fuzz.tsv");
    bool positive = false, negative = false;
    for (const LabelledText& t : texts) {
      FUZZ_EXPECT(!t.text.empty() && valid_utf8(t.text) && t.text.find('\t') == std::string::npos &&
                  t.text.find('\n') == std::string::npos);
      FUZZ_EXPECT(t.label == 0.f || t.label == 1.f);
      (t.label == 1.f ? positive : negative) = true;
    }
    FUZZ_EXPECT(positive && negative);
  });
  return 0;
}
