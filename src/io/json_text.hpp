// Reading JSON text, as every file attnlens loads holds it (a safetensors header, the metadata
// inside it, config files). One parser for all of it: nlohmann's SAX parser through its virtual
// interface, so each wasm module carries a single copy of the parser, and one rule: an object
// that names a key twice is refused (nlohmann alone would silently keep the last value).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace attnlens {

// Parses [begin, end) as exactly one JSON value (nothing but whitespace after it). Throws Error
// "<what> is not valid JSON (<nlohmann's message>)" or "<what> names '<key>' twice".
nlohmann::json parse_json(const char* begin, const char* end, const std::string& what);
inline nlohmann::json parse_json(const std::string& text, const std::string& what) {
  return parse_json(text.data(), text.data() + text.size(), what);
}

// Runs `reader` over [begin, end) with the same parser; false when the reader stopped it
// (a parse error reaches the reader's parse_error first).
bool sax_parse_json(const char* begin, const char* end, nlohmann::json_sax<nlohmann::json>& reader);

}  // namespace attnlens
