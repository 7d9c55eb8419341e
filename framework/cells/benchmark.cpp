// The training-step benchmark (see benchmark.hpp).
#include "framework/cells/benchmark.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "framework/cells/cell_stack.hpp"
#include "framework/cells/packed_gemm.hpp"
#include "framework/util/blas.hpp"
#include "framework/util/error.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::cells {
namespace {

constexpr float kLearningRate = 0.01f;
constexpr float kMomentum = 0.9f;

template <typename Derived>
void fill_uniform(Eigen::DenseBase<Derived>& m, Rng& rng, double bound) {
  for (Index j = 0; j < m.cols(); ++j)
    for (Index i = 0; i < m.rows(); ++i) m(i, j) = static_cast<float>(rng.uniform(-bound, bound));
}

// velocity = momentum * velocity + gradient; parameters -= lr * velocity, in L1-sized
// blocks (one pass over the three arrays, as the trainer's optimiser).
void momentum_update(float* param, const float* grad, float* velocity, Index size) {
  constexpr Index kBlock = 4096;
  for (Index i = 0; i < size; i += kBlock) {
    const Index n = std::min(kBlock, size - i);
    Eigen::Map<Eigen::ArrayXf> p(param + i, n), v(velocity + i, n);
    const Eigen::Map<const Eigen::ArrayXf> g(grad + i, n);
    v = kMomentum * v + g;
    p -= kLearningRate * v;
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const std::vector<BenchSize>& bench_sizes() {
  static const std::vector<BenchSize> sizes = {
      {"T", 8, 32, 16, 200},   {"S", 32, 128, 32, 100}, {"M", 128, 256, 32, 100},
      {"L", 256, 512, 64, 50}, {"G", 88, 100, 1, 60},
  };
  return sizes;
}

const BenchSize& find_bench_size(std::string_view name) {
  for (const auto& s : bench_sizes())
    if (s.name == name) return s;
  std::string known;
  for (const auto& s : bench_sizes())
    known += (known.empty() ? "" : ", ") + s.name + " (I=" + std::to_string(s.input) +
             " H=" + std::to_string(s.hidden) + " B=" + std::to_string(s.batch) +
             " T=" + std::to_string(s.length) + ")";
  throw Error("unknown benchmark size '" + std::string(name) + "'", "valid sizes: " + known);
}

Index flop_gate_count(const CellEntry& entry, const Cell<float>& cell) {
  const auto& family = entry.info.family;
  if (family == "rnn") return 1;
  if (family == "gru" || family == "mut") return 3;
  if (family == "lstm") return 4;
  Index rows = 0;
  for (const auto& t : cell.layout().tensors())
    if (t.kind == ParamKind::input_weight) rows += t.rows;
  return std::max<Index>(1, rows / cell.hidden_size());
}

double train_step_flops(Index gates, Index input, Index hidden, Index batch, Index length,
                        int layers) {
  const double G = static_cast<double>(gates), I = static_cast<double>(input),
               H = static_cast<double>(hidden),
               BT = static_cast<double>(batch) * static_cast<double>(length);
  const double forward =
      2 * G * H * I * BT + 2 * G * H * H * BT + 2 * I * H * BT + (layers - 1) * 4 * G * H * H * BT;
  return 3 * forward;
}

TrainStepBench::TrainStepBench(const CellEntry& entry, const BenchSize& size, std::uint64_t seed,
                               int layers, double dropout)
    : size_(size),
      input_(entry.info.square_input ? size.hidden : size.input),
      layers_(layers),
      dropout_rng_(derive_seed(seed, "bench-dropout")),
      cell_(entry.make<float>(input_, size.hidden)),
      seq_(size.length, size.batch) {
  gates_ = flop_gate_count(entry, *cell_);
  if (layers != 1 || dropout > 0) {
    auto stack = std::make_unique<CellStack<float>>(entry, input_, size.hidden, layers, dropout);
    stack->set_name(entry.info.name);
    stack->set_dropout(DropoutMode::random, &dropout_rng_);
    cell_ = std::move(stack);
  }
  const Index H = size.hidden, I = input_, cols = seq_.columns();
  Rng rng(derive_seed(seed, "bench:" + entry.info.name + ":" + size.name));
  theta_.resize(cell_->parameter_count());
  cell_->initialize(theta_, rng, InitOptions{});
  dtheta_.setZero(theta_.size());
  vtheta_.setZero(theta_.size());
  V_.resize(I, H);
  fill_uniform(V_, rng, 1.0 / std::sqrt(static_cast<double>(H)));
  c_.setZero(I);
  dV_.setZero(I, H);
  vV_.setZero(I, H);
  dc_.setZero(I);
  vc_.setZero(I);
  x_.resize(I, cols);
  fill_uniform(x_, rng, 1.0);
  target_.resize(I, cols);
  fill_uniform(target_, rng, 1.0);
  h_.setZero(H, cols);
  y_.setZero(I, cols);
  dy_.setZero(I, cols);
  dh_.setZero(H, cols);
}

double TrainStepBench::flops() const {
  return train_step_flops(gates_, input_, size_.hidden, size_.batch, size_.length, layers_);
}

float TrainStepBench::step() {
  cell_->forward(theta_, x_, seq_, nullptr, h_, nullptr);
  blas::gemm<float>(V_, false, h_, false, y_, false);
  y_.colwise() += c_;
  // Mean squared error over all outputs and positions.
  const float scale = 1.0f / static_cast<float>(y_.size());
  dy_ = y_ - target_;
  const float loss = dy_.squaredNorm() * scale;
  dy_ *= 2 * scale;
  blas::gemm<float>(dy_, false, h_, true, dV_, false);
  dc_ = dy_.rowwise().sum();
  blas::gemm<float>(V_, true, dy_, false, dh_, false);
  cell_->backward(theta_, x_, seq_, dh_, dtheta_, nullptr);
  momentum_update(theta_.data(), dtheta_.data(), vtheta_.data(), theta_.size());
  momentum_update(V_.data(), dV_.data(), vV_.data(), V_.size());
  momentum_update(c_.data(), dc_.data(), vc_.data(), c_.size());
  return loss;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

}  // namespace

double median_seconds_per_call(const std::function<void()>& fn, int blocks,
                               double min_block_seconds, double* cpu) {
  // Warm-up: the first calls size the workspaces and fill the caches; it also estimates
  // the cost of one call.
  fn();
  Index warm = 0;
  const auto warm_start = std::chrono::steady_clock::now();
  do {
    fn();
    ++warm;
  } while (seconds_since(warm_start) < 0.25 * min_block_seconds);
  const double estimate = seconds_since(warm_start) / static_cast<double>(warm);
  const Index calls =
      std::max<Index>(1, static_cast<Index>(std::ceil(min_block_seconds / estimate)));

  std::vector<double> per_call, cpu_per_call;
  for (int b = 0; b < std::max(1, blocks); ++b) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_seconds();
    for (Index i = 0; i < calls; ++i) fn();
    per_call.push_back(seconds_since(start) / static_cast<double>(calls));
    cpu_per_call.push_back((thread_cpu_seconds() - cpu_start) / static_cast<double>(calls));
  }
  if (cpu) *cpu = median_of(cpu_per_call);
  return median_of(per_call);
}

std::vector<GemmShape> bench_gemm_shapes(const BenchSize& size) {
  const Index G = 4, H = size.hidden;
  return {{"4HxH*HxB", G * H, H, size.batch},
          {"4HxI*IxTB", G * H, size.input, size.length * size.batch}};
}

std::vector<std::string> gemm_libraries() {
  std::vector<std::string> libs = {"eigen", "eigen-packed"};
  if (blas::uses_openblas()) libs.push_back("openblas");
  return libs;
}

double sgemm_gflops(const GemmShape& shape, const std::string& library, int blocks,
                    double min_block_seconds, double* cpu_gflops) {
  Rng rng(derive_seed(1, "sgemm:" + shape.label));
  Matrix<float> a(shape.m, shape.k), b(shape.k, shape.n), c(shape.m, shape.n);
  fill_uniform(a, rng, 1.0);
  fill_uniform(b, rng, 1.0);
  PackedLhs<float> packed;
  std::function<void()> product;
  if (library == "eigen") {
    product = [&] { c.noalias() = a * b; };
  } else if (library == "eigen-packed") {  // a packed once, as the per-step products
    packed.pack(a, shape.n);
    product = [&] {
      c.setZero();
      packed.multiply_add(b, c);
    };
  } else if (library == "openblas" && blas::uses_openblas()) {
    product = [&] { blas::gemm<float>(a, false, b, false, c, false); };
  } else {
    throw Error("unknown GEMM library '" + library + "'", "eigen, eigen-packed or openblas");
  }
  double cpu = 0;
  const double seconds = median_seconds_per_call(product, blocks, min_block_seconds, &cpu);
  volatile float sink = c(0, 0);  // the product is used, so it cannot be optimised away
  (void)sink;
  const double flop = 2.0 * static_cast<double>(shape.m * shape.k * shape.n);
  if (cpu_gflops) *cpu_gflops = flop / cpu * 1e-9;
  return flop / seconds * 1e-9;
}

}  // namespace cellzoo::cells
