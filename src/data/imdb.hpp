// Reader for the Large Movie Review Dataset (Maas et al. 2011) in its standard layout
//   aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt
// either unpacked in a folder or still inside its .tar.gz archive (read with libarchive,
// no unpacking needed).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnlens {

struct Review {
  std::string text;
  int label = 0;   // 1 positive, 0 negative, -1 unlabelled
  int rating = 0;  // 1-4 negative, 7-10 positive
  int id = 0;
};

// Default data directory: $ATTNLENS_DATA, else ../shared/data (relative to the working directory).
std::string default_data_directory();

// Finds the IMDB data under `data_dir`: aclImdb/ or imdb/aclImdb/ folders, or the
// archives imdb/aclImdb-labeled.tar.gz, aclImdb-labeled.tar.gz, aclImdb_v1.tar.gz.
// Throws an Error that says where to put the data when none is found.
std::string locate_imdb(const std::string& data_dir);

// Finds the 50,000 unlabelled reviews: aclImdb/train/unsup/ folders, or the archives
// imdb/aclImdb-unsup.tar.gz, aclImdb-unsup.tar.gz, aclImdb_v1.tar.gz.
std::string locate_imdb_unlabelled(const std::string& data_dir);

// Loads split "train" or "test" (labelled reviews), or "unsup" (the unlabelled reviews of
// train/unsup), sorted by (label, id) so the order never depends on the file system or archive.
std::vector<Review> load_imdb(const std::string& data_dir, const std::string& split);

// The reviews of `split` in a tar archive's bytes (plain, gzip, bzip2 or xz), as load_imdb reads
// an archive; `source` names it in errors.
std::vector<Review> load_imdb_archive(const uint8_t* bytes, size_t size, const std::string& source, const std::string& split);

}  // namespace attnlens
