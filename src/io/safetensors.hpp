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

constexpr uint64_t kMaxHeaderBytes = 64ull << 20;  // 64 MiB: far above any real header

struct TensorInfo {
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offsets into the data block
  uint64_t end = 0;
  int64_t element_count() const;
};

class File {
 public:
  // Parses and validates `size` bytes; keeps a copy of the data block.
  static File parse(const uint8_t* bytes, size_t size, const std::string& source);
  static File read(const std::string& path);

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  // Copies an F32 tensor into `out` after checking dtype, shape and that every value is finite.
  void read_f32(const std::string& name, const std::vector<int64_t>& expected_shape, ParamMatrix& out) const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, TensorInfo> tensors_;
  std::vector<uint8_t> data_;
};

struct NamedTensor {
  const Parameter* parameter;  // written as F32 with parameter->shape
};

// Serialises tensors (F32, in the given order) and string metadata to safetensors bytes.
std::vector<uint8_t> serialize(const std::vector<const Parameter*>& tensors,
                               const std::map<std::string, std::string>& metadata);

// Writes to PATH.tmp-XXXX, flushes, then renames over PATH: an interrupted save never
// leaves a half-written file at PATH.
void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);

std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace attnlens::safetensors
