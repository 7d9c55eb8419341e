// The LSTM family (lstm and Greff et al.'s eight variants): parameter layouts and counts,
// forget-bias initialisation, forward values against a direct scalar transcription of the
// equations, and equivalences between variants. Gradients, padding, carried state, float
// vs double and allocation are the cell contract's (tests/contract), which iterates the
// registry.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "framework/cells/lstm_kernel.hpp"
#include "framework/cells/registry.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::cells;

namespace {

// What each variant is, written out independently of the cell files.
struct Variant {
  std::string name;
  bool i = true, f = true, o = true, cifg = false, g_tanh = true, h_tanh = true, peep = true,
       fgr = false;
  Index count(Index I, Index H) const {  // papers.md §1.3
    const Index gates = i + f + o;
    return (gates + 1) * H * (I + H + 1) + (peep ? gates * H : 0) + (fgr ? 9 * H * H : 0);
  }
};

std::vector<Variant> variants() {
  std::vector<Variant> v(9);
  v[0].name = "lstm";
  v[1].name = "lstm-nig", v[1].i = false;
  v[2].name = "lstm-nfg", v[2].f = false;
  v[3].name = "lstm-nog", v[3].o = false;
  v[4].name = "lstm-niaf", v[4].g_tanh = false;
  v[5].name = "lstm-noaf", v[5].h_tanh = false;
  v[6].name = "lstm-np", v[6].peep = false;
  v[7].name = "lstm-cifg", v[7].f = false, v[7].cifg = true;
  v[8].name = "lstm-fgr", v[8].fgr = true;
  return v;
}

Index formula_count(const std::string& name, Index I, Index H) {
  // The formulas exactly as the table in papers.md §1.3 states them (N = H, M = I).
  if (name == "lstm" || name == "lstm-niaf" || name == "lstm-noaf")
    return 4 * H * (I + H + 1) + 3 * H;
  if (name == "lstm-np") return 4 * H * (I + H + 1);
  if (name == "lstm-fgr") return 4 * H * (I + H + 1) + 3 * H + 9 * H * H;
  return 3 * H * (I + H + 1) + 2 * H;  // nig, nfg, nog, cifg
}

template <typename S>
void fill(Matrix<S>& m, Rng& rng, double lo, double hi) {
  for (Index k = 0; k < m.size(); ++k) m.data()[k] = static_cast<S>(rng.uniform(lo, hi));
}
template <typename S>
Vector<S> random_theta(const Cell<S>& cell, Rng& rng, double scale = 0.6) {
  Vector<S> theta(cell.parameter_count());
  for (Index k = 0; k < theta.size(); ++k) theta[k] = static_cast<S>(rng.uniform(-scale, scale));
  return theta;
}
template <typename S>
CellState<S> random_state(Index count, Index H, Index B, Rng& rng) {
  CellState<S> s(static_cast<std::size_t>(count));
  for (auto& m : s) {
    m.resize(H, B);
    fill(m, rng, -0.5, 0.5);
  }
  return s;
}

double sigm(double v) {
  return 1 / (1 + std::exp(-v));
}

// Direct transcription of Greff's equations, one sequence and one unit at a time.
struct Reference {
  Matrix<double> h;  // H x T*B
  CellState<double> final;
};
Reference reference_forward(const Variant& v, const ParamLayout& layout,
                            const Vector<double>& theta, const Matrix<double>& x,
                            const std::vector<Index>& lengths, const CellState<double>& init) {
  const Index B = static_cast<Index>(lengths.size()), T = lengths[0];
  const Index H = init[0].rows(), I = x.rows();
  auto at = [&](const char* name, Index r, Index c) {
    const auto& t = layout.find(name);
    return theta[t.offset + r + c * t.rows];
  };
  // Row block of each gate within W/R/b: z first, then the gates that exist.
  const Index bi = v.i ? 1 : -1, bf = v.f ? 1 + v.i : -1, bo = v.o ? 1 + v.i + v.f : -1;
  const Index K = v.i + v.f + v.o;
  Reference ref;
  ref.h = Matrix<double>::Zero(H, T * B);
  ref.final = init;
  for (Index b = 0; b < B; ++b) {
    Vector<double> y = init[0].col(b), c = init[1].col(b), a(K * H);
    for (Index k = 0; k < K && v.fgr; ++k)
      a.segment(k * H, H) = init[static_cast<std::size_t>(2 + k)].col(b);
    for (Index t = 0; t < lengths[static_cast<std::size_t>(b)]; ++t) {
      const Index col = t * B + b;
      auto pre = [&](Index block, Index u) {
        const Index r = block * H + u;
        double s = at("b", r, 0);
        for (Index m = 0; m < I; ++m) s += at("W", r, m) * x(m, col);
        for (Index m = 0; m < H; ++m) s += at("R", r, m) * y[m];
        if (v.fgr && block > 0)  // gates only, not the block input
          for (Index m = 0; m < K * H; ++m) s += at("R_gates", (block - 1) * H + u, m) * a[m];
        return s;
      };
      Vector<double> yn(H), cn(H), an(K * H);
      for (Index u = 0; u < H; ++u) {
        const double zb = pre(0, u);
        const double z = v.g_tanh ? std::tanh(zb) : zb;
        const double i = v.i ? sigm(pre(bi, u) + (v.peep ? at("p_i", u, 0) * c[u] : 0)) : 1;
        const double f =
            v.f ? sigm(pre(bf, u) + (v.peep ? at("p_f", u, 0) * c[u] : 0)) : (v.cifg ? 1 - i : 1);
        cn[u] = z * i + c[u] * f;
        const double o = v.o ? sigm(pre(bo, u) + (v.peep ? at("p_o", u, 0) * cn[u] : 0)) : 1;
        yn[u] = (v.h_tanh ? std::tanh(cn[u]) : cn[u]) * o;
        if (v.i) an[(bi - 1) * H + u] = i;
        if (v.f) an[(bf - 1) * H + u] = f;
        if (v.o) an[(bo - 1) * H + u] = o;
      }
      y = yn, c = cn, a = an;
      ref.h.col(col) = y;
    }
    ref.final[0].col(b) = y;
    ref.final[1].col(b) = c;
    for (Index k = 0; k < K && v.fgr; ++k)
      ref.final[static_cast<std::size_t>(2 + k)].col(b) = a.segment(k * H, H);
  }
  return ref;
}

const std::vector<Index> kLengths = {4, 4, 2, 1};

}  // namespace

TEST_CASE("the registry holds exactly the nine LSTM-family cells", "[cells][lstm]") {
  std::vector<std::string> lstm;
  for (const auto& name : CellRegistry::instance().names())
    if (CellRegistry::instance().get(name).info.family == "lstm") lstm.push_back(name);
  CHECK(lstm == std::vector<std::string>{"lstm", "lstm-cifg", "lstm-fgr", "lstm-nfg", "lstm-niaf",
                                         "lstm-nig", "lstm-noaf", "lstm-nog", "lstm-np"});
}

TEST_CASE("LSTM parameter counts equal the formulas of papers.md", "[cells][lstm]") {
  for (const auto& v : variants()) {
    const auto info = CellRegistry::instance().get(v.name).info;
    CHECK(info.family == "lstm");
    CHECK(info.description.find("Greff") != std::string::npos);
    for (auto [I, H] : {std::pair<Index, Index>{1, 1}, {3, 4}, {7, 5}, {32, 128}}) {
      INFO(v.name << " I=" << I << " H=" << H);
      const auto cell = CellRegistry::instance().make<float>(v.name, I, H);
      CHECK(cell->parameter_count() == formula_count(v.name, I, H));
      CHECK(cell->parameter_count() == v.count(I, H));
    }
  }
}

TEST_CASE("removed gates lose their weights, bias and peephole", "[cells][lstm]") {
  const Index I = 3, H = 5;
  for (const auto& v : variants()) {
    INFO(v.name);
    const auto cell = CellRegistry::instance().make<double>(v.name, I, H);
    const auto& layout = cell->layout();
    const Index G = 1 + v.i + v.f + v.o;
    CHECK(layout.find("W").rows == G * H);
    CHECK(layout.find("W").cols == I);
    CHECK(layout.find("R").rows == G * H);
    CHECK(layout.find("R").cols == H);
    CHECK(layout.find("b").size() == G * H);
    CHECK(layout.has("p_i") == (v.peep && v.i));
    CHECK(layout.has("p_f") == (v.peep && v.f));
    CHECK(layout.has("p_o") == (v.peep && v.o));
    for (const char* p : {"p_i", "p_f", "p_o"})
      if (layout.has(p)) {
        CHECK(layout.find(p).rows == H);
        CHECK(layout.find(p).cols == 1);
        CHECK(layout.find(p).kind == ParamKind::peephole);
      }
    CHECK(layout.has("R_gates") == v.fgr);
    if (v.fgr) {
      CHECK(layout.find("R_gates").rows == 3 * H);
      CHECK(layout.find("R_gates").cols == 3 * H);
    }
    CHECK(cell->state_count() == (v.fgr ? 5 : 2));
  }
  // The two the brief singles out, spelled out.
  const auto cifg = CellRegistry::instance().make<double>("lstm-cifg", I, H);
  CHECK_FALSE(cifg->layout().has("p_f"));
  CHECK_FALSE(cifg->forget_bias_range().has_value());
  CHECK(cifg->parameter_count() == 3 * H * (I + H + 1) + 2 * H);
  const auto np = CellRegistry::instance().make<double>("lstm-np", I, H);
  CHECK(np->layout().tensors().size() == 3);
}

TEST_CASE("the forget-gate bias lands on the forget rows only", "[cells][lstm]") {
  const Index I = 2, H = 3;
  for (const auto& v : variants()) {
    INFO(v.name);
    const auto cell = CellRegistry::instance().make<double>(v.name, I, H);
    Vector<double> theta(cell->parameter_count());
    Rng rng(7);
    InitOptions init;
    init.forget_bias = 1.5;
    cell->initialize(theta, rng, init);
    const auto& bt = cell->layout().find("b");
    const Vector<double> b = theta.segment(bt.offset, bt.size());
    const Index f_block = v.f ? 1 + v.i : -1;  // z, then the gates that exist
    for (Index r = 0; r < b.size(); ++r) CHECK(b[r] == (r / H == f_block ? 1.5 : 0.0));
    const auto range = cell->forget_bias_range();
    CHECK(range.has_value() == v.f);
    if (range) {
      CHECK(range->first == bt.offset + f_block * H);
      CHECK(range->second - range->first == H);
    }
    // Weights and peepholes are drawn within +-1/sqrt(H), and not all zero.
    const auto& W = cell->layout().find("W");
    const Vector<double> w = theta.segment(W.offset, W.size());
    CHECK(w.cwiseAbs().maxCoeff() <= 1 / std::sqrt(double(H)));
    CHECK(w.cwiseAbs().maxCoeff() > 0);
  }
}

TEST_CASE("every LSTM variant matches a scalar transcription of Greff's equations",
          "[cells][lstm]") {
  const Index I = 3, H = 4;
  const auto seq = SequenceLayout::from_lengths(kLengths);
  for (const auto& v : variants()) {
    INFO(v.name);
    Rng rng(hash64(v.name));
    const auto cell = CellRegistry::instance().make<double>(v.name, I, H);
    const Vector<double> theta = random_theta(*cell, rng);
    Matrix<double> x(I, seq.columns());
    fill(x, rng, -1, 1);
    const auto init = random_state<double>(cell->state_count(), H, seq.batch(), rng);
    Matrix<double> h(H, seq.columns());
    CellState<double> final;
    cell->forward(theta, x, seq, &init, h, &final);
    const auto ref = reference_forward(v, cell->layout(), theta, x, kLengths, init);
    CHECK((h - ref.h).cwiseAbs().maxCoeff() < 1e-12);
    REQUIRE(final.size() == ref.final.size());
    for (std::size_t k = 0; k < final.size(); ++k)
      CHECK((final[k] - ref.final[k]).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE("lstm-noaf outputs c * o on a hand-computed step", "[cells][lstm]") {
  // I = 1, H = 1, B = 1: W = [z i f o] = [0.5 1 -1 2], R = 0, b = [0.1 0 0 -0.5],
  // p_i = 0.3, p_f = -0.2, p_o = 0.4, x = 2, y_prev = 0, c_prev = 0.6.
  const auto cell = CellRegistry::instance().make<double>("lstm-noaf", 1, 1);
  Vector<double> theta = Vector<double>::Zero(cell->parameter_count());
  auto set = [&](const char* name, std::vector<double> values) {
    const auto& t = cell->layout().find(name);
    for (std::size_t k = 0; k < values.size(); ++k) theta[t.offset + Index(k)] = values[k];
  };
  set("W", {0.5, 1, -1, 2});
  set("b", {0.1, 0, 0, -0.5});
  set("p_i", {0.3});
  set("p_f", {-0.2});
  set("p_o", {0.4});
  const double z = std::tanh(0.5 * 2 + 0.1);
  const double i = sigm(1 * 2 + 0.3 * 0.6);
  const double f = sigm(-1 * 2 - 0.2 * 0.6);
  const double c = z * i + 0.6 * f;
  const double o = sigm(2 * 2 - 0.5 + 0.4 * c);
  Matrix<double> x(1, 1), h(1, 1);
  x(0, 0) = 2;
  CellState<double> init(2, Matrix<double>::Zero(1, 1)), final;
  init[1](0, 0) = 0.6;
  cell->forward(theta, x, SequenceLayout(1, 1), &init, h, &final);
  CHECK(h(0, 0) == Approx(c * o).epsilon(1e-14));
  CHECK(final[1](0, 0) == Approx(c).epsilon(1e-14));
  CHECK(final[0](0, 0) == Approx(c * o).epsilon(1e-14));
}

TEST_CASE("variants that remove a term equal the full cell with that term zeroed",
          "[cells][lstm]") {
  const Index I = 3, H = 5;
  const auto seq = SequenceLayout::from_lengths({6, 5, 5, 2});
  struct Case {
    std::string full, reduced;
    std::vector<std::string> zeroed;  // tensors of `full` that `reduced` lacks
  };
  const std::vector<Case> cases = {{"lstm", "lstm-np", {"p_i", "p_f", "p_o"}},
                                   {"lstm-fgr", "lstm", {"R_gates"}}};
  for (const auto& c : cases) {
    INFO(c.full << " vs " << c.reduced);
    Rng rng(3);
    const auto full = CellRegistry::instance().make<double>(c.full, I, H);
    const auto reduced = CellRegistry::instance().make<double>(c.reduced, I, H);
    // Parameters are copied by tensor name.
    Vector<double> theta_full = random_theta(*full, rng);
    Vector<double> theta_reduced(reduced->parameter_count());
    for (const auto& t : full->layout().tensors()) {
      if (std::find(c.zeroed.begin(), c.zeroed.end(), t.name) != c.zeroed.end())
        theta_full.segment(t.offset, t.size()).setZero();
      else
        theta_reduced.segment(reduced->layout().find(t.name).offset, t.size()) =
            theta_full.segment(t.offset, t.size());
    }
    Matrix<double> x(I, seq.columns());
    fill(x, rng, -1, 1);
    // lstm-fgr's extra states (previous gate activations) only act through R_gates.
    const auto init_full = random_state<double>(full->state_count(), H, seq.batch(), rng);
    const CellState<double> init_reduced(init_full.begin(), init_full.begin() + 2);
    Matrix<double> h_full(H, seq.columns()), h_reduced(H, seq.columns());
    CellState<double> final_full, final_reduced;
    full->forward(theta_full, x, seq, &init_full, h_full, &final_full);
    reduced->forward(theta_reduced, x, seq, &init_reduced, h_reduced, &final_reduced);
    CHECK((h_full - h_reduced).cwiseAbs().maxCoeff() < 1e-14);
    CHECK((final_full[0] - final_reduced[0]).cwiseAbs().maxCoeff() < 1e-14);
    CHECK((final_full[1] - final_reduced[1]).cwiseAbs().maxCoeff() < 1e-14);
  }
}

TEST_CASE("inconsistent LSTM option sets are refused", "[cells][lstm]") {
  LstmOptions bad;
  bad.coupled_input_forget = true;  // with a forget gate still present
  CHECK_THROWS_AS(LstmCell<double>(3, 4, bad), Error);
  LstmOptions no_gates;
  no_gates.input_gate = no_gates.forget_gate = no_gates.output_gate = false;
  no_gates.full_gate_recurrence = true;
  CHECK_THROWS_AS(LstmCell<double>(3, 4, no_gates), Error);
}
