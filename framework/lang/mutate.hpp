// Random mutation of cell-language cells: the six operators of Jozefowicz et al. 2015's
// architecture search (papers.md §2.2). Every result is a well-formed cell with the same
// states as its parent (it compiles; if the parent runs with I != H, so does the mutant).
#pragma once

#include <string_view>

#include "framework/lang/syntax.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::lang {

enum class Mutation {
  replace_activation,   // tanh -> relu, ...
  replace_operation,    // + -> *, ...
  insert_activation,    // e -> sigmoid(e)
  remove_node,          // act(e), W(e), diag(e) -> e
  replace_by_ancestor,  // e -> one of the nodes e depends on
  combine_ancestors,    // e -> a op b, a an ancestor of e, b an ancestor of another node
};
inline constexpr int kMutationCount = 6;

// One random mutation that yields a valid cell different from `cell`. Draws operators
// and sites until one works (throws cellzoo::Error if none does after many draws, which
// only happens for degenerate cells). `applied`, if given, receives the operator used.
CellText mutate_once(const CellText& cell, Rng& rng, Mutation* applied = nullptr);

// `steps` successive mutations.
CellText mutate(const CellText& cell, Rng& rng, int steps);

}  // namespace cellzoo::lang
