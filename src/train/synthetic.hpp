// The cue-word task of the Train view: why attention helps, in a form small enough to
// learn in a browser tab. Each text is `length` filler words (pronounceable nonsense such
// as "kobu", from a pool of `fillers`) with one sentiment cue word at a uniformly random
// place — "good", "superb"… (positive) or "bad", "dull"… (negative) — sometimes negated
// by a "not" just before it ("not good" is negative). The label is the cue's sentiment,
// flipped by "not", so a model must find one word among hundreds, wherever it is: a
// recurrent model's last state has to carry it to the end, attention can look straight at it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace attnlens {

struct CueTaskOptions {
  int count = 2000;         // texts
  int length = 200;         // words per text, cue (and "not") included; 2 … 10,000
  int fillers = 100;        // distinct filler words; 1 … 4,900
  double negation = 0.25;   // probability that the cue is negated
  uint64_t seed = 1;
};

struct CueText {
  std::string text;
  float label = 0;     // 1: positive
  int cue = 0;         // word index of the cue
  bool negated = false;  // the word before the cue is "not"
};

// Labels alternate positive/negative, so the classes are balanced; the same options give the same texts.
std::vector<CueText> make_cue_task(const CueTaskOptions& options);

// The cue words: positive first, then negative.
const std::vector<std::string>& cue_words(bool positive);

}  // namespace attnlens
