// cellzoo: git-style subcommands (see commands.def).
#include <malloc.h>

#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "framework/cells/registry.hpp"
#include "framework/lang/lang_cell.hpp"
#include "framework/util/blas.hpp"
#include "framework/util/build_info.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {
#define CELLZOO_COMMAND(name, fn, summary) int fn(const std::vector<std::string>& args);
#include "framework/cli/commands.def"
#undef CELLZOO_COMMAND
}  // namespace cellzoo::cli

namespace {

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* summary;
};

const Command kCommands[] = {
#define CELLZOO_COMMAND(name, fn, summary) {name, &cellzoo::cli::fn, summary},
#include "framework/cli/commands.def"
#undef CELLZOO_COMMAND
};

void print_usage(std::ostream& out) {
  out << "cellzoo " CELLZOO_VERSION " - compare recurrent cell architectures at scale\n\n"
      << "usage: cellzoo <command> [options]   (cellzoo <command> --help for its options)\n\n"
      << "commands:\n";
  for (const auto& c : kCommands) {
    std::string name = c.name;
    name.resize(12, ' ');
    out << "  " << name << c.summary << "\n";
  }
}

}  // namespace

// Keeps freed memory in the process instead of returning it to the operating system.
// Cells size their workspaces by the batch's steps, so at batch 1 (Greff's protocol)
// every sequence frees and allocates buffers of a few hundred KB; with glibc's defaults
// each of those is an mmap/munmap (above the 128 KiB threshold) or a trim of the heap's
// top, and every page is faulted in again: about 40 % of a JSB epoch
// (docs/performance.md). With these settings the buffers come from the heap and stay
// mapped; peak memory is unchanged (it is what a run needs at its longest sequence).
static void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum: larger blocks are still mapped
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

int main(int argc, char** argv) {
  keep_freed_memory();
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    print_usage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    // The provenance every results file records (docs/results-format.md).
    const auto& b = cellzoo::build_info();
    const auto& h = cellzoo::host_info();
    std::cout << "cellzoo " << b.version << "\n"
              << "commit:         " << b.git_commit
              << (b.git_dirty == "yes"  ? " (dirty; diff sha256 " + b.git_diff_hash + ")"
                  : b.git_dirty == "no" ? ""
                                        : " (dirty: unknown)")
              << "\n"
              << "compiler:       " << b.compiler << "\n"
              << "compile flags:  " << b.compile_flags
              << (b.march.empty() ? "" : " (-march=native = " + b.march + ")") << "\n"
              << "instruction sets: " << b.isa << "\n"
              << "Eigen:          " << b.eigen_version << "\n"
              << "GEMM (all steps): "
              << (cellzoo::blas::uses_openblas() ? cellzoo::blas::description() : "Eigen") << "\n"
              << "host CPU:       " << h.cpu_model << "\n"
              << "OS:             " << h.os << "\n"
              << "C library:      " << h.libc << " (libm " << h.libm_variant << ")\n"
              << "numerical path: " << cellzoo::numerical_path() << "\n";
    return 0;
  }
  const std::string name = argv[1];
  // Cells written in the cell language (file:PATH, cell:TEXT) resolve like built-ins.
  cellzoo::lang::install_language_cells(cellzoo::cells::CellRegistry::instance());
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    try {
      // OpenBLAS (util/blas.hpp) is loaded here, before any worker thread exists: the
      // loading sets environment variables for a moment.
      cellzoo::blas::description();
      return c.run(std::vector<std::string>(argv + 2, argv + argc));
    } catch (const cellzoo::Error& e) {
      std::cerr << "cellzoo " << name << ": error: " << e.what() << "\n";
      if (!e.hint().empty()) std::cerr << "  hint: " << e.hint() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "cellzoo " << name << ": internal error: " << e.what() << "\n";
      return 3;
    }
  }
  std::cerr << "cellzoo: unknown command '" << name << "'\n\n";
  print_usage(std::cerr);
  return 2;
}
