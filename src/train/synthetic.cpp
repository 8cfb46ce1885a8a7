#include "train/synthetic.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"

namespace attnlens {

namespace {

constexpr int kSyllables = 14 * 5;                // consonant + vowel
constexpr int kMaxFillers = kSyllables * kSyllables;  // two-syllable words

// Filler word k: two consonant–vowel syllables, k spread over all of them by a bijection
// (1237 is coprime with 4,900), so small pools still look varied. Never a cue word or "not".
std::string filler(int k) {
  static const char consonants[] = "bdfgklmnprstvz";
  static const char vowels[] = "aeiou";
  const int word = static_cast<int>((static_cast<int64_t>(k) * 1237) % kMaxFillers);
  std::string out;
  for (int syllable : {word / kSyllables, word % kSyllables}) {
    out += consonants[syllable / 5];
    out += vowels[syllable % 5];
  }
  return out;
}

}  // namespace

const std::vector<std::string>& cue_words(bool positive) {
  static const std::vector<std::string> pos = {"good", "great", "superb", "wonderful", "excellent"};
  static const std::vector<std::string> neg = {"bad", "awful", "terrible", "dull", "poor"};
  return positive ? pos : neg;
}

std::vector<CueText> make_cue_task(const CueTaskOptions& options) {
  check(options.count >= 1 && options.count <= 1000000, "cue task: count must be between 1 and 1,000,000");
  check(options.length >= 2 && options.length <= 10000, "cue task: length must be between 2 and 10,000 words");
  check(options.fillers >= 1 && options.fillers <= kMaxFillers,
        "cue task: fillers must be between 1 and " + std::to_string(kMaxFillers));
  check(options.negation >= 0 && options.negation <= 1, "cue task: negation must be a probability");
  std::vector<std::string> pool;
  for (int k = 0; k < options.fillers; ++k) pool.push_back(filler(k));
  Rng rng(options.seed);
  std::vector<CueText> texts(static_cast<size_t>(options.count));
  for (size_t i = 0; i < texts.size(); ++i) {
    CueText& t = texts[i];
    t.label = i % 2 == 0 ? 1.f : 0.f;
    t.negated = rng.uniform() < options.negation;
    const bool positive_cue = (t.label == 1.f) != t.negated;
    const auto& cues = cue_words(positive_cue);
    const std::string& cue = cues[rng.below(cues.size())];
    const int first = t.negated ? 1 : 0;  // "not" needs a word before the cue
    t.cue = first + static_cast<int>(rng.below(static_cast<uint64_t>(options.length - first)));
    for (int w = 0; w < options.length; ++w) {
      if (w) t.text += ' ';
      if (w == t.cue) t.text += cue;
      else if (t.negated && w == t.cue - 1) t.text += "not";
      else t.text += pool[rng.below(pool.size())];
    }
  }
  return texts;
}

}  // namespace attnlens
