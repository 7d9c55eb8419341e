// The training-step benchmark behind `cellzoo bench` (workload and FLOP model of
// docs/performance.md). One step: forward over the sequence, a linear readout
// hidden -> input size at every step, MSE against a random target, backward through the
// readout and the cell, and SGD with momentum (lr 0.01, momentum 0.9) on every
// parameter; float32, on the calling thread. Also times Eigen's SGEMM on the shapes an
// LSTM of the same size multiplies, as the machine's reference rate.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

struct BenchSize {
  std::string name;  // "T", "S", "M", "L", "G"
  Index input, hidden, batch, length;
};

// T (8, 32, 16, 200), S (32, 128, 32, 100), M (128, 256, 32, 100), L (256, 512, 64, 50),
// and G (88, 100, 1, 60): Greff et al.'s JSB regime (88 keys, 100 blocks, one sequence
// per update, a typical chorale's length), where per-step overheads and the optimiser's
// pass over all parameters after every sequence weigh most.
const std::vector<BenchSize>& bench_sizes();
// Throws cellzoo::Error listing the valid names when `name` is unknown.
const BenchSize& find_bench_size(std::string_view name);

// G of the FLOP model: 1 for family rnn, 3 for gru and mut, 4 for lstm; other cells
// (cell language) count their input-weight rows / H, at least 1.
Index flop_gate_count(const CellEntry& entry, const Cell<float>& cell);
// FLOPs of one step: forward 2GHIBT + 2GHHBT + 2IHBT, backward twice that; each layer
// above the first adds 3 x (2GHHBT + 2GHHBT).
double train_step_flops(Index gates, Index input, Index hidden, Index batch, Index length,
                        int layers = 1);

class TrainStepBench {
 public:
  // Square-input cells (MUT1, MUT2) run with input = hidden instead of size.input. With
  // layers > 1 or dropout > 0 the cell is a CellStack drawing fresh dropout masks every
  // step, as in training.
  TrainStepBench(const CellEntry& entry, const BenchSize& size, std::uint64_t seed = 1,
                 int layers = 1, double dropout = 0);
  float step();  // one training step; returns the loss before the update
  Index input() const { return input_; }
  Index gates() const { return gates_; }
  double flops() const;

 private:
  BenchSize size_;
  Index input_, gates_;
  int layers_;
  Rng dropout_rng_;
  std::unique_ptr<Cell<float>> cell_;
  SequenceLayout seq_;
  Vector<float> theta_, dtheta_, vtheta_, c_, dc_, vc_;
  Matrix<float> V_, dV_, vV_, x_, target_, h_, y_, dy_, dh_;
};

// Warms fn up, then times `blocks` blocks of repeated calls, each lasting at least
// `min_block_seconds`; returns the median (wall) seconds per call, and with `cpu` also the
// median CPU seconds of the calling thread per call (on a shared machine, the time the
// work itself took).
double median_seconds_per_call(const std::function<void()>& fn, int blocks,
                               double min_block_seconds, double* cpu = nullptr);
// CPU seconds used by the calling thread so far.
double thread_cpu_seconds();

struct GemmShape {
  std::string label;  // e.g. "4HxH*HxB"
  Index m, k, n;      // [m x k] * [k x n]
};
// The recurrent [4H x H]*[H x B] and all-steps input [4H x I]*[I x T*B] products.
std::vector<GemmShape> bench_gemm_shapes(const BenchSize& size);
// The GEMM implementations `sgemm_gflops` can time: "eigen" (Eigen's product),
// "eigen-packed" (the per-step products' kernel: the left operand packed once,
// packed_gemm.hpp) and, in a build with OpenBLAS, "openblas" (util/blas.hpp).
std::vector<std::string> gemm_libraries();
// Single-thread SGEMM rate of one library in GFLOP/s (median of blocks, wall time; with
// `cpu_gflops` also by the thread's CPU time).
double sgemm_gflops(const GemmShape& shape, const std::string& library, int blocks,
                    double min_block_seconds, double* cpu_gflops = nullptr);

}  // namespace cellzoo::cells
