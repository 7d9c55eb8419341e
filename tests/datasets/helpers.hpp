// Helpers for the datasets tests: scratch directories, the shared data sets, sequence
// comparison and error-message matching.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "datasets/task.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::datasets::testing {

// A fresh, empty directory under the build tree, named after the test.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::path(CELLZOO_BINARY_DIR) / "test_datasets_tmp" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// The shared data sets (env CELLZOO_SHARED_DATASETS, else ../shared/datasets next to the
// source tree), if `relative` exists there.
inline std::optional<std::filesystem::path> shared_dataset(const std::string& relative) {
  std::error_code ec;
  if (const char* env = std::getenv("CELLZOO_SHARED_DATASETS"); env && *env) {
    const auto p = std::filesystem::path(env) / relative;
    if (std::filesystem::exists(p, ec)) return p;
  }
  const auto p = std::filesystem::path(CELLZOO_SOURCE_DIR "/../shared/datasets") / relative;
  if (std::filesystem::exists(p, ec)) return p;
  return std::nullopt;
}

inline bool same(const Sequence& a, const Sequence& b) {
  return a.input_tokens == b.input_tokens && a.input_dense == b.input_dense &&
         a.target_tokens == b.target_tokens && a.target_dense == b.target_dense &&
         a.weight == b.weight;
}

inline bool same(const std::vector<Sequence>& a, const std::vector<Sequence>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) return false;
  return true;
}

// Message + hint of the cellzoo::Error thrown by f; fails the test if none is thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return std::string(e.what()) + "\nhint: " + e.hint();
  }
  FAIL("expected a cellzoo::Error");
  return {};
}

}  // namespace cellzoo::datasets::testing
