// Reading JSON text, as every file attnlens loads holds it (a safetensors header, the metadata
// inside it, config files). One parser for all of it: nlohmann's SAX parser through its virtual
// interface, so each wasm module carries a single copy of the parser, and one rule: an object
// that names a key twice is refused (nlohmann alone would silently keep the last value).
#pragma once
#include <nlohmann/json.hpp>
#include <cstddef>
#include <string>

namespace attnlens {

constexpr size_t kAnyNumberOfValues = static_cast<size_t>(-1);

// Parses [begin, end) as exactly one JSON value (nothing but whitespace after it). Throws Error
// "<what> is not valid JSON (<nlohmann's message>)", "<what> names '<key>' twice", or, past
// `max_values` values (every null, boolean, number, string, array and object counts one),
// "<what> holds more than <max_values> JSON values". A tree takes at most the text's strings
// plus about 100 bytes per value, so the limit bounds what hostile text can make it allocate.
nlohmann::json parse_json(const char* begin, const char* end, const std::string& what,
                          size_t max_values = kAnyNumberOfValues);
inline nlohmann::json parse_json(const std::string& text, const std::string& what,
                                 size_t max_values = kAnyNumberOfValues) {
  return parse_json(text.data(), text.data() + text.size(), what, max_values);
}

// Runs `reader` over [begin, end) with the same parser; false when the reader stopped it
// (a parse error reaches the reader's parse_error first).
bool sax_parse_json(const char* begin, const char* end, nlohmann::json_sax<nlohmann::json>& reader);

}  // namespace attnlens
