// cellzoo cells: one line per registered cell, with where it comes from (built in, or the
// plugin that registered it), then the loaded plugins' files.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "framework/cells/registry.hpp"
#include "framework/cli/common.hpp"
#include "framework/plugins/loader.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

int cmd_cells(const std::vector<std::string>& args) {
  po::options_description options("options");
  long input = 0, hidden = 0;
  std::vector<std::string> plugin_paths;
  options.add_options()("input,i", po::value(&input)->default_value(32),
                        "input size I for the parameter count")(
      "hidden,H", po::value(&hidden)->default_value(128), "hidden size H for the parameter count");
  add_plugin_option(options, plugin_paths);
  po::variables_map vm;
  if (!parse_args("cells", "[--input I] [--hidden H] [--plugin PATH.so ...]", options, args, vm))
    return 0;
  if (input <= 0 || hidden <= 0) throw Error("--input and --hidden must be positive");
  load_plugins(plugin_paths);

  const auto& registry = cells::CellRegistry::instance();
  std::cout << std::left << std::setw(11) << "name" << std::setw(7) << "family" << std::setw(10)
            << "from" << std::setw(24) << "parameters" << std::setw(10)
            << ("I=" + std::to_string(input) + ",H=" + std::to_string(hidden)) << "  description\n";
  bool any_square = false;
  for (const auto& name : registry.names()) {
    const auto entry = registry.get(name);
    // A cell that needs I = H cannot have I = --input: it is counted at I = H (marked *).
    const bool square = entry.info.square_input && input != hidden;
    any_square |= square;
    const Index in = entry.info.square_input ? hidden : input;
    const auto cell = entry.make<float>(in, hidden);
    const plugins::Plugin* plugin = plugins::plugin_of(name);
    const std::string from =
        plugin ? std::filesystem::path(plugin->path).filename().string() : std::string("built-in");
    std::cout << std::left << std::setw(11) << name << std::setw(7) << entry.info.family
              << std::setw(10) << from << std::setw(24) << entry.info.param_formula << std::setw(10)
              << (std::to_string(cell->parameter_count()) + (square ? "*" : "")) << "  "
              << entry.info.description << (entry.info.square_input ? " [needs I = H]" : "")
              << "\n";
  }
  if (any_square)
    std::cout << "* counted with I = H = " << hidden << ": the cell needs I = H (a task's input "
              << "reaches it through an embedding or projection of size H)\n";
  const auto plugins = plugins::loaded_plugins();
  if (!plugins.empty()) std::cout << "\nplugins:\n";
  for (const auto& p : plugins) {
    std::string names;
    for (const auto& c : p.cells) names += (names.empty() ? "" : ", ") + c;
    std::cout << "  " << p.path << "\n    hash " << p.hash << ", cells: " << names << "\n";
  }
  return 0;
}

}  // namespace cellzoo::cli
