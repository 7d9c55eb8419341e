// The plugin entry point: how a shared library built against the installed SDK adds its
// cells to a cellzoo at run time (docs/plugins.md walks through it).
//
// A plugin defines its cells exactly as a built-in cell file does (framework/cells/*.cpp)
// and registers them in one block:
//
//   #include "framework/cells/plugin.hpp"
//   CELLZOO_PLUGIN(registry) {
//     registry.add<MguCell>({"mgu", "mgu", "minimal gated unit (Zhou et al. 2016)", "..."});
//   }
//
// CELLZOO_PLUGIN defines the one exported C function, cellzoo_plugin_register. cellzoo
// (framework/plugins/loader.hpp) calls it twice: first with registry == NULL, to read the
// SDK identity the plugin was compiled against, then, only if that equals its own, with a
// fresh registry that receives the plugin's cells. The identity names the cellzoo version,
// a hash of the SDK headers and the Eigen ABI (version and SIMD alignment): a plugin built
// against other headers or with other vector flags would otherwise crash, so it is refused
// with both identities in the message. An exception thrown while registering is returned
// as text, never across the C boundary.
#pragma once

#include <cstring>
#include <exception>
#include <string>

#include "framework/cells/registry.hpp"
#include "framework/cells/sdk_version.hpp"
#include "framework/util/error.hpp"

#define CELLZOO_SDK_STR2(x) #x
#define CELLZOO_SDK_STR(x) CELLZOO_SDK_STR2(x)
// E.g. "cellzoo 0.1.0 (sdk 3f2a9c0d11b7; Eigen 3.4.0, 64-byte alignment)". Expanded in the
// translation unit that uses it, so a plugin's entry point carries the plugin's own flags.
#define CELLZOO_SDK_EIGEN_VERSION      \
  CELLZOO_SDK_STR(EIGEN_WORLD_VERSION) \
  "." CELLZOO_SDK_STR(EIGEN_MAJOR_VERSION) "." CELLZOO_SDK_STR(EIGEN_MINOR_VERSION)
#define CELLZOO_SDK_IDENTITY                                                                    \
  "cellzoo " CELLZOO_SDK_VERSION " (sdk " CELLZOO_SDK_HASH "; Eigen " CELLZOO_SDK_EIGEN_VERSION \
  ", " CELLZOO_SDK_STR(EIGEN_MAX_ALIGN_BYTES) "-byte alignment)"

extern "C" {
// The argument of cellzoo_plugin_register. Its layout never changes.
struct cellzoo_plugin_call {
  const char* host_identity;    // in: CELLZOO_SDK_IDENTITY of the loading cellzoo
  void* registry;               // in: a cellzoo::cells::CellRegistry*, or NULL (see above)
  const char* plugin_identity;  // out: CELLZOO_SDK_IDENTITY of the plugin (static storage)
  char error[2048];             // out: why the call failed, when it returns non-zero
};
}

// Return values of cellzoo_plugin_register.
#define CELLZOO_PLUGIN_OK 0
#define CELLZOO_PLUGIN_VERSION_MISMATCH 1
#define CELLZOO_PLUGIN_REGISTRATION_FAILED 2

namespace cellzoo::cells::plugin_detail {

inline void copy_text(char* out, std::size_t size, const char* text) {
  std::strncpy(out, text, size - 1);
  out[size - 1] = '\0';
}

// The body of cellzoo_plugin_register; inline, so it is compiled into the plugin.
inline int register_plugin(cellzoo_plugin_call* call, void (*cells)(CellRegistry&)) noexcept {
  call->plugin_identity = CELLZOO_SDK_IDENTITY;
  if (!call->registry) return CELLZOO_PLUGIN_OK;
  if (std::strcmp(call->host_identity, CELLZOO_SDK_IDENTITY) != 0)
    return CELLZOO_PLUGIN_VERSION_MISMATCH;
  try {
    cells(*static_cast<CellRegistry*>(call->registry));
    return CELLZOO_PLUGIN_OK;
  } catch (const Error& e) {
    std::string text = e.what();
    if (!e.hint().empty()) text += " (hint: " + e.hint() + ")";
    copy_text(call->error, sizeof call->error, text.c_str());
  } catch (const std::exception& e) {
    copy_text(call->error, sizeof call->error, e.what());
  } catch (...) {
    copy_text(call->error, sizeof call->error, "an exception that is not a std::exception");
  }
  return CELLZOO_PLUGIN_REGISTRATION_FAILED;
}

}  // namespace cellzoo::cells::plugin_detail

// Defines the plugin's entry point; the braces that follow are the body of a function
// that receives the registry as `registry_name`. One per plugin.
#define CELLZOO_PLUGIN(registry_name)                                                     \
  static void cellzoo_plugin_cells(::cellzoo::cells::CellRegistry&);                      \
  extern "C" __attribute__((visibility("default"))) int cellzoo_plugin_register(          \
      cellzoo_plugin_call* call) {                                                        \
    return ::cellzoo::cells::plugin_detail::register_plugin(call, &cellzoo_plugin_cells); \
  }                                                                                       \
  static void cellzoo_plugin_cells(::cellzoo::cells::CellRegistry& registry_name)
