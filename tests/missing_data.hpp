// How the data-dependent test programs end when their data is missing: exit 77 (ctest's
// "skipped"), or a failure under CI=true, where the data must be present.
#pragma once
#include <cstdlib>
#include <iostream>
#include <string>

namespace attnlens::testing {

inline int missing_data(const std::string& error, const std::string& what, const std::string& where) {
  std::cout << error << "\n";
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") {
    std::cout << "FAILED: CI=true and " << what << " is missing\n";
    return 1;
  }
  std::cout << "SKIPPED: put " << where << " (or set ATTNLENS_DATA) to run this test\n";
  return 77;
}

}  // namespace attnlens::testing
