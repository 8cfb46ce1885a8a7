#include "pipeline/translate.hpp"

#include "text/encoding.hpp"

namespace attnlens {

Translation translate_text(TranslatorBundle& bundle, std::string_view text, const DecodeOptions& options) {
  Translation result;
  std::vector<Token> tokens = tokenize(text, bundle.source_tokenizer);
  if (tokens.size() > kMaxSourceTokens) {
    tokens.resize(kMaxSourceTokens);
    result.truncated = true;
  }
  if (tokens.empty()) return result;  // nothing to translate
  const std::vector<int32_t> ids = encode(tokens, bundle.source_vocabulary);
  for (size_t i = 0; i < tokens.size(); ++i)
    result.source_tokens.push_back({std::move(tokens[i].text), tokens[i].start, tokens[i].end, ids[i] == Vocabulary::kUnk});
  const Hypothesis h = options.beam == 1 ? greedy_decode(*bundle.model, {ids}, options.max_length).front()
                                         : beam_search(*bundle.model, ids, options);
  for (int32_t id : h.tokens) result.target_tokens.emplace_back(bundle.target_vocabulary.word(id));
  result.attention = h.attention;
  result.log_probability = h.log_probability;
  result.score = h.score;
  result.translation = detokenize(result.target_tokens, bundle.target_language == "fr", true);
  return result;
}

}  // namespace attnlens
