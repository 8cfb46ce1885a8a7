// The safetensors container (https://github.com/huggingface/safetensors):
//   8 bytes: little-endian u64 N = header length
//   N bytes: JSON object {"__metadata__": {str: str}, name: {dtype, shape, data_offsets: [begin, end]}, ...}
//   rest:    tensor data; offsets are relative to the start of this block.
//
// The parser trusts nothing: every length is checked against the bytes present, the
// JSON must be well-formed with no duplicate names, each tensor's byte range must match
// its dtype and shape, lie inside the data block and not overlap another, and the data
// block must be covered exactly. Every error names the source and the tensor or field.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace attnlens::safetensors {

// 16 MiB: room for the largest vocabulary a config allows (2^20 words, about 14 bytes each as
// JSON inside JSON). Reading a header costs up to about four times its longest string while
// nlohmann's lexer holds it, so this limit is also what bounds that cost.
constexpr uint64_t kMaxHeaderBytes = 16ull << 20;
// At most 65,536 JSON values in the header: a model of several thousand tensors (about 8 values
// each) fits, and the header's tree stays within its strings plus about 6.5 MB.
constexpr size_t kMaxHeaderValues = size_t{1} << 16;

// How a model's weights are stored. Tensors of one dimension (biases, norms) always stay F32.
//   float32  F32
//   float16  F16 (IEEE half; values beyond ±65,504 cannot be stored)
//   int8     I8 with symmetric per-row scales: tensor "<name>.scale", F32 [rows], and
//            value = int8 × scale[row], where a row is the first dimension (an embedding row,
//            a gate's output unit) and scale = max |row| / 127. A tensor whose rows hold one value
//            each has one scale for the whole tensor instead ("<name>.scale", F32 [1]: a scale per
//            value would make it larger than float32) when it has at least kOneScaleRows rows (an
//            n-gram table, [features, 1]); with fewer it stays F32.
enum class WeightStorage { Float32, Float16, Int8 };
constexpr const char* kScaleSuffix = ".scale";
constexpr int64_t kOneScaleRows = 1024;
std::string storage_name(WeightStorage storage);
WeightStorage storage_from_name(const std::string& name);  // throws on an unknown name

struct TensorInfo {
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offsets into the data block
  uint64_t end = 0;
  int64_t element_count() const;
};

class File {
 public:
  // Parses and validates `size` bytes. The File reads its tensors from `bytes` without copying
  // them: the bytes must outlive it.
  static File parse(const uint8_t* bytes, size_t size, const std::string& source);

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  // Copies a parameter into `out` after checking its dtype (F32, F16, or I8 with its scales),
  // shape, and that every value is finite.
  void read_parameter(const std::string& name, const std::vector<int64_t>& expected_shape, ParamMatrix& out) const;
  // A byte tensor (U8, one dimension; see ByteTensor): a view of its bytes, inside the caller's.
  // Throws when it is missing or of another dtype or shape.
  std::pair<const uint8_t*, size_t> read_bytes(const std::string& name) const;
  // True for "<x>.scale" when tensor <x> is I8: the scales read_parameter reads with it.
  bool is_scale_tensor(const std::string& name) const;
  // The weight values the file's tensors hold, scales left out: what a model built from the file
  // may allocate (core/tensor.hpp: ParameterBudget).
  int64_t weight_values() const;
  // int8 when any tensor is I8, else float16 when any is F16, else float32.
  WeightStorage storage() const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, TensorInfo> tensors_;
  const uint8_t* data_ = nullptr;  // the data block, inside the caller's bytes
};

// Bytes that are not weights (a model's compact n-gram list, io/model_file.hpp), stored as a U8
// tensor of one dimension after the weights.
struct ByteTensor {
  std::string name;
  std::vector<uint8_t> bytes;
};

// Serialises tensors (in the given order, stored as `storage` says), byte tensors and string
// metadata to safetensors bytes.
std::vector<uint8_t> serialize(const std::vector<const Parameter*>& tensors,
                               const std::map<std::string, std::string>& metadata,
                               WeightStorage storage = WeightStorage::Float32, const std::vector<ByteTensor>& bytes = {});

// Writes to PATH.tmp-XXXX, flushes, then renames over PATH: an interrupted save never
// leaves a half-written file at PATH.
void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);

std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace attnlens::safetensors
