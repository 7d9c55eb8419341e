#include "framework/util/build_info.hpp"

#include <gnu/libc-version.h>
#include <sys/utsname.h>

#include <Eigen/Core>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "framework/util/blas.hpp"

namespace cellzoo {

namespace build_stamp {  // generated at build time (cmake/BuildStamp.cmake)
extern const char* const kCommit;
extern const char* const kDirty;
extern const char* const kDiffHash;
extern const char* const kFlags;
extern const char* const kMarch;
}  // namespace build_stamp

namespace {

#if defined(__clang__)
constexpr const char* kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* kCompiler = "g++ " __VERSION__;
#else
constexpr const char* kCompiler = "unknown";
#endif

// The x86 extensions this translation unit (compiled with the framework's flags, like
// every kernel) may use, widest first.
std::string compiled_isa() {
  std::string isa;
  const auto add = [&](const char* name) { isa += (isa.empty() ? "" : " ") + std::string(name); };
#if defined(__AVX512F__)
  add("AVX-512F");
#endif
#if defined(__AVX512BW__)
  add("AVX-512BW");
#endif
#if defined(__AVX512DQ__)
  add("AVX-512DQ");
#endif
#if defined(__AVX512VL__)
  add("AVX-512VL");
#endif
#if defined(__FMA__)
  add("FMA");
#endif
#if defined(__AVX2__)
  add("AVX2");
#endif
#if defined(__AVX__)
  add("AVX");
#endif
#if defined(__SSE4_2__)
  add("SSE4.2");
#endif
#if defined(__SSE2__)
  add("SSE2");
#endif
#if defined(__x86_64__)
  return "x86-64 " + (isa.empty() ? std::string("(no SIMD)") : isa);
#else
  return isa.empty() ? std::string("unknown architecture") : isa;
#endif
}

std::string without_warning_flags(const std::string& flags) {
  std::istringstream in(flags);
  std::string word, out;
  while (in >> word)
    if (word.rfind("-W", 0) != 0) out += (out.empty() ? "" : " ") + word;
  return out;
}

std::string os_release() {
  std::ifstream in("/etc/os-release");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    auto value = line.substr(12);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return "";
}

}  // namespace

const BuildInfo& build_info() {
  static const BuildInfo info = [] {
    BuildInfo b;
    b.version = CELLZOO_VERSION;
    b.git_commit = build_stamp::kCommit;
    b.git_dirty = build_stamp::kDirty;
    b.git_diff_hash = build_stamp::kDiffHash;
    b.compiler = kCompiler;
    b.compile_flags = build_stamp::kFlags;
    b.march = build_stamp::kMarch;
    b.isa = compiled_isa();
    b.eigen_version = std::to_string(EIGEN_WORLD_VERSION) + "." +
                      std::to_string(EIGEN_MAJOR_VERSION) + "." +
                      std::to_string(EIGEN_MINOR_VERSION);
    b.native = (" " + b.compile_flags + " ").find(" -march=native ") != std::string::npos;
    return b;
  }();
  return info;
}

const HostInfo& host_info() {
  static const HostInfo info = [] {
    HostInfo h;
    h.cpu_model = "unknown";
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
      if (line.rfind("model name", 0) != 0) continue;
      const auto colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size())
        h.cpu_model = line.substr(colon + 2);
      break;
    }
    h.os = os_release();
    struct utsname u;
    if (uname(&u) == 0)
      h.os +=
          (h.os.empty() ? "" : "; ") + std::string(u.sysname) + " " + u.release + " " + u.machine;
    h.libc = std::string("glibc ") + gnu_get_libc_version();
#if defined(__x86_64__)
    // glibc's x86-64 libm (sysdeps/x86_64/fpu/multiarch) picks its FMA variants of exp, log,
    // pow, sin, ... when the processor has both FMA and AVX2.
    // GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA masks them for glibc (not for cpuid).
    __builtin_cpu_init();
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    const std::string masked = tunables ? tunables : "";
    const auto masked_out = [&](const std::string& name) {  // "-NAME" in the hwcaps list
      for (std::size_t at = masked.find("-" + name); at != std::string::npos;
           at = masked.find("-" + name, at + 1)) {
        const auto end = at + 1 + name.size();
        if (end == masked.size() || masked[end] == ',' || masked[end] == ':') return true;
      }
      return false;
    };
    const bool fma = __builtin_cpu_supports("fma") && !masked_out("FMA");
    const bool avx2 = __builtin_cpu_supports("avx2") && !masked_out("AVX2");
    const bool fma4 = __builtin_cpu_supports("fma4") && !masked_out("FMA4");
    h.libm_variant = fma && avx2 ? "fma" : fma4 ? "fma4" : "sse2";
#else
    h.libm_variant = "default";
#endif
    return h;
  }();
  return info;
}

const std::string& numerical_path() {
  static const std::string path = [] {
    const auto& b = build_info();
    const auto& h = host_info();
    std::string flags = without_warning_flags(b.compile_flags);
    if (!b.march.empty()) flags += " (native = " + b.march + ")";
    // The all-steps products' BLAS and its kernels on this processor (util/blas.hpp).
    const std::string& gemm = blas::description();
    return b.isa + "; " + b.compiler + "; " + flags + "; Eigen " + b.eigen_version +
           (gemm.empty() ? "" : "; " + gemm) + "; " + h.libc + " libm " + h.libm_variant;
  }();
  return path;
}

std::string short_commit() {
  const auto& b = build_info();
  std::string c = b.git_commit.size() > 12 ? b.git_commit.substr(0, 12) : b.git_commit;
  if (b.git_dirty == "yes") c += "-dirty";
  return c;
}

}  // namespace cellzoo
