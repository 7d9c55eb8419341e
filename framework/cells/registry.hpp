// The cell registry: name -> metadata + factories for float (training) and double
// (gradient checks). Built-in cells are registered explicitly by register_builtin_cells()
// (see builtin_cells.def), reached through a function-local static, so no static-library
// linker can drop a cell and no static-initialisation order can bite.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "framework/cells/cell.hpp"

namespace cellzoo::cells {

struct CellInfo {
  std::string name;           // e.g. "lstm-cifg"
  std::string family;         // "rnn", "lstm", "gru", "mut", "lang"
  std::string description;    // one line, with the paper
  std::string param_formula;  // e.g. "4H(I+H+1) + 3H"
  bool square_input = false;  // needs input size == hidden size (MUT1, MUT2)
};

template <typename S>
using CellFactory = std::function<std::unique_ptr<Cell<S>>(Index input_size, Index hidden_size)>;

struct CellEntry {
  CellInfo info;
  CellFactory<float> make_float;
  CellFactory<double> make_double;

  // A new cell, named after the entry (its errors say which cell failed).
  template <typename S>
  std::unique_ptr<Cell<S>> make(Index input_size, Index hidden_size) const {
    std::unique_ptr<Cell<S>> cell;
    if constexpr (std::is_same_v<S, float>)
      cell = make_float(input_size, hidden_size);
    else
      cell = make_double(input_size, hidden_size);
    cell->set_name(info.name);
    return cell;
  }
};

class CellRegistry {
 public:
  // The process-wide registry with every built-in cell registered.
  static CellRegistry& instance();

  // Registers C<S>(input, hidden, extra...) for S = float and double.
  template <template <typename> class C, typename... Extra>
  void add(CellInfo info, Extra... extra) {
    CellEntry e;
    e.info = std::move(info);
    e.make_float = [=](Index i, Index h) { return std::make_unique<C<float>>(i, h, extra...); };
    e.make_double = [=](Index i, Index h) { return std::make_unique<C<double>>(i, h, extra...); };
    add(std::move(e));
  }
  void add(CellEntry entry);  // duplicate names are an error

  // A resolver turns names with a prefix (e.g. "file:") into cells on demand; the cell
  // language installs one. Resolvers must be thread-safe.
  using Resolver = std::function<CellEntry(std::string_view name)>;
  void add_resolver(std::string prefix, Resolver resolver);

  bool contains(std::string_view name) const;
  // Throws cellzoo::Error listing the registered names when `name` is unknown.
  CellEntry get(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted; built-ins only

  template <typename S>
  std::unique_ptr<Cell<S>> make(std::string_view name, Index input_size, Index hidden_size) const {
    return get(name).make<S>(input_size, hidden_size);
  }

 private:
  std::map<std::string, CellEntry, std::less<>> entries_;
  std::vector<std::pair<std::string, Resolver>> resolvers_;
};

// Defined in builtin_cells.cpp: one line per cell, alphabetical.
void register_builtin_cells(CellRegistry& registry);

}  // namespace cellzoo::cells
