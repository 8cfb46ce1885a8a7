// The short-review check (issue 18): a visitor types a sentence, not a 230-word review, so models
// are also measured on single sentences. From each review rated 1–2 or 9–10 stars (the clearly
// negative and clearly positive ones), its last sentence of 4 to 30 words — often the verdict —
// labelled by its review. Sentences are cut by a plain rule, not a parser: after a run of '.',
// '!' or '?' (and any closing quotes or brackets) followed by white space or the end, and at
// "<br />" line breaks; "Mr. Smith" is cut in two, which only costs a candidate sentence.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "data/imdb.hpp"

namespace attnlens {

constexpr int kShortReviewMinWords = 4, kShortReviewMaxWords = 30;

// The review's sentences in order, trimmed, empty ones left out.
std::vector<std::string> review_sentences(std::string_view text);

// One short review for each review rated 1, 2, 9 or 10 that has a sentence of 4 to 30 words
// (white-space separated): its last such sentence, with the review's label, rating and id.
std::vector<Review> short_reviews(const std::vector<Review>& reviews);

// The rule above in one line, for help texts and results.
inline std::string short_review_rule() {
  return "the last sentence of " + std::to_string(kShortReviewMinWords) + " to " + std::to_string(kShortReviewMaxWords) +
         " words of each review rated 1, 2, 9 or 10 (none when it has no such sentence), labelled by its review";
}

}  // namespace attnlens
