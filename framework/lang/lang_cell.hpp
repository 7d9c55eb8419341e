// Cell-language cells as registry entries: the interpreter (a cells::Cell<S> that runs a
// compiled Program with exact BPTT), the embedded .cell texts of the built-in cells, and
// the registry hook.
//
// Names a language cell can be reached by (see install_language_cells):
//   file:PATH   a .cell file, PATH relative to the current directory
//   cell:TEXT   inline text; ';' separates statements
//   lang:NAME   the embedded twin of built-in cell NAME (experiments/cells/NAME.cell)
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "framework/cells/registry.hpp"
#include "framework/lang/program.hpp"
#include "framework/lang/syntax.hpp"

namespace cellzoo::lang {

// A cell running `program` for input size I and hidden size H (checked).
template <typename S>
std::unique_ptr<cells::Cell<S>> make_cell(std::shared_ptr<const Program> program, Index input_size,
                                          Index hidden_size);

// A registry entry named `name` for a parsed cell (compiles it: semantic errors throw).
// CellInfo: family "lang", description from "# description:" (or "cell <hash>").
cells::CellEntry make_entry(const CellText& text, std::string name);

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
