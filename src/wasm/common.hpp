// Helpers shared by the two wasm modules' bindings (classifier and translator).
#pragma once
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstdint>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/json_text.hpp"
#include "text/tokenizer.hpp"

namespace attnlens::wasm {

using emscripten::val;

[[noreturn]] inline void throw_js_error(const std::string& message) {
  val::global("Error").new_(val("attnlens: " + message)).throw_();
}

// A C++ error as a JS Error with the same message; running out of memory (std::bad_alloc) as
// one that says so. Written once, not in each binding.
[[noreturn]] __attribute__((noinline)) inline void throw_as_js_error(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e))
    throw_js_error("out of memory: this call needs more memory than the browser gives this module (a very long text? "
                   "predict() needs the least; or classify it in parts)");
  throw_js_error(e.what());
}

// Runs a binding's body: what it returns, or the C++ error it throws as a JS Error (never an
// abort). Every function the modules export goes through here.
template <typename Body>
auto js_errors(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    throw_as_js_error(e);
  }
}

// For each byte offset of a valid UTF-8 string, the UTF-16 offset of the same place.
inline std::vector<uint32_t> utf16_offsets(const std::string& text) {
  std::vector<uint32_t> offsets(text.size() + 1);
  uint32_t unit = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length;
    const char32_t cp = decode_utf8(text, pos, length);
    for (size_t k = 0; k < length; ++k) offsets[pos + k] = unit;
    unit += cp >= 0x10000 ? 2 : 1;
    pos += length;
  }
  offsets[text.size()] = unit;
  return offsets;
}

// A JS Uint8Array copied into wasm memory, once.
inline std::vector<uint8_t> bytes_of(const val& bytes, const char* who) {
  const std::string type = bytes.isNull() || bytes.isUndefined() ? std::string("nothing") : bytes["constructor"]["name"].as<std::string>();
  if (type != "Uint8Array") throw Error(std::string(who) + " expects a Uint8Array, got " + type);
  std::vector<uint8_t> data(bytes["length"].as<size_t>());
  val(emscripten::typed_memory_view(data.size(), data.data())).call<void>("set", bytes);
  return data;
}

// A JS string as UTF-8. Lone surrogates would not survive the conversion; U+FFFD keeps
// every offset. (Browsers without toWellFormed — before 2023 — get the text as it is.)
inline std::string utf8_of(const val& text, const char* who) {
  if (!text.isString()) throw Error(std::string(who) + " expects a string");
  const bool can_clean = text["toWellFormed"].typeOf().as<std::string>() == "function";
  return (can_clean ? text.call<val>("toWellFormed") : text).as<std::string>();
}

inline val optional_number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? val(j[key].get<double>()) : val::null();
}

// A token as the JS API gives it: {text, start, end, oov}, offsets in UTF-16 code units.
inline val token_to_js(const std::string& text, uint32_t start, uint32_t end, bool oov) {
  val token = val::object();
  token.set("text", text);
  token.set("start", start);
  token.set("end", end);
  token.set("oov", oov);
  return token;
}

// JSON values to JS values, walked (no text in between: the small engine carries no JSON writer),
// and back (plain objects only).
inline val json_to_js(const nlohmann::json& j) {
  using Type = nlohmann::json::value_t;
  switch (j.type()) {
    case Type::object: {
      val object = val::object();
      for (const auto& [key, value] : j.items()) object.set(key, json_to_js(value));
      return object;
    }
    case Type::array: {
      val array = val::array();
      for (size_t i = 0; i < j.size(); ++i) array.set(i, json_to_js(j[i]));
      return array;
    }
    case Type::string: return val(j.get_ref<const std::string&>());
    case Type::boolean: return val(j.get<bool>());
    case Type::number_integer: return val(static_cast<double>(j.get<int64_t>()));
    case Type::number_unsigned: return val(static_cast<double>(j.get<uint64_t>()));
    case Type::number_float: return val(j.get<double>());
    default: return val::null();
  }
}

inline nlohmann::json js_to_json(const val& v, const char* who) {
  if (v.isUndefined() || v.isNull()) return nlohmann::json::object();
  if (v.typeOf().as<std::string>() != "object") throw Error(std::string(who) + " expects an object");
  const std::string text = val::global("JSON").call<std::string>("stringify", v);
  const nlohmann::json j = parse_json(text, who);
  if (!j.is_object()) throw Error(std::string(who) + " expects a plain object");
  return j;
}

}  // namespace attnlens::wasm
