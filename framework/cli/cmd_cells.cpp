// cellzoo cells: one line per registered cell.
#include <iomanip>
#include <iostream>

#include "framework/cells/registry.hpp"
#include "framework/cli/common.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

int cmd_cells(const std::vector<std::string>& args) {
  po::options_description options("options");
  long input = 0, hidden = 0;
  options.add_options()("input,i", po::value(&input)->default_value(32),
                        "input size I for the parameter count")(
      "hidden,H", po::value(&hidden)->default_value(128), "hidden size H for the parameter count");
  po::variables_map vm;
  if (!parse_args("cells", "[--input I] [--hidden H]", options, args, vm)) return 0;
  if (input <= 0 || hidden <= 0) throw Error("--input and --hidden must be positive");

  const auto& registry = cells::CellRegistry::instance();
  std::cout << std::left << std::setw(11) << "name" << std::setw(7) << "family" << std::setw(24)
            << "parameters" << std::setw(10)
            << ("I=" + std::to_string(input) + ",H=" + std::to_string(hidden)) << "  description\n";
  for (const auto& name : registry.names()) {
    const auto entry = registry.get(name);
    const Index in = entry.info.square_input ? hidden : input;
    const auto cell = entry.make<float>(in, hidden);
    std::cout << std::left << std::setw(11) << name << std::setw(7) << entry.info.family
              << std::setw(24) << entry.info.param_formula << std::setw(10)
              << cell->parameter_count() << "  " << entry.info.description
              << (entry.info.square_input ? " [needs I = H]" : "") << "\n";
  }
  return 0;
}

}  // namespace cellzoo::cli
