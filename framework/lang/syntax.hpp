// The cell language's surface syntax: the parsed text of a cell (statements over
// expression trees), the parser, and the canonical printer. See docs/cell-language.md.
//
// A CellText is plain data (value semantics), so mutation copies and edits it freely; the
// semantic checks (undefined names, cycles, shapes, ...) live in program.hpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cellzoo::lang {

struct Location {
  int line = 0;  // 1-based; 0 = unknown
  int column = 0;
};

// Closed set of expression kinds; printed and parsed by name (see expr_kind_name).
enum class ExprKind {
  number,   // a constant
  ref,      // a name: x, a state (previous value), a state's new value (c'), a node
  sigmoid,  // element-wise activations
  tanh,
  relu,
  identity,
  weight,  // W(a): a full weight matrix (H x size of a) times a
  diag,    // diag(a): a per-unit (diagonal) weight times a, a must have H rows
  bias,    // bias: an H-vector
  add,     // element-wise binary operations
  sub,
  mul,
};
inline constexpr int kExprKindCount = 12;
std::string_view expr_kind_name(ExprKind kind);
bool is_activation(ExprKind kind);
bool is_binary(ExprKind kind);

struct Expr {
  ExprKind kind = ExprKind::number;
  double number = 0;    // number
  std::string name;     // ref: the name without the prime
  bool primed = false;  // ref: c' (a state's new value)
  std::vector<Expr> args;
  Location loc;
};

struct Statement {
  std::string name;     // target without the prime
  bool primed = false;  // c' = ... assigns a state's new value
  Expr expr;
  Location loc;
};

struct CellText {
  std::string source = "<inline>";  // file name for error messages
  std::string description;          // from a "# description:" comment
  std::vector<std::string> states;  // state names in order; states[0] is h
  Location states_loc;
  std::vector<Statement> statements;
};

// "c'" or "z": how a node is written.
std::string display_name(const std::string& name, bool primed);

// Parses the text of a cell. Statements end at a newline or ';' (newlines inside
// parentheses continue the statement). Throws cellzoo::Error "<source>:<line>:<col>: ..."
// on a syntax error. No semantic checks (see compile()).
CellText parse_cell(std::string_view text, std::string source = "<inline>");

// One expression in canonical form (single spaces around binary operators, minimal
// parentheses).
std::string print_expr(const Expr& expr);

// The canonical text: an optional "# description: ..." line, the state line, then one
// statement per line in the original order, each in canonical form. Parsing the
// canonical text gives the same cell.
std::string canonical_text(const CellText& cell, bool with_description = true);

// 32 hex digits identifying the computation: a hash of the canonical text without the
// description (so rewording a description keeps the identity).
std::string cell_hash(const CellText& cell);

}  // namespace cellzoo::lang
