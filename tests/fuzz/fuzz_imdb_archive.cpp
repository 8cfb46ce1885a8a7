// The IMDB reader on archive bytes (tar, plain or compressed), for each split.
#include "data/imdb.hpp"
#include "fuzz.hpp"

using namespace attnlens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const char* split : {"train", "test", "unsup"})
    fuzz::accepts([&] {
      const std::vector<Review> reviews = load_imdb_archive(data, size, "fuzz.tar.gz", split);
      FUZZ_EXPECT(!reviews.empty());
      for (size_t i = 0; i < reviews.size(); ++i) {
        FUZZ_EXPECT(std::string(split) == "unsup" ? reviews[i].label == -1 : reviews[i].label == 0 || reviews[i].label == 1);
        FUZZ_EXPECT(reviews[i].id >= 0 && reviews[i].rating >= 0);
        if (i) FUZZ_EXPECT(reviews[i - 1].label >= reviews[i].label);
      }
    });
  return 0;
}
