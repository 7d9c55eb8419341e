#include "framework/util/build_info.hpp"

#include <Eigen/Core>

namespace cellzoo {

const BuildInfo& build_info() {
  static const BuildInfo info{
      CELLZOO_VERSION, CELLZOO_GIT_COMMIT,
#if defined(__clang__)
      "clang " __clang_version__,
#elif defined(__GNUC__)
      "g++ " __VERSION__,
#else
      "unknown",
#endif
      std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
          std::to_string(EIGEN_MINOR_VERSION)};
  return info;
}

}  // namespace cellzoo
