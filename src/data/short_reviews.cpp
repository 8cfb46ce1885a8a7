#include "data/short_reviews.hpp"

namespace attnlens {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void add_trimmed(std::string_view piece, std::vector<std::string>& out) {
  size_t begin = 0, end = piece.size();
  while (begin < end && is_space(piece[begin])) ++begin;
  while (end > begin && is_space(piece[end - 1])) --end;
  if (end > begin) out.emplace_back(piece.substr(begin, end - begin));
}

int words_in(std::string_view sentence) {
  int words = 0;
  bool in_word = false;
  for (char c : sentence) {
    if (is_space(c)) in_word = false;
    else if (!in_word) in_word = true, ++words;
  }
  return words;
}

}  // namespace

std::vector<std::string> review_sentences(std::string_view text) {
  std::vector<std::string> sentences;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    if (text.compare(i, 6, "<br />") == 0 || text.compare(i, 5, "<br/>") == 0 || text.compare(i, 4, "<br>") == 0) {
      add_trimmed(text.substr(start, i - start), sentences);
      i += text.compare(i, 6, "<br />") == 0 ? 6 : text.compare(i, 5, "<br/>") == 0 ? 5 : 4;
      start = i;
      continue;
    }
    const char c = text[i];
    if (c == '.' || c == '!' || c == '?') {
      size_t end = i;
      while (end < text.size() && (text[end] == '.' || text[end] == '!' || text[end] == '?')) ++end;
      while (end < text.size() && (text[end] == '"' || text[end] == '\'' || text[end] == ')' || text[end] == ']')) ++end;
      if (end == text.size() || is_space(text[end])) {
        add_trimmed(text.substr(start, end - start), sentences);
        start = end;
      }
      i = end;
      continue;
    }
    ++i;
  }
  add_trimmed(text.substr(start), sentences);
  return sentences;
}

std::vector<Review> short_reviews(const std::vector<Review>& reviews) {
  std::vector<Review> out;
  for (const Review& r : reviews) {
    if (!(r.rating == 1 || r.rating == 2 || r.rating == 9 || r.rating == 10)) continue;
    const std::vector<std::string> sentences = review_sentences(r.text);
    for (size_t k = sentences.size(); k-- > 0;) {
      const int words = words_in(sentences[k]);
      if (words >= kShortReviewMinWords && words <= kShortReviewMaxWords) {
        out.push_back({sentences[k], r.label, r.rating, r.id});
        break;
      }
    }
  }
  return out;
}

}  // namespace attnlens
