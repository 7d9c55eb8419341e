// Cell-language cells as registry entries: the interpreter (a cells::Cell<S> that runs a
// compiled Program with exact BPTT, planned by fusion_plan.hpp) and make_entry. Where a
// cell's text comes from (file:, cell:, lang: and the registry hook) is cell_source.hpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "framework/cells/registry.hpp"
#include "framework/lang/cell_source.hpp"
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

}  // namespace cellzoo::lang
