// cellzoo gradcheck: finite differences vs BPTT in double precision.
#include <cstdio>
#include <iostream>

#include "framework/cells/gradcheck.hpp"
#include "framework/cli/common.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

int cmd_gradcheck(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::vector<std::string> names, plugin_paths;
  double tolerance = 1e-6;
  unsigned long seed = 1;
  options.add_options()("cell,c", po::value(&names)->composing(),
                        "cell to check (repeatable); see 'cellzoo cells'")(
      "all,a", "check every registered cell (the default when no --cell is given)")(
      "tolerance", po::value(&tolerance)->default_value(1e-6, "1e-06"),
      "fail when a tensor's relative error exceeds this")(
      "seed", po::value(&seed)->default_value(1), "seed of the random problems");
  add_plugin_option(options, plugin_paths);
  po::variables_map vm;
  if (!parse_args("gradcheck", "[--cell NAME ...] [--all] [--plugin PATH.so ...]", options, args,
                  vm))
    return 0;
  load_plugins(plugin_paths);
  if (!(tolerance > 0))
    throw Error("--tolerance must be a positive relative error, got " + std::to_string(tolerance),
                "e.g. --tolerance 1e-6");

  const auto& registry = cells::CellRegistry::instance();
  if (vm.count("all") || names.empty()) names = registry.names();
  std::vector<cells::CellEntry> entries;
  for (const auto& n : names) entries.push_back(registry.get(n));  // unknown names fail first

  int failures = 0;
  std::printf("%-12s %-14s %s\n", "cell", "max rel error", "worst tensor");
  for (const auto& entry : entries) {
    const auto r =
        cells::gradcheck(entry, cells::default_gradcheck_problems(entry.info.square_input), seed);
    const bool ok = r.max_error <= tolerance;
    failures += !ok;
    std::printf("%-12s %-14.3e %s%s\n", r.cell.c_str(), r.max_error, r.worst_tensor.c_str(),
                ok ? "" : "  FAIL");
  }
  if (failures) {
    std::fprintf(stderr, "gradcheck: %d cell(s) above tolerance %.1e\n", failures, tolerance);
    return 1;
  }
  std::printf("all %zu cell(s) within %.1e\n", entries.size(), tolerance);
  return 0;
}

}  // namespace cellzoo::cli
