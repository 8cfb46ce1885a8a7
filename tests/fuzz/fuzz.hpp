// What every fuzz target shares. A target feeds libFuzzer's bytes to one reader or loader and
// accepts exactly one kind of failure: an attnlens::Error, the clear message a user would see.
// Anything else is a finding: a crash or sanitizer report, an uncaught exception of another type
// (std::bad_alloc from a memory bomb, a library's own exception leaking out), a broken invariant
// (FUZZ_EXPECT aborts with what was expected), a leak, a timeout or going over -rss_limit_mb.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/error.hpp"

#define FUZZ_EXPECT(condition)                                                                \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace attnlens::fuzz {

// Runs `body`; an attnlens::Error is the expected way to refuse input. True when it ran through.
template <class Body>
bool accepts(Body&& body) {
  try {
    body();
    return true;
  } catch (const Error&) {
    return false;
  }
}

inline std::string_view text_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace attnlens::fuzz
