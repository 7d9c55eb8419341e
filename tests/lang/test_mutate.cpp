// Mutation: every operator yields well-formed cells with the parent's states, chains of
// mutants parse, type-check and run, and random mutants have exact gradients.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "framework/cells/gradcheck.hpp"
#include "framework/lang/lang_cell.hpp"
#include "framework/lang/mutate.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::lang;

namespace {

CellText parent(std::size_t k) {
  const auto& texts = builtin_cell_texts();
  const auto& [name, text] = texts[k % texts.size()];
  return parse_cell(text, name + ".cell");
}

}  // namespace

TEST_CASE("mutation is deterministic under a seed and uses all six operators", "[lang][mutate]") {
  const CellText lstm = parse_cell(*builtin_cell_text("lstm"));
  Rng a(42), b(42);
  CHECK(canonical_text(mutate(lstm, a, 3)) == canonical_text(mutate(lstm, b, 3)));
  std::set<Mutation> used;
  Rng rng(1);
  for (int i = 0; i < 200; ++i) {
    Mutation m;
    const CellText child = mutate_once(lstm, rng, &m);
    used.insert(m);
    CHECK(child.states == lstm.states);
    CHECK(canonical_text(child, false) != canonical_text(lstm, false));
  }
  CHECK(used.size() == kMutationCount);
}

TEST_CASE("1,000 seeded mutation chains all parse, type-check and run", "[lang][mutate]") {
  const auto seq = cells::SequenceLayout::from_lengths({3, 2});
  for (std::uint64_t seed = 0; seed < 1000; ++seed) {
    Rng rng(derive_seed(seed, "mutation-chain"));
    const CellText start = parent(seed);
    const CellText child = mutate(start, rng, 1 + static_cast<int>(rng.below(5)));
    INFO("seed " << seed << ":\n" << canonical_text(child));
    const CellText again = parse_cell(canonical_text(child));
    REQUIRE(canonical_text(again) == canonical_text(child));
    const auto entry = make_entry(again, "mutant");
    CHECK(again.states == start.states);
    const Index H = 3, I = entry.info.square_input ? H : 2;
    auto cell = entry.make<double>(I, H);
    Vector<double> theta(cell->parameter_count());
    for (Index i = 0; i < theta.size(); ++i) theta[i] = rng.uniform(-0.5, 0.5);
    Matrix<double> x(I, seq.columns()), h(H, seq.columns());
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(-1, 1);
    cell->forward(theta, x, seq, nullptr, h, nullptr);
    Vector<double> g(theta.size());
    Matrix<double> dx;
    cell->backward(theta, x, seq, h, g, &dx);
    CHECK(h.allFinite());
    CHECK(g.allFinite());
  }
}

// Whether the analytic gradient of `tensor` vanishes (e.g. h' = identity(h) * z + h * (1 - z)
// cancels z exactly): the relative error of two vanishing gradients measures only noise.
bool vanishing_gradient(const cells::CellEntry& entry, Index I, Index H,
                        const std::string& tensor) {
  auto cell = entry.make<double>(I, H);
  const auto seq = cells::SequenceLayout::from_lengths({3, 2});
  Rng rng(5);
  Vector<double> theta(cell->parameter_count()), g(cell->parameter_count());
  for (Index i = 0; i < theta.size(); ++i) theta[i] = rng.uniform(-0.6, 0.6);
  Matrix<double> x(I, seq.columns()), h(H, seq.columns());
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(-1, 1);
  cell->forward(theta, x, seq, nullptr, h, nullptr);
  cell->backward(theta, x, seq, Matrix<double>::Ones(H, seq.columns()), g, nullptr);
  const auto& t = cell->layout().find(tensor);
  return g.segment(t.offset, t.size()).norm() < 1e-9;
}

TEST_CASE("gradient check of 1,000 random mutants", "[lang][mutate][gradcheck]") {
  // One small problem each (batch 2, variable length) keeps this to a few seconds.
  int checked = 0, vanishing = 0;
  double worst = 0;
  for (std::uint64_t seed = 0; seed < 1000; ++seed) {
    Rng rng(derive_seed(seed, "mutant-gradcheck"));
    const CellText child = mutate(parent(seed), rng, 1 + static_cast<int>(rng.below(3)));
    const auto entry = make_entry(child, "mutant");
    const Index H = 3, I = entry.info.square_input ? H : 2;
    const auto r = cells::gradcheck(entry, {{I, H, {3, 2}}}, seed);
    ++checked;
    if (r.max_error >= 1e-5 && r.worst_tensor != "x" &&
        vanishing_gradient(entry, I, H, r.worst_tensor.substr(0, r.worst_tensor.find(' ')))) {
      ++vanishing;
      continue;
    }
    INFO("seed " << seed << ": " << r.worst_tensor << " error " << r.max_error << "\n"
                 << canonical_text(child));
    CHECK(r.max_error < 1e-5);
    worst = std::max(worst, r.max_error);
  }
  CHECK(checked == 1000);
  CHECK(vanishing < 20);  // exact cancellations are rare
  WARN("1,000 mutants: worst relative gradient error " << worst << "; " << vanishing
                                                       << " with an exactly vanishing gradient");
}
