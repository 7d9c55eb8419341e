// Facts about this build, recorded in every results file.
#pragma once

#include <string>

namespace cellzoo {

struct BuildInfo {
  std::string version;     // cellzoo version
  std::string git_commit;  // short hash, or "unknown"
  std::string compiler;
  std::string eigen_version;
};

const BuildInfo& build_info();

}  // namespace cellzoo
