#include "framework/plugins/loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>

#include "framework/cells/plugin.hpp"
#include "framework/util/error.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::plugins {
namespace fs = std::filesystem;

namespace {

const char* const kHowToBuild =
    "a plugin is a shared library built against the installed cellzoo SDK; see "
    "docs/plugins.md";

std::deque<Plugin>& load_order() {  // a deque: the records load_plugin returns never move
  static std::deque<Plugin> plugins;
  return plugins;
}

// Cell names end up in run labels ("mgu/hidden:64/trial:0") and file names: letters,
// digits, '-', '_' and '.', starting with a letter or digit.
bool valid_cell_name(const std::string& name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

using EntryPoint = int (*)(cellzoo_plugin_call*);

}  // namespace

const char* host_identity() {
  return CELLZOO_SDK_IDENTITY;
}

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path + "'");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::uint64_t a = hash64(bytes, 0x706c7567696e3031ULL);
  const std::uint64_t b = hash64(bytes, a);
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return hex;
}

const Plugin& load_plugin(const std::string& path, cells::CellRegistry& registry) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error("plugin '" + path + "' does not exist",
                "pass the path of the plugin's .so file (a relative path is relative to the "
                "current directory; in a spec, to the spec's directory)");
  if (fs::is_directory(path, ec))
    throw Error("plugin '" + path + "' is a directory",
                "pass the plugin's .so file (CELLZOO_PLUGIN_PATH accepts directories)");
  const std::string canonical = fs::canonical(path, ec).string();
  if (ec) throw Error("cannot resolve plugin path '" + path + "': " + ec.message());
  for (const auto& p : load_order())
    if (p.path == canonical) return p;

  Plugin plugin;
  plugin.path = canonical;
  plugin.hash = file_hash(canonical);
  // RTLD_LOCAL: two plugins may both define helpers of the same name.
  void* handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw Error("cannot load plugin '" + path + "': " + (why ? why : "unknown dlopen error"),
                kHowToBuild);
  }
  dlerror();
  auto entry = reinterpret_cast<EntryPoint>(dlsym(handle, "cellzoo_plugin_register"));
  if (!entry)
    throw Error("'" + path +
                    "' is a shared library but not a cellzoo plugin: it exports no "
                    "cellzoo_plugin_register function",
                "register the cells in a CELLZOO_PLUGIN(registry) { ... } block "
                "(framework/cells/plugin.hpp); see docs/plugins.md");

  const auto mismatch = [&](const char* theirs) {
    return Error("plugin '" + path + "' was built against " + (theirs ? theirs : "(no identity)") +
                     ", but this is " + host_identity(),
                 "rebuild the plugin against this cellzoo's SDK: cmake --install <cellzoo "
                 "build> --prefix DIR, then configure the plugin with -DCMAKE_PREFIX_PATH=DIR "
                 "(docs/plugins.md)");
  };
  cellzoo_plugin_call call{};
  call.host_identity = host_identity();
  call.registry = nullptr;  // first ask which SDK it was built against
  if (entry(&call) != CELLZOO_PLUGIN_OK || !call.plugin_identity ||
      std::strcmp(call.plugin_identity, host_identity()) != 0)
    throw mismatch(call.plugin_identity);
  plugin.identity = call.plugin_identity;

  cells::CellRegistry staged;  // the plugin's cells, added to `registry` only if all is well
  call = cellzoo_plugin_call{};
  call.host_identity = host_identity();
  call.registry = &staged;
  const int status = entry(&call);
  if (status == CELLZOO_PLUGIN_VERSION_MISMATCH) throw mismatch(call.plugin_identity);
  if (status != CELLZOO_PLUGIN_OK)
    throw Error("plugin '" + path + "' failed while registering its cells: " +
                    std::string(call.error[0] ? call.error : "(no message)"),
                "fix the plugin's CELLZOO_PLUGIN block");
  plugin.cells = staged.names();
  if (plugin.cells.empty())
    throw Error("plugin '" + path + "' registered no cells",
                "add its cells with registry.add<...>(...) in its CELLZOO_PLUGIN block");
  for (const auto& name : plugin.cells) {
    if (!valid_cell_name(name))
      throw Error("plugin '" + path + "' registers a cell named '" + name +
                      "'; cell names are letters, digits, '-', '_' and '.'",
                  "rename the cell in the plugin");
    if (registry.contains(name)) {  // names without ':' never reach a resolver
      const Plugin* other = plugin_of(name);
      const std::string taken =
          other ? "a cell of plugin '" + other->path + "'" : std::string("a built-in cell");
      throw Error("plugin '" + path + "' registers cell '" + name + "', which is already " + taken,
                  "rename the cell in the plugin; cell names must be unique");
    }
  }
  for (const auto& name : plugin.cells) registry.add(staged.get(name));
  load_order().push_back(std::move(plugin));
  return load_order().back();
}

std::vector<std::string> environment_plugins() {
  const char* env = std::getenv("CELLZOO_PLUGIN_PATH");
  std::vector<std::string> out;
  if (!env) return out;
  const std::string text = env;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(':', start), text.size());
    const std::string item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    std::error_code ec;
    if (fs::is_directory(item, ec)) {
      std::vector<std::string> files;
      for (const auto& f : fs::directory_iterator(item, ec))
        if (f.is_regular_file() && f.path().extension() == ".so")
          files.push_back(f.path().string());
      std::sort(files.begin(), files.end());
      out.insert(out.end(), files.begin(), files.end());
    } else {
      out.push_back(item);
    }
  }
  return out;
}

void load_plugins(const std::vector<std::string>& paths) {
  for (const auto& p : environment_plugins()) {
    try {
      load_plugin(p);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + " (from CELLZOO_PLUGIN_PATH)", e.hint());
    }
  }
  for (const auto& p : paths) load_plugin(p);
}

std::vector<Plugin> loaded_plugins() {
  return {load_order().begin(), load_order().end()};
}

const Plugin* plugin_of(const std::string& cell) {
  for (const auto& p : load_order())
    if (std::binary_search(p.cells.begin(), p.cells.end(), cell)) return &p;
  return nullptr;
}

}  // namespace cellzoo::plugins
