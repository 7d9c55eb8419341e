#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

#define CELLZOO_CELL(id) void register_cell_##id(CellRegistry&);
#include "framework/cells/builtin_cells.def"
#undef CELLZOO_CELL

void register_builtin_cells(CellRegistry& registry) {
#define CELLZOO_CELL(id) register_cell_##id(registry);
#include "framework/cells/builtin_cells.def"
#undef CELLZOO_CELL
}

// Here rather than in registry.cpp, so that the SDK's registry (which plugins link) does
// not pull in every built-in cell.
CellRegistry& CellRegistry::instance() {
  static CellRegistry registry = [] {
    CellRegistry r;
    register_builtin_cells(r);
    return r;
  }();
  return registry;
}

}  // namespace cellzoo::cells
