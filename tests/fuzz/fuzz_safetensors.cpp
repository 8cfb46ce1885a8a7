// The safetensors container alone: header length, JSON header, dtypes, shapes, offsets, metadata,
// and every tensor read back as the parameter its own shape describes.
#include "fuzz.hpp"
#include "io/safetensors.hpp"

using namespace attnlens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accepts([&] {
    const safetensors::File file = safetensors::File::parse(data, size, "fuzz.safetensors");
    // What parse accepted, the data block holds: no tensor may claim more values than bytes.
    FUZZ_EXPECT(file.weight_values() >= 0 && static_cast<uint64_t>(file.weight_values()) <= size);
    fuzz::accepts([&] { file.storage(); });
    for (const auto& entry : file.tensors()) {
      const std::string& name = entry.first;
      const safetensors::TensorInfo& info = entry.second;
      FUZZ_EXPECT(info.begin <= info.end && info.end <= size);
      if (file.is_scale_tensor(name)) continue;
      const int64_t count = info.element_count();
      FUZZ_EXPECT(count >= 0 && static_cast<uint64_t>(count) <= size);
      const int64_t rows = info.shape.empty() ? 1 : info.shape[0];
      ParamMatrix values(rows, rows ? count / rows : 0);
      fuzz::accepts([&] { file.read_parameter(name, info.shape, values); });
    }
  });
  return 0;
}
