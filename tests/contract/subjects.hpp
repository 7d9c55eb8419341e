// What the cell contract (test_cell_contract.cpp) runs on, and the data it feeds them.
//
// Subjects: every name in the registry (built-in cells and the cells of any plugin named in
// CELLZOO_PLUGIN_PATH), the embedded cell-language twin of each built-in (lang:NAME), and
// every other .cell file under experiments/cells (file:PATH). A new cell is covered the
// moment it is registered. With CELLZOO_CONTRACT_SUBJECTS=plugins, only the plugins'
// cells: `CELLZOO_PLUGIN_PATH=libmycell.so CELLZOO_CONTRACT_SUBJECTS=plugins
// build/tests/test_contract` puts a plugin through the whole contract (docs/plugins.md).
//
// To put something else through the whole contract, present it as a cells::CellEntry
// whose factories make a Cell<S> (a stack of layers is one: input I, output the top
// layer's h, the states of all layers) and append it in subjects.cpp.
#pragma once

#include <string>
#include <vector>

#include "framework/cells/registry.hpp"

namespace cellzoo::testing {

struct Subject {
  std::string name;  // as a user would type it: "lstm", "lang:gru", "file:.../lstm-b.cell"
  cells::CellEntry entry;
};

const std::vector<Subject>& contract_subjects();

// One batch of inputs for a cell: parameters, x, an initial state and an output gradient.
// Padded positions of x and dh are zero.
template <typename S>
struct CellInputs {
  cells::SequenceLayout seq;
  Vector<S> theta;
  Matrix<S> x, dh;
  cells::CellState<S> initial;
};

// Random inputs for `cell` (parameters U(-0.6, 0.6), x and dh U(-1, 1), states U(-0.5,
// 0.5)), the same for the same seed.
CellInputs<double> random_inputs(const cells::Cell<double>& cell, const std::vector<Index>& lengths,
                                 std::uint64_t seed);
CellInputs<float> to_float(const CellInputs<double>& in);

// What one forward + backward of a batch produces.
template <typename S>
struct CellOutputs {
  Matrix<S> h;
  cells::CellState<S> final;
  Vector<S> dtheta;
  Matrix<S> dx;
};

// Runs forward (from in.initial, or zeros without it) and backward.
template <typename S>
CellOutputs<S> run_cell(cells::Cell<S>& cell, const CellInputs<S>& in, bool with_initial = true);

// Largest |a - b| relative to 1 + max |b|; shapes must agree (else infinity).
double relative_difference(const Matrix<double>& a, const Matrix<double>& b);

}  // namespace cellzoo::testing
