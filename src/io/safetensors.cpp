#include "io/safetensors.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <unistd.h>

#include "core/error.hpp"
#include "io/json_text.hpp"

namespace attnlens::safetensors {

using nlohmann::json;

namespace {

size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

bool host_is_little_endian() {
  const uint16_t probe = 1;
  uint8_t first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

}  // namespace

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t TensorInfo::element_count() const {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  return count;
}

File File::parse(const uint8_t* bytes, size_t size, const std::string& source) {
  check(host_is_little_endian(), "safetensors: big-endian hosts are not supported");
  const std::string where = source + ": ";
  check(bytes != nullptr || size == 0, where + "no data");
  check(size >= 8, where + "file is " + std::to_string(size) + " bytes, too short to hold the 8-byte header length");
  const uint64_t header_length = read_u64_le(bytes);
  check(header_length <= kMaxHeaderBytes, where + "header length " + std::to_string(header_length) +
                                              " exceeds the limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
  check(header_length <= size - 8, where + "header length " + std::to_string(header_length) + " is larger than the " +
                                       std::to_string(size - 8) + " bytes that follow it (truncated file?)");
  check(header_length >= 2, where + "header length " + std::to_string(header_length) + " is too small for a JSON object");

  // The header, duplicate keys refused (io/json_text.hpp).
  const char* header_begin = reinterpret_cast<const char*>(bytes + 8);
  json header = parse_json(header_begin, header_begin + header_length, where + "header", kMaxHeaderValues);
  check(header.is_object(), where + "header must be a JSON object, found " + header.type_name());

  File file;
  file.source_ = source;
  const uint64_t data_size = size - 8 - header_length;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      check(entry.is_object(), where + "__metadata__ must be an object of strings");
      for (auto& [key, value] : entry.items()) {
        check(value.is_string(), where + "__metadata__." + key + " must be a string, found " + value.type_name());
        file.metadata_[key] = std::move(value.get_ref<std::string&>());  // the vocabulary is most of the header
      }
      continue;
    }
    const std::string tensor = where + "tensor '" + name + "': ";
    check(!name.empty(), where + "a tensor has an empty name");
    check(entry.is_object(), tensor + "entry must be an object");
    check(entry.contains("dtype") && entry["dtype"].is_string(), tensor + "missing string field 'dtype'");
    check(entry.contains("shape") && entry["shape"].is_array(), tensor + "missing array field 'shape'");
    check(entry.contains("data_offsets") && entry["data_offsets"].is_array() && entry["data_offsets"].size() == 2,
          tensor + "missing field 'data_offsets' [begin, end]");
    TensorInfo info;
    info.dtype = entry["dtype"].get<std::string>();
    const size_t element_size = dtype_size(info.dtype);
    check(element_size > 0, tensor + "unknown dtype '" + info.dtype + "'");
    check(entry["shape"].size() <= 8, tensor + "has " + std::to_string(entry["shape"].size()) + " dimensions (at most 8)");
    for (const auto& dim : entry["shape"]) {
      check(dim.is_number_unsigned() || (dim.is_number_integer() && dim.get<int64_t>() >= 0),
            tensor + "shape entries must be non-negative integers");
      const uint64_t d = dim.get<uint64_t>();
      check(d <= static_cast<uint64_t>(INT64_MAX), tensor + "shape entry " + std::to_string(d) + " is too large");
      info.shape.push_back(static_cast<int64_t>(d));
    }
    uint64_t elements = 1;
    for (const int64_t d : info.shape)
      check(!__builtin_mul_overflow(elements, static_cast<uint64_t>(d), &elements),
            tensor + "shape " + shape_string(info.shape) + " overflows");
    for (const auto& offset : entry["data_offsets"])
      check(offset.is_number_unsigned() || (offset.is_number_integer() && offset.get<int64_t>() >= 0),
            tensor + "data_offsets must be non-negative integers");
    info.begin = entry["data_offsets"][0].get<uint64_t>();
    info.end = entry["data_offsets"][1].get<uint64_t>();
    check(info.begin <= info.end, tensor + "data_offsets begin " + std::to_string(info.begin) + " > end " + std::to_string(info.end));
    check(info.end <= data_size, tensor + "data_offsets end " + std::to_string(info.end) + " is past the " +
                                     std::to_string(data_size) + "-byte data block");
    check(elements <= data_size / element_size && info.end - info.begin == elements * element_size,
          tensor + "data_offsets span " + std::to_string(info.end - info.begin) + " bytes but " + info.dtype + " " +
              shape_string(info.shape) + " needs " + std::to_string(elements * element_size));
    file.tensors_.emplace(name, std::move(info));
  }
  // Byte ranges: no overlaps, no holes, the whole data block accounted for.
  std::vector<std::pair<const std::string*, const TensorInfo*>> ranges;
  for (const auto& [name, info] : file.tensors_) ranges.emplace_back(&name, &info);
  std::sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) {
    return a.second->begin != b.second->begin ? a.second->begin < b.second->begin : a.second->end < b.second->end;
  });
  uint64_t covered = 0;
  const std::string* previous = nullptr;
  for (const auto& [name, info] : ranges) {
    check(info->begin >= covered, where + "tensor '" + *name + "' overlaps tensor '" + (previous ? *previous : "") + "'");
    check(info->begin == covered, where + "unused bytes before tensor '" + *name + "' (offset " + std::to_string(covered) +
                                      " to " + std::to_string(info->begin) + ")");
    covered = info->end;
    previous = name;
  }
  check(covered == data_size, where + std::to_string(data_size - covered) + " unused bytes after the last tensor");
  file.data_ = bytes + 8 + header_length;  // the caller's bytes, not a copy (they outlive the File)
  return file;
}

std::string storage_name(WeightStorage storage) {
  switch (storage) {
    case WeightStorage::Float16: return "float16";
    case WeightStorage::Int8: return "int8";
    default: return "float32";
  }
}

WeightStorage storage_from_name(const std::string& name) {
  if (name == "float32") return WeightStorage::Float32;
  if (name == "float16") return WeightStorage::Float16;
  if (name == "int8") return WeightStorage::Int8;
  throw Error("unknown weight storage '" + name + "' (float32, float16 or int8)");
}

bool File::is_scale_tensor(const std::string& name) const {
  const size_t suffix = std::char_traits<char>::length(kScaleSuffix);
  if (name.size() <= suffix || name.compare(name.size() - suffix, suffix, kScaleSuffix) != 0) return false;
  const auto partner = tensors_.find(name.substr(0, name.size() - suffix));
  return partner != tensors_.end() && partner->second.dtype == "I8";
}

std::pair<const uint8_t*, size_t> File::read_bytes(const std::string& name) const {
  const auto it = tensors_.find(name);
  check(it != tensors_.end(), source_ + ": tensor '" + name + "' is missing");
  check(it->second.dtype == "U8" && it->second.shape.size() == 1,
        source_ + ": tensor '" + name + "' must be U8 of one dimension (bytes)");
  return {data_ + it->second.begin, static_cast<size_t>(it->second.end - it->second.begin)};
}

int64_t File::weight_values() const {
  int64_t values = 0;  // each tensor's count fits its bytes, so the sum fits the file
  for (const auto& [name, info] : tensors_)
    if (!is_scale_tensor(name)) values += info.element_count();
  return values;
}

WeightStorage File::storage() const {
  WeightStorage storage = WeightStorage::Float32;
  for (const auto& [name, info] : tensors_) {
    if (info.dtype == "I8") return WeightStorage::Int8;
    if (info.dtype == "F16") storage = WeightStorage::Float16;
  }
  return storage;
}

void File::read_parameter(const std::string& name, const std::vector<int64_t>& expected_shape, ParamMatrix& out) const {
  const auto it = tensors_.find(name);
  check(it != tensors_.end(), source_ + ": tensor '" + name + "' is missing");
  const TensorInfo& info = it->second;
  const std::string where = source_ + ": tensor '" + name + "'";
  check(info.dtype == "F32" || info.dtype == "F16" || info.dtype == "I8",
        where + " has dtype " + info.dtype + ", expected F32, F16 or I8");
  check(info.shape == expected_shape, where + " has shape " + shape_string(info.shape) + ", expected " +
                                          shape_string(expected_shape));
  const int64_t count = info.element_count();
  check(out.size() == count, where + " does not fit its parameter");
  const uint8_t* src = data_ + info.begin;
  std::vector<float> scales;
  int64_t columns = 1;
  if (info.dtype == "I8") {
    check(info.shape.size() >= 2, where + " is I8 but has one dimension (vectors are stored as F32)");
    for (size_t d = 1; d < info.shape.size(); ++d) columns *= info.shape[d];
    const std::string scale_name = name + kScaleSuffix;
    const auto scale = tensors_.find(scale_name);
    check(scale != tensors_.end(), where + " is I8 but its scales '" + scale_name + "' are missing");
    // One value per row and enough rows: one scale for the tensor (the writer's rule, above).
    const bool one_scale = columns == 1 && info.shape[0] >= kOneScaleRows;
    const int64_t scale_count = one_scale ? 1 : info.shape[0];
    check(scale->second.dtype == "F32" && scale->second.shape == std::vector<int64_t>{scale_count},
          source_ + ": tensor '" + scale_name + "' must be F32 of shape [" + std::to_string(scale_count) + "]");
    scales.resize(static_cast<size_t>(scale_count));
    std::memcpy(scales.data(), data_ + scale->second.begin, 4 * scales.size());
    if (one_scale) columns = info.shape[0];  // the loop below: one "row" of every value
    for (size_t r = 0; r < scales.size(); ++r)
      check_with(std::isfinite(scales[r]) && scales[r] >= 0, [&] {
        return source_ + ": tensor '" + scale_name + "' holds an invalid scale (" + std::to_string(scales[r]) + ") at row " +
               std::to_string(r);
      });
  }
  // One tight loop per storage type, each noting whether any value is not finite (an exponent of
  // all ones; an int8 row times a huge scale can overflow too): millions of weights load in
  // milliseconds, and the slow search for the culprit runs only when there is one.
  Scalar* dst = out.data();
  const auto exponent_all_ones = [](float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    return static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  };
  uint32_t not_finite = 0;
  if (info.dtype == "F32") {
    for (int64_t i = 0; i < count; ++i) {
      float value;
      std::memcpy(&value, src + 4 * i, 4);
      not_finite |= exponent_all_ones(value);
      dst[i] = static_cast<Scalar>(value);
    }
  } else if (info.dtype == "F16") {
    for (int64_t i = 0; i < count; ++i) {
      uint16_t bits;
      std::memcpy(&bits, src + 2 * i, 2);
      const float value = static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(bits));
      not_finite |= exponent_all_ones(value);
      dst[i] = static_cast<Scalar>(value);
    }
  } else {
    const int8_t* quantized = reinterpret_cast<const int8_t*>(src);
    for (size_t r = 0; r < scales.size(); ++r) {
      const float step = scales[r];
      const int64_t begin = static_cast<int64_t>(r) * columns;
      for (int64_t c = 0; c < columns; ++c) {
        const float value = static_cast<float>(quantized[begin + c]) * step;
        not_finite |= exponent_all_ones(value);
        dst[begin + c] = static_cast<Scalar>(value);
      }
    }
  }
  if (not_finite != 0) {
    int64_t i = 0;
    while (i < count && std::isfinite(static_cast<float>(dst[i]))) ++i;
    throw Error(where + " holds a non-finite value (" + std::to_string(static_cast<float>(dst[i])) + ") at element " +
                std::to_string(i));
  }
}

std::vector<uint8_t> serialize(const std::vector<const Parameter*>& tensors,
                               const std::map<std::string, std::string>& metadata, WeightStorage storage,
                               const std::vector<ByteTensor>& byte_tensors) {
  // Each tensor's bytes, encoded first, then laid out after the header.
  struct Encoded {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<Encoded> encoded;
  std::set<std::string> names;
  for (const Parameter* p : tensors) {
    check(names.insert(p->name).second, "safetensors: duplicate tensor name '" + p->name + "'");
    const Eigen::Index n = p->value.size();
    // Vectors, and under int8 small tensors of one value per row (whose scales would cost more
    // than the values they scale), stay F32; large ones get one scale for the whole tensor.
    const bool one_value_per_row = p->shape.size() >= 2 && p->value.cols() == 1;
    const bool one_scale = one_value_per_row && p->value.rows() >= kOneScaleRows;
    const WeightStorage kind =
        p->shape.size() < 2 || (storage == WeightStorage::Int8 && one_value_per_row && !one_scale) ? WeightStorage::Float32
                                                                                                  : storage;
    Encoded e{p->name, "F32", p->shape, {}};
    if (kind == WeightStorage::Float32) {
      e.bytes.resize(static_cast<size_t>(n) * 4);
      for (Eigen::Index i = 0; i < n; ++i) {
        const float value = static_cast<float>(p->value.data()[i]);
        std::memcpy(e.bytes.data() + 4 * i, &value, 4);
      }
    } else if (kind == WeightStorage::Float16) {
      e.dtype = "F16";
      e.bytes.resize(static_cast<size_t>(n) * 2);
      for (Eigen::Index i = 0; i < n; ++i) {
        const float value = static_cast<float>(p->value.data()[i]);
        if (!(std::abs(value) <= 65504.f))  // (per value: the message only on failure)
          throw Error("safetensors: tensor '" + p->name + "' holds " + std::to_string(value) + ", beyond float16's range");
        const uint16_t bits = Eigen::numext::bit_cast<uint16_t>(Eigen::half(value));
        std::memcpy(e.bytes.data() + 2 * i, &bits, 2);
      }
    } else {
      e.dtype = "I8";
      // Quantised in "rows" of `columns` values, each with its scale: the tensor's rows, or one
      // row of every value when the tensor has one scale.
      const Eigen::Index rows = one_scale ? 1 : p->value.rows(), columns = one_scale ? n : p->value.cols();
      const Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> values(
          p->value.data(), rows, columns);  // ParamMatrix is row-major (core/tensor.hpp)
      Parameter scale(p->name + kScaleSuffix, {rows});
      e.bytes.resize(static_cast<size_t>(n));
      for (Eigen::Index r = 0; r < rows; ++r) {
        const float largest = static_cast<float>(values.row(r).cwiseAbs().maxCoeff());
        const float step = largest / 127.f;
        scale.value(r, 0) = static_cast<Scalar>(step);
        for (Eigen::Index c = 0; c < columns; ++c) {
          const float q = step > 0 ? std::nearbyint(static_cast<float>(values(r, c)) / step) : 0.f;
          e.bytes[static_cast<size_t>(r * columns + c)] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -127.f, 127.f)));
        }
      }
      check(names.insert(scale.name).second, "safetensors: duplicate tensor name '" + scale.name + "'");
      encoded.push_back(std::move(e));
      Encoded s{scale.name, "F32", scale.shape, std::vector<uint8_t>(static_cast<size_t>(rows) * 4)};
      for (Eigen::Index r = 0; r < rows; ++r) {
        const float value = static_cast<float>(scale.value(r, 0));
        std::memcpy(s.bytes.data() + 4 * r, &value, 4);
      }
      encoded.push_back(std::move(s));
      continue;
    }
    encoded.push_back(std::move(e));
  }
  for (const ByteTensor& b : byte_tensors) {
    check(names.insert(b.name).second, "safetensors: duplicate tensor name '" + b.name + "'");
    encoded.push_back({b.name, "U8", {static_cast<int64_t>(b.bytes.size())}, b.bytes});
  }
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const Encoded& e : encoded) {
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
    offset += e.bytes.size();
  }
  std::string text = header.dump();
  check(text.size() <= kMaxHeaderBytes, "safetensors: the header would take " + std::to_string(text.size()) +
                                            " bytes, more than the " + std::to_string(kMaxHeaderBytes) +
                                            " a loader accepts (a smaller vocabulary fits)");
  while ((8 + text.size()) % 8 != 0) text += ' ';  // align the data block to 8 bytes, as the spec allows
  std::vector<uint8_t> out(8 + text.size() + offset);
  const uint64_t length = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(length >> (8 * i));
  std::memcpy(out.data() + 8, text.data(), text.size());
  uint8_t* dst = out.data() + 8 + text.size();
  for (const Encoded& e : encoded) {
    if (!e.bytes.empty()) std::memcpy(dst, e.bytes.data(), e.bytes.size());
    dst += e.bytes.size();
  }
  return out;
}

void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  FILE* f = std::fopen(temporary.c_str(), "wb");
  check(f != nullptr, temporary + ": cannot open for writing");
  const bool written = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool flushed = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!(written && flushed && closed)) {
    std::remove(temporary.c_str());
    throw Error(temporary + ": write failed (disk full?); " + path + " was left untouched");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw Error(path + ": cannot replace file");
  }
}

}  // namespace attnlens::safetensors
