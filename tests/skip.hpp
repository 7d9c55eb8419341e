// Honest skips for the Catch2 tests: a test case whose precondition is missing (the shared
// data sets, a binary that is not built) is reported as skipped, never as passed.
//
//   if (!path) CELLZOO_SKIP("no shared JSB Chorales (set CELLZOO_SHARED_DATASETS)");
//
// Catch2 2.13 has no SKIP, so the test ends the process with 77, CTest's skip code
// (SKIP_RETURN_CODE in tests/CMakeLists.txt): CTest runs every test case as its own process.
// When a process runs several test cases (a whole test binary run by hand), exiting would
// hide the others; there the skip is a WARN with the reason and the test case returns.
#pragma once

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

namespace cellzoo::testing {

// True if this process was asked to run exactly one test case (as CTest does).
inline bool running_one_test_case() {
  const auto config = Catch::getCurrentContext().getConfig();
  if (!config || !config->hasTestFilters()) return false;
  return Catch::filterTests(Catch::getAllTestCasesSorted(*config), config->testSpec(), *config)
             .size() == 1;
}

// Ends the test case as skipped (see above); the caller returns right after.
inline void skip_test_case(const std::string& reason) {
  if (running_one_test_case()) {
    std::cout << "SKIPPED: " << reason << std::endl;
    std::fflush(nullptr);
    std::exit(77);
  }
  WARN("SKIPPED: " << reason);
}

}  // namespace cellzoo::testing

// Skips the current test case with a reason (streamed like INFO's); returns from the caller.
#define CELLZOO_SKIP(reason)                                       \
  do {                                                             \
    std::ostringstream cellzoo_skip_reason;                        \
    cellzoo_skip_reason << reason;                                 \
    ::cellzoo::testing::skip_test_case(cellzoo_skip_reason.str()); \
    return;                                                        \
  } while (false)
