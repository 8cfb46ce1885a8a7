// Reading an integer from a JSON value without nlohmann's silent conversions: every config reader
// (classifier, translator, training, the page's options) takes its whole numbers through this.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

#include "core/error.hpp"

namespace attnlens {

// `value` as an integer of type T, or Error "<what>: expected a whole number that fits, got <value>".
// A JSON integer, or a number without a fraction ("64.0", "1e2"), within T's range: nlohmann's
// get<int>() would silently wrap 4294967300 to 4, and a float too large for T is undefined
// behaviour. Callers check their own, narrower range after.
template <class T>
T json_integer(const nlohmann::json& value, const std::string& what) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  using Limits = std::numeric_limits<T>;
  std::string got;
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    if (v <= static_cast<uint64_t>(Limits::max())) return static_cast<T>(v);
    got = std::to_string(v);
  } else if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    if constexpr (std::is_signed_v<T>) {
      if (v >= static_cast<int64_t>(Limits::min()) && v <= static_cast<int64_t>(Limits::max())) return static_cast<T>(v);
    } else {
      if (v >= 0 && static_cast<uint64_t>(v) <= static_cast<uint64_t>(Limits::max())) return static_cast<T>(v);
    }
    got = std::to_string(v);
  } else if (value.is_number_float()) {
    const double v = value.get<double>();
    // [min, 2^digits): both ends exact in a double, for every integer type up to 64 bits.
    if (std::isfinite(v) && v == std::floor(v) && v >= static_cast<double>(Limits::min()) &&
        v < std::ldexp(1.0, Limits::digits))
      return static_cast<T>(v);
    char text[32];
    std::snprintf(text, sizeof text, "%.15g", v);
    got = text;
  } else {
    got = value.type_name();
  }
  throw Error(what + ": expected a whole number" + (value.is_number() ? " that fits" : "") + ", got " + got);
}

}  // namespace attnlens
