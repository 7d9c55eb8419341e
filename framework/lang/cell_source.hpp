// Where a cell-language cell's text comes from, and the registry hook that makes those
// names cells. Names a language cell can be reached by (see install_language_cells):
//   file:PATH   a .cell file, PATH relative to the current directory
//   cell:TEXT   inline text; ';' separates statements
//   lang:NAME   the embedded twin of built-in cell NAME (experiments/cells/NAME.cell)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "framework/cells/registry.hpp"
#include "framework/lang/syntax.hpp"

namespace cellzoo::lang {

// The .cell texts of experiments/cells, embedded at build time: (name, text), sorted.
const std::vector<std::pair<std::string, std::string>>& builtin_cell_texts();
std::optional<std::string> builtin_cell_text(std::string_view name);

// Parses a cell given as "file:PATH", "cell:TEXT", "lang:NAME" or a bare built-in name
// that has an embedded twin. Throws cellzoo::Error for anything else.
CellText load_cell(std::string_view spec);

// Registers the resolvers for the prefixes file:, cell: and lang:. Call once at start-up
// (the CLI's main and the sweep do).
void install_language_cells(cells::CellRegistry& registry);

}  // namespace cellzoo::lang
