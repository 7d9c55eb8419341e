#include "framework/util/build_info.hpp"

#include <Eigen/Core>

namespace cellzoo {
namespace {

#if defined(__clang__)
constexpr const char* kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* kCompiler = "g++ " __VERSION__;
#else
constexpr const char* kCompiler = "unknown";
#endif

}  // namespace

const BuildInfo& build_info() {
  static const BuildInfo info{CELLZOO_VERSION, CELLZOO_GIT_COMMIT, kCompiler,
                              std::to_string(EIGEN_WORLD_VERSION) + "." +
                                  std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                  std::to_string(EIGEN_MINOR_VERSION)};
  return info;
}

}  // namespace cellzoo
