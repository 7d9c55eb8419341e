// Loading cell plugins: shared libraries built against the installed SDK whose
// cellzoo_plugin_register (framework/cells/plugin.hpp) adds cells to the registry.
//
// Where plugins come from: `--plugin PATH.so` on the commands that take cells, the
// `plugins = ...` key of a sweep spec, and CELLZOO_PLUGIN_PATH. Every failure is one
// cellzoo::Error naming the file: a missing file, a file that is not a shared library, a
// library without the entry point, a plugin built against another SDK (both identities
// named), a plugin that throws while registering, and a cell name that is already taken
// (by a built-in cell or another plugin). A failed plugin adds none of its cells.
//
// Loading changes the process-wide registry: call it before any thread uses cells. A
// loaded library is never unloaded (its code is the cells').
#pragma once

#include <string>
#include <vector>

#include "framework/cells/registry.hpp"

namespace cellzoo::plugins {

struct Plugin {
  std::string path;                // absolute, as loaded
  std::string hash;                // 32 hex digits: a hash of the file's bytes
  std::string identity;            // the SDK identity it was built against
  std::vector<std::string> cells;  // the names it registered, sorted
};

// The identity this cellzoo requires of plugins (CELLZOO_SDK_IDENTITY).
const char* host_identity();

// Loads the plugin at `path` into `registry` (the process-wide one by default) and
// returns what it registered. Loading a file that is already loaded (the same file, by
// any path) returns the earlier record and registers nothing.
const Plugin& load_plugin(const std::string& path,
                          cells::CellRegistry& registry = cells::CellRegistry::instance());

// The plugins of CELLZOO_PLUGIN_PATH: a colon-separated list of .so files and
// directories (a directory means every *.so file in it, sorted by name).
std::vector<std::string> environment_plugins();

// Loads the plugins of CELLZOO_PLUGIN_PATH, then `paths`, into the process-wide registry.
void load_plugins(const std::vector<std::string>& paths);

// Every plugin loaded so far, in load order.
std::vector<Plugin> loaded_plugins();

// The plugin that registered `cell`, or nullptr for a built-in or language cell.
const Plugin* plugin_of(const std::string& cell);

// 32 hex digits of a 128-bit hash of the file's bytes. Throws cellzoo::Error if the file
// cannot be read.
std::string file_hash(const std::string& path);

}  // namespace cellzoo::plugins
