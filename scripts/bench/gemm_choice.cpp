// Which GEMM for which product (docs/performance.md): Eigen's product, Eigen's kernel with
// the left operand packed once (cells/packed_gemm.hpp: the per-step products), and
// OpenBLAS's cblas_sgemm, on the products of a training step at bench sizes M, L, S and G
// and two large square-ish products ("peak"). Rounds interleave every implementation of
// every product; GFLOP/s by the thread's CPU time (median, min, max over rounds) and wall.
// Build and run from the repository root (OPENBLAS_CORETYPE: see framework/util/blas.hpp):
//   g++ -O3 -DNDEBUG -std=c++20 -march=native -DEIGEN_DONT_PARALLELIZE -I. -I/usr/include/eigen3 \
//     -I/usr/include/x86_64-linux-gnu/openblas-pthread scripts/bench/gemm_choice.cpp \
//     framework/cells/packed_gemm.cpp -o /tmp/gemm_choice \
//     -L/usr/lib/x86_64-linux-gnu/openblas-pthread -lopenblas
//   OPENBLAS_CORETYPE=SkylakeX /tmp/gemm_choice ROUNDS BLOCK_SECONDS SIZES   # e.g. 5 0.15 MLP
// SIZES: any of M L S G T, and P for the "peak" products.
#include <Eigen/Dense>
#include <cblas.h>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <vector>
#include "framework/cells/packed_gemm.hpp"
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename();
extern "C" char* openblas_get_config();
using M = Eigen::MatrixXf;
using cellzoo::cells::PackedLhs;
static double tcpu() { timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec + 1e-9 * ts.tv_nsec; }
static double wall() { timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + 1e-9 * ts.tv_nsec; }
struct Impl { std::string name; std::function<void()> fn; std::vector<double> cpu, wl; long calls = 0; };
struct Case { std::string label; double flops; std::vector<Impl> impls; };
int main(int argc, char** argv) {
  openblas_set_num_threads(1);
  std::printf("OpenBLAS: %s / core %s\n", openblas_get_config(), openblas_get_corename());
  int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  double block = argc > 2 ? std::atof(argv[2]) : 0.15;
  std::string only = argc > 3 ? argv[3] : "";
  std::vector<Case> cases;
  std::vector<M*> keep;
  auto mk = [&](long r, long c) { M* m = new M(M::Random(r, c)); keep.push_back(m); return m; };
  // C(m x n) (+)= op(A) op(B), A col-major
  auto add_nn = [&](const std::string& label, long m, long k, long n, bool acc, bool packed) {
    M *A = mk(m, k), *B = mk(k, n), *C = mk(m, n);
    Case cs{label + (acc ? " +=" : " =") + " [" + std::to_string(m) + "x" + std::to_string(k) + "]*[" + std::to_string(k) + "x" + std::to_string(n) + "]", 2.0 * m * k * n, {}};
    cs.impls.push_back({"eigen", [=] { if (acc) C->noalias() += (*A) * (*B); else C->noalias() = (*A) * (*B); }});
    if (packed) {
      auto* P = new PackedLhs<float>(); P->pack(*A, n);
      cs.impls.push_back({"eigen-packed", [=] { P->multiply_add(*B, *C); }});
      cs.impls.push_back({"eigen-pack+mul", [=] { P->pack(*A, n); P->multiply_add(*B, *C); }});
    }
    cs.impls.push_back({"openblas", [=] { cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, A->data(), m, B->data(), k, acc ? 1.f : 0.f, C->data(), m); }});
    cases.push_back(cs);
  };
  // C = A^T B with A (k x m): per-step backward R^T d
  auto add_tn = [&](const std::string& label, long m, long k, long n, bool packed) {
    M *A = mk(k, m), *B = mk(k, n), *C = mk(m, n);
    Case cs{label + " += [" + std::to_string(k) + "x" + std::to_string(m) + "]^T*[" + std::to_string(k) + "x" + std::to_string(n) + "]", 2.0 * m * k * n, {}};
    cs.impls.push_back({"eigen", [=] { C->noalias() += A->transpose() * (*B); }});
    if (packed) {
      auto* P = new PackedLhs<float>(); P->pack_transposed(*A, n);
      cs.impls.push_back({"eigen-packed", [=] { P->multiply_add(*B, *C); }});
      cs.impls.push_back({"eigen-pack+mul", [=] { P->pack_transposed(*A, n); P->multiply_add(*B, *C); }});
    }
    cs.impls.push_back({"openblas", [=] { cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, m, n, k, 1.f, A->data(), k, B->data(), k, 1.f, C->data(), m); }});
    cases.push_back(cs);
  };
  // C = A B^T, A (m x k), B (n x k): weight gradients
  auto add_nt = [&](const std::string& label, long m, long k, long n) {
    M *A = mk(m, k), *B = mk(n, k), *C = mk(m, n);
    Case cs{label + " = [" + std::to_string(m) + "x" + std::to_string(k) + "]*[" + std::to_string(n) + "x" + std::to_string(k) + "]^T", 2.0 * m * k * n, {}};
    cs.impls.push_back({"eigen", [=] { C->noalias() = (*A) * B->transpose(); }});
    cs.impls.push_back({"openblas", [=] { cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, m, n, k, 1.f, A->data(), m, B->data(), n, 0.f, C->data(), m); }});
    cases.push_back(cs);
  };
  struct Sz { const char* n; long I, H, B, T; };
  for (Sz s : {Sz{"M", 128, 256, 32, 100}, Sz{"L", 256, 512, 64, 50}, Sz{"S", 32, 128, 32, 100}, Sz{"G", 88, 100, 1, 60}, Sz{"T", 8, 32, 16, 200}}) {
    if (!only.empty() && only.find(s.n) == std::string::npos) continue;
    std::string p = std::string(s.n) + " ";
    long GH = 4 * s.H, TB = s.T * s.B;
    add_nn(p + "step R*h", GH, s.H, s.B, true, true);
    add_tn(p + "step R^T*d", s.H, GH, s.B, true);
    add_nn(p + "all W*x", GH, s.I, TB, true, false);
    add_nt(p + "all dW=d*x^T", GH, TB, s.I);
    add_nt(p + "all dR=d*y^T", GH, TB, s.H);
    add_nn(p + "all Wl2*y (layer2 in)", GH, s.H, TB, true, false);
    add_tn(p + "all dx=W^T*d", s.I, GH, TB, false);
    add_nn(p + "readout V*h", s.I, s.H, TB, false, false);
    add_nt(p + "readout dV=dy*h^T", s.I, TB, s.H);
    add_tn(p + "readout dh=V^T*dy", s.H, s.I, TB, false);
  }
  if (only.empty() || only.find("P") != std::string::npos) {
    add_nn("peak", 1024, 1024, 1024, false, false);
    add_nn("peak", 2048, 512, 2048, false, false);
  }
  // warm-up + calibrate
  for (auto& c : cases) for (auto& im : c.impls) {
    im.fn(); double t0 = tcpu(); long n = 0; do { im.fn(); ++n; } while (tcpu() - t0 < 0.03);
    im.calls = std::max(1L, (long)(block / ((tcpu() - t0) / n)));
  }
  for (int r = 0; r < rounds; ++r)
    for (auto& c : cases) {
      int K = c.impls.size();
      for (int j = 0; j < K; ++j) {
        auto& im = c.impls[(j + r) % K];
        double w0 = wall(), t0 = tcpu();
        for (long i = 0; i < im.calls; ++i) im.fn();
        im.cpu.push_back((tcpu() - t0) / im.calls); im.wl.push_back((wall() - w0) / im.calls);
      }
    }
  auto med = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  std::printf("%-58s %-15s %9s %9s %9s %9s\n", "case", "impl", "GF cpu", "min..", "max..", "GF wall");
  for (auto& c : cases) for (auto& im : c.impls) {
    auto v = im.cpu; std::sort(v.begin(), v.end());
    std::printf("%-58s %-15s %9.1f %9.1f %9.1f %9.1f\n", c.label.c_str(), im.name.c_str(), c.flops / med(im.cpu) * 1e-9, c.flops / v.back() * 1e-9, c.flops / v.front() * 1e-9, c.flops / med(im.wl) * 1e-9);
  }
}
