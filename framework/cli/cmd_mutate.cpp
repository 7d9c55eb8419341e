// cellzoo mutate: prints a random mutant of a cell-language cell (the operators of
// Jozefowicz et al. 2015; see framework/lang/mutate.hpp).
#include <iostream>

#include "framework/cli/common.hpp"
#include "framework/lang/lang_cell.hpp"
#include "framework/lang/mutate.hpp"
#include "framework/plugins/loader.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

int cmd_mutate(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::string name;
  std::vector<std::string> plugin_paths;
  unsigned long seed = 1;
  int steps = 1;
  options.add_options()("cell,c", po::value(&name)->required(),
                        "the cell to mutate: a built-in name with a language twin (e.g. lstm), "
                        "file:PATH or cell:TEXT")("seed", po::value(&seed)->default_value(1),
                                                  "seed of the mutation")(
      "steps", po::value(&steps)->default_value(1), "number of successive mutations");
  add_plugin_option(options, plugin_paths);
  po::variables_map vm;
  if (!parse_args("mutate", "--cell NAME [--seed N] [--steps K]", options, args, vm)) return 0;
  if (steps < 1) throw Error("--steps must be at least 1, got " + std::to_string(steps));
  load_plugins(plugin_paths);
  if (const auto* plugin = plugins::plugin_of(name))  // C++ code, no text to mutate
    throw Error("cell '" + name + "' comes from plugin '" + plugin->path +
                    "': mutate changes cell-language text, and a plugin cell is C++",
                "write the cell in the cell language (docs/cell-language.md) and pass "
                "--cell file:PATH");

  const lang::CellText parent = lang::load_cell(name);
  Rng rng(derive_seed(seed, "mutate"));
  lang::CellText child = lang::mutate(parent, rng, steps);
  const std::string from = name.starts_with("cell:") ? std::string("an inline cell") : name;
  child.description = "mutant of " + from + " (seed " + std::to_string(seed) + ", " +
                      std::to_string(steps) + (steps == 1 ? " step" : " steps") + ")";
  std::cout << lang::canonical_text(child);
  return 0;
}

}  // namespace cellzoo::cli
