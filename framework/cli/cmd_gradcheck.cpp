// cellzoo gradcheck: finite differences vs BPTT in double precision.
#include <cstdio>
#include <iostream>
#include <map>

#include "framework/cells/cell_stack.hpp"
#include "framework/cells/gradcheck.hpp"
#include "framework/cli/common.hpp"
#include "framework/train/hyperparameters.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

int cmd_gradcheck(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::vector<std::string> names, plugin_paths, sets;
  double tolerance = 1e-6;
  unsigned long seed = 1;
  options.add_options()("cell,c", po::value(&names)->composing(),
                        "cell to check (repeatable); see 'cellzoo cells'")(
      "all,a", "check every registered cell (the default when no --cell is given)")(
      "tolerance", po::value(&tolerance)->default_value(1e-6, "1e-06"),
      "fail when a tensor's relative error exceeds this")(
      "seed", po::value(&seed)->default_value(1), "seed of the random problems")(
      "set,s", po::value(&sets)->composing(),
      "layers=N or dropout=P: check stacks of N layers with dropout P (masks fixed during the "
      "check: one per unit and layer)");
  add_plugin_option(options, plugin_paths);
  po::variables_map vm;
  if (!parse_args("gradcheck",
                  "[--cell NAME ...] [--all] [--plugin PATH.so ...] [--set layers=N] "
                  "[--set dropout=P]",
                  options, args, vm))
    return 0;
  load_plugins(plugin_paths);
  if (!(tolerance > 0))
    throw Error("--tolerance must be a positive relative error, got " + std::to_string(tolerance),
                "e.g. --tolerance 1e-6");
  std::map<std::string, std::string> settings;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    const std::string key = s.substr(0, eq);
    if (eq == std::string::npos || (key != "layers" && key != "dropout"))
      throw Error("gradcheck --set '" + s + "': only layers=N and dropout=P can be set",
                  "e.g. cellzoo gradcheck --all --set layers=3 --set dropout=0.3");
    settings[key] = s.substr(eq + 1);
  }
  const auto hyper = train::resolve(settings);  // checks the ranges

  const auto& registry = cells::CellRegistry::instance();
  if (vm.count("all") || names.empty()) names = registry.names();
  std::vector<cells::CellEntry> entries;
  for (const auto& n : names)  // unknown names fail first
    entries.push_back(cells::stack_entry(registry.get(n), hyper.layers, hyper.dropout));

  int failures = 0;
  if (hyper.layers > 1 || hyper.dropout > 0)
    std::printf("stacks of %d layer(s), dropout %g\n", hyper.layers, hyper.dropout);
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
