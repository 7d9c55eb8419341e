// The all-steps products (see blas.hpp): Eigen's product, or OpenBLAS loaded at first use.
#include "framework/util/blas.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <type_traits>

#include "framework/util/error.hpp"

#ifdef CELLZOO_OPENBLAS_LIBRARY
#include <dlfcn.h>

#include <cblas.h>
#endif

namespace cellzoo::blas {
namespace {

template <typename S>
[[maybe_unused]] void eigen_gemm(const ConstMatrixRef<S>& a, bool ta, const ConstMatrixRef<S>& b,
                                 bool tb, MatrixRef<S>& c, bool acc) {
  if (!ta && !tb) {
    if (acc)
      c.noalias() += a * b;
    else
      c.noalias() = a * b;
  } else if (!ta && tb) {
    if (acc)
      c.noalias() += a * b.transpose();
    else
      c.noalias() = a * b.transpose();
  } else if (ta && !tb) {
    if (acc)
      c.noalias() += a.transpose() * b;
    else
      c.noalias() = a.transpose() * b;
  } else {
    if (acc)
      c.noalias() += a.transpose() * b.transpose();
    else
      c.noalias() = a.transpose() * b.transpose();
  }
}

#ifdef CELLZOO_OPENBLAS_LIBRARY

// Products of at least kOpenBlasFrom multiply-adds (m n k) whose result has at least
// kOpenBlasMinSide rows and columns go to OpenBLAS, the others to Eigen (measured:
// blas.hpp).
constexpr Index kOpenBlasFrom = Index(1) << 23;
constexpr Index kOpenBlasMinSide = 64;

struct OpenBlas {
  decltype(&cblas_sgemm) sgemm = nullptr;
  decltype(&cblas_dgemm) dgemm = nullptr;
  std::string description;
};

// Sets `name` to `value` for the duration of the loading (OpenBLAS reads its environment
// when it is loaded), then restores it, so child processes see the user's environment.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// OpenBLAS's kernels for this processor's instruction sets (see blas.hpp), or nullptr to
// leave the choice to OpenBLAS.
const char* core_for_this_processor() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

template <typename F>
F symbol(void* handle, const char* name) {
  void* p = dlsym(handle, name);
  if (!p)
    throw Error(std::string("OpenBLAS (") + CELLZOO_OPENBLAS_LIBRARY + ") has no " + name,
                "install Debian's libopenblas0-pthread, or build with -DCELLZOO_OPENBLAS=OFF");
  return reinterpret_cast<F>(p);
}

const OpenBlas& openblas() {
  static const OpenBlas lib = [] {
    void* handle = nullptr;
    {
      std::optional<ScopedEnv> core;
      const char* wanted = core_for_this_processor();
      if (wanted && !std::getenv("OPENBLAS_CORETYPE")) core.emplace("OPENBLAS_CORETYPE", wanted);
      // One thread, and no thread pool: TBB runs whole runs in parallel, never a product.
      const ScopedEnv threads("OPENBLAS_NUM_THREADS", "1");
      handle = dlopen(CELLZOO_OPENBLAS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
      if (!handle) handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    }
    if (!handle)
      throw Error(
          std::string("cannot load OpenBLAS (") + CELLZOO_OPENBLAS_LIBRARY + "): " + dlerror(),
          "install Debian's libopenblas0-pthread, or build with -DCELLZOO_OPENBLAS=OFF");
    OpenBlas b;
    b.sgemm = symbol<decltype(&cblas_sgemm)>(handle, "cblas_sgemm");
    b.dgemm = symbol<decltype(&cblas_dgemm)>(handle, "cblas_dgemm");
    symbol<void (*)(int)>(handle, "openblas_set_num_threads")(1);
    const std::string config = symbol<char* (*)()>(handle, "openblas_get_config")();
    const std::string core = symbol<char* (*)()>(handle, "openblas_get_corename")();
    // The config starts "OpenBLAS 0.3.21 ...": keep the name and the version.
    const auto space = config.find(' ', config.find(' ') + 1);
    b.description = config.substr(0, space) + " " + core;
    return b;
  }();
  return lib;
}

#endif

}  // namespace

template <typename S>
void gemm(const ConstMatrixRef<S>& a, bool ta, const ConstMatrixRef<S>& b, bool tb, MatrixRef<S> c,
          bool acc) {
#ifdef CELLZOO_OPENBLAS_LIBRARY
  const Index m = c.rows(), n = c.cols(), k = ta ? a.rows() : a.cols();
  if (m * n * k < kOpenBlasFrom || std::min(m, n) < kOpenBlasMinSide) {  // Eigen's (blas.hpp)
    eigen_gemm<S>(a, ta, b, tb, c, acc);
    return;
  }
  const auto& lib = openblas();
  const auto opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  const auto i = [](Index v) { return static_cast<blasint>(v); };
  const Index lda = std::max<Index>(1, a.outerStride()), ldb = std::max<Index>(1, b.outerStride()),
              ldc = std::max<Index>(1, c.outerStride());
  if constexpr (std::is_same_v<S, float>)
    lib.sgemm(CblasColMajor, opa, opb, i(m), i(n), i(k), 1.0f, a.data(), i(lda), b.data(), i(ldb),
              acc ? 1.0f : 0.0f, c.data(), i(ldc));
  else
    lib.dgemm(CblasColMajor, opa, opb, i(m), i(n), i(k), 1.0, a.data(), i(lda), b.data(), i(ldb),
              acc ? 1.0 : 0.0, c.data(), i(ldc));
#else
  eigen_gemm<S>(a, ta, b, tb, c, acc);
#endif
}

bool uses_openblas() {
#ifdef CELLZOO_OPENBLAS_LIBRARY
  return true;
#else
  return false;
#endif
}

const std::string& description() {
#ifdef CELLZOO_OPENBLAS_LIBRARY
  return openblas().description;
#else
  static const std::string none;
  return none;
#endif
}

template void gemm<float>(const ConstMatrixRef<float>&, bool, const ConstMatrixRef<float>&, bool,
                          MatrixRef<float>, bool);
template void gemm<double>(const ConstMatrixRef<double>&, bool, const ConstMatrixRef<double>&, bool,
                           MatrixRef<double>, bool);

}  // namespace cellzoo::blas
