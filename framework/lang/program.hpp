// The cell language's compiled form: a per-step computation graph (nodes in topological
// order) with its parameter tensors, built from a CellText by compile(), which also does
// every semantic check (undefined names, cycles, unproduced states, unused nodes, shapes).
//
// Sizes are symbolic while compiling: a node has the input's size I, the hidden size H,
// or is a scalar constant. Mixing I and H element-wise (or diag(x), or h' = tanh(x)) is
// only valid when I == H: the program records that and check_sizes() rejects other sizes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "framework/cells/param_layout.hpp"
#include "framework/lang/syntax.hpp"

namespace cellzoo::lang {

// Closed op set of the graph; see op_name().
enum class Op {
  input,     // x
  state,     // a state's previous value
  constant,  // folded constants (never an argument of another node)
  bias,      // H-vector parameter broadcast over columns
  weight,    // W * a
  diag,      // p .* a
  sum,       // offset + sum_i coef_i * term_i
  mul,       // a .* b
  sigmoid,
  tanh,
  relu,
  identity,
};
inline constexpr int kOpCount = 12;
std::string_view op_name(Op op);

enum class Dim { scalar, input, hidden };

struct Node {
  Op op = Op::constant;
  std::vector<int> args;     // node ids (earlier in the list)
  std::vector<double> coef;  // sum: one per argument
  double value = 0;          // constant: its value; sum: the offset
  int state = -1;            // Op::state: which state
  int param = -1;            // bias / weight / diag: index into Program::params
  Dim dim = Dim::hidden;
  bool dynamic = false;  // depends on a state, so it is evaluated step by step
  std::string label;     // for messages: the statement name or the expression
};

struct ParamSpec {
  std::string name;  // e.g. "W.i.x", "diag.o.c'", "b.f" (see docs/cell-language.md)
  Op op = Op::weight;
  Dim cols = Dim::hidden;  // weight: the size of its argument
  cells::ParamKind kind = cells::ParamKind::input_weight;
};

struct Program {
  CellText text;
  std::vector<Node> nodes;        // topological order
  std::vector<ParamSpec> params;  // in order of appearance in the text
  std::vector<int> outputs;       // node of each state's new value, in state order
  int forget_bias_param = -1;     // the first bias of the node named f (or f'), if any
  bool square_input = false;      // needs I == H
  std::string square_reason;      // "<source>:<line>:<col>: ..." where I meets H
  std::string param_formula;      // e.g. "4HI + 4H^2 + 7H"
};

// Type-checks and lowers a parsed cell. Throws cellzoo::Error naming file, line, column.
std::shared_ptr<const Program> compile(const CellText& text);

// Throws cellzoo::Error if the program cannot run with these sizes.
void check_sizes(const Program& program, long input_size, long hidden_size);

}  // namespace cellzoo::lang
