// Project-wide error type and the one `check` helper every module uses.
#pragma once
#include <stdexcept>
#include <string>

namespace attnlens {

// Every failure the engine reports is an attnlens::Error whose message names the
// file, tensor, field or line at fault. Nothing fails silently.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

inline void check(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}
// A fixed message: no std::string is made unless the check fails (a loader calls this per entry).
inline void check(bool condition, const char* message) {
  if (!condition) throw Error(message);
}

// For checks inside hot loops: the message is only built when the check fails.
template <typename MakeMessage>
inline void check_with(bool condition, MakeMessage&& make_message) {
  if (!condition) throw Error(make_message());
}

}  // namespace attnlens
