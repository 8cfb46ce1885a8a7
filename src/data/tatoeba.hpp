// Reader for tab-separated sentence pairs ("english<TAB>french[<TAB>attribution]" per line),
// plain or gzip-compressed, such as the Tatoeba English–French export in
// ../shared/data/eng-fra/eng-fra.tsv.gz (Tatoeba, tatoeba.org, CC-BY 2.0 FR).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace attnlens {

struct SentencePair {
  std::string source, target;
};

// Finds eng-fra/eng-fra.tsv.gz (or eng-fra.tsv.gz, eng-fra.tsv, eng-fra/eng-fra.tsv) under data_dir;
// throws an Error that says where to put the file when none is found.
std::string locate_eng_fra(const std::string& data_dir);

// Every line must have at least two tab-separated fields, both non-empty and valid UTF-8;
// errors name the file and the line. Empty lines are skipped.
std::vector<SentencePair> load_sentence_pairs(const std::string& path);
// The same for a file's text (decompressed); `path` names it in errors.
std::vector<SentencePair> parse_sentence_pairs(std::string_view file_text, const std::string& path);

}  // namespace attnlens
