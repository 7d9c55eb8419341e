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

}  // namespace cellzoo::cells
