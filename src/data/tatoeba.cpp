#include "data/tatoeba.hpp"

#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "data/text_file.hpp"
#include "text/tokenizer.hpp"

namespace fs = std::filesystem;

namespace attnlens {

std::string locate_eng_fra(const std::string& data_dir) {
  const fs::path root(data_dir);
  for (const fs::path& file : {root / "eng-fra" / "eng-fra.tsv.gz", root / "eng-fra.tsv.gz", root / "eng-fra" / "eng-fra.tsv",
                               root / "eng-fra.tsv"})
    if (fs::is_regular_file(file)) return file.string();
  throw Error("English-French pairs not found under '" + data_dir +
              "'. Expected eng-fra/eng-fra.tsv.gz there: lines 'english<TAB>french' from the Tatoeba project "
              "(tatoeba.org, CC-BY 2.0 FR). Put the file in that folder (or ../shared/data/eng-fra/), or pass --data DIR / "
              "set ATTNLENS_DATA.");
}

std::vector<SentencePair> load_sentence_pairs(const std::string& path) {
  return parse_sentence_pairs(read_maybe_compressed(path), path);
}

std::vector<SentencePair> parse_sentence_pairs(std::string_view file_text, const std::string& path) {
  std::vector<SentencePair> pairs;
  for_each_line(file_text, [&](std::string_view line, size_t line_number) {
    if (line.empty()) return;
    const std::string where = path + " line " + std::to_string(line_number);
    const size_t tab = line.find('\t');
    check(tab != std::string_view::npos, where + ": expected 'source<TAB>target'");
    const size_t tab2 = line.find('\t', tab + 1);
    SentencePair pair{std::string(line.substr(0, tab)),
                      std::string(line.substr(tab + 1, tab2 == std::string_view::npos ? std::string_view::npos : tab2 - tab - 1))};
    check(!pair.source.empty() && !pair.target.empty(), where + ": empty sentence");
    check(valid_utf8(line), where + ": not valid UTF-8");
    pairs.push_back(std::move(pair));
  });
  check(!pairs.empty(), path + ": no sentence pairs");
  return pairs;
}

}  // namespace attnlens
