// The cell contract (framework/cells/cell.hpp), checked for every subject of subjects.hpp:
// every registered cell, every cell-language twin and .cell file, every loaded plugin
// cell. A cell added to the registry is checked by every clause with nothing else to
// write. The clauses:
//   well-formed entry   metadata, a parameter layout that tiles theta, the init rule
//   gradients           finite differences vs BPTT in double (cells::gradcheck)
//   no allocation       a repeated forward + backward of the same batch shape allocates
//                       nothing, for short and long sequences (so nothing per step)
//   float vs double     outputs, final states and gradients agree
//   padded batches      padding outputs zero, gets zero dx, is never read, and every
//                       sequence of a batch equals that sequence run alone
//   carried state       two windows, the second started from the first's final state,
//                       equal one long run; no initial state means zeros
//   reuse               other batch shapes in between do not change a cell's results
//   forward-only        infer() gives forward()'s outputs and final states bit for bit,
//                       allocates nothing when repeated, and refuses a backward() after it
//   bad shapes          one cellzoo::Error naming the cell and the argument, per mistake
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
#include "framework/cells/gradcheck.hpp"
#include "framework/util/error.hpp"
#include "subjects.hpp"

using namespace cellzoo;
using namespace cellzoo::cells;
using namespace cellzoo::testing;

namespace {

// Input size for hidden size H: I itself, or H for cells that need I == H.
Index input_size(const CellEntry& entry, Index I, Index H) {
  return entry.info.square_input ? H : I;
}

Matrix<double> as_double(const Matrix<float>& m) {
  return m.cast<double>();
}
Matrix<double> column(const Vector<double>& v) {
  return v;
}

bool bit_identical(const CellOutputs<double>& a, const CellOutputs<double>& b) {
  if (a.final.size() != b.final.size()) return false;
  for (std::size_t k = 0; k < a.final.size(); ++k)
    if (a.final[k] != b.final[k]) return false;
  return a.h == b.h && a.dtheta == b.dtheta && a.dx == b.dx;
}

}  // namespace

TEST_CASE("contract: every subject is a well-formed registry entry", "[contract]") {
  for (const auto& s : contract_subjects()) {
    DYNAMIC_SECTION(s.name) {
      const auto& info = s.entry.info;
      CHECK(info.name == s.name);
      CHECK_FALSE(info.family.empty());
      CHECK_FALSE(info.description.empty());
      CHECK_FALSE(info.param_formula.empty());
      const Index H = 5, I = input_size(s.entry, 3, H);
      const auto cell = s.entry.make<double>(I, H);
      CHECK(cell->name() == s.name);
      CHECK(cell->input_size() == I);
      CHECK(cell->hidden_size() == H);
      CHECK(cell->state_count() >= 1);
      // The tensors tile theta in order, without gaps or overlaps.
      Index next = 0;
      for (const auto& t : cell->layout().tensors()) {
        INFO("tensor " << t.name);
        CHECK(t.offset == next);
        CHECK(t.rows > 0);
        CHECK(t.cols > 0);
        next = t.offset + t.size();
      }
      CHECK(next == cell->parameter_count());
      CHECK(cell->parameter_count() > 0);
      if (info.square_input)
        CHECK_THROWS_AS(s.entry.make<double>(H + 1, H), Error);
      else
        CHECK(s.entry.make<double>(H + 1, H)->input_size() == H + 1);
      CHECK_THROWS_AS(s.entry.make<double>(I, 0), Error);

      // The initialisation rule (cell.hpp's InitOptions).
      Vector<double> theta(cell->parameter_count());
      Rng rng(1);
      InitOptions init;
      init.forget_bias = 1.5;
      cell->initialize(theta, rng, init);
      const auto forget = cell->forget_bias_ranges();
      auto in_forget = [&forget](Index i) {
        for (const auto& [begin, end] : forget)
          if (i >= begin && i < end) return true;
        return false;
      };
      for (const auto& t : cell->layout().tensors())
        for (Index i = t.offset; i < t.offset + t.size(); ++i) {
          INFO("tensor " << t.name << ", entry " << i - t.offset);
          if (in_forget(i))
            CHECK(theta[i] == 1.5);
          else if (t.kind == ParamKind::bias)
            CHECK(theta[i] == 0);
          else
            CHECK(std::abs(theta[i]) <= 1 / std::sqrt(double(H)));
        }
      if (const auto single = cell->forget_bias_range()) {
        REQUIRE(forget.size() == 1);
        CHECK(forget[0] == *single);
      }
      for (const auto& [begin, end] : forget) {
        CHECK(begin < end);
        CHECK(end <= cell->parameter_count());
      }
      Vector<double> wrong(cell->parameter_count() + 1);
      CHECK_THROWS_AS(cell->initialize(wrong, rng, init), Error);
    }
  }
}

TEST_CASE("contract: gradients match finite differences in double", "[contract][gradcheck]") {
  for (const auto& s : contract_subjects()) {
    DYNAMIC_SECTION(s.name) {
      const auto r = gradcheck(s.entry, default_gradcheck_problems(s.entry.info.square_input));
      INFO(s.name << ": worst tensor " << r.worst_tensor << ", error " << r.max_error);
      CHECK(r.problems == 4);
      // In a stack the bottom layer's small gradients (peepholes through three layers)
      // carry more finite-difference noise: 1e-6 there, `cellzoo gradcheck`'s default.
      const bool stack = s.name.find("[layers=") != std::string::npos;
      CHECK(r.max_error < (stack ? 1e-6 : 1e-7));
    }
  }
}

TEST_CASE("contract: a repeated forward + backward does not allocate", "[contract][alloc]") {
  // Small sizes: Eigen's GEMM blocks then live on the stack; larger products take a
  // heap workspace per call, which cells avoid with PackedLhs (packed_gemm.hpp).
  for (const auto& s : contract_subjects()) {
    DYNAMIC_SECTION(s.name) {
      for (const Index T : {Index(5), Index(50)}) {
        INFO("T = " << T);
        const Index H = 8, I = input_size(s.entry, 5, H);
        auto cell = s.entry.make<float>(I, H);
        auto reference = s.entry.make<double>(I, H);
        const auto in = to_float(random_inputs(*reference, {T, T, T - 2, 1}, 9));
        run_cell(*cell, in);  // sizes every workspace
        CellOutputs<float> out = run_cell(*cell, in);
        long allocations = 0;
        {
          const AllocationCounter counter;
          cell->forward(in.theta, in.x, in.seq, &in.initial, out.h, &out.final);
          cell->backward(in.theta, in.x, in.seq, in.dh, out.dtheta, &out.dx);
          allocations = counter.count();
        }
        CHECK(allocations == 0);
      }
    }
  }
}

TEST_CASE("contract: the allocation counter counts", "[contract][alloc]") {
  long allocations = 0;
  {
    const AllocationCounter counter;
    Matrix<float> m(100, 100);
    m.setZero();
    allocations = counter.count();
  }
  CHECK(allocations >= 1);
}

TEST_CASE("contract: float and double agree", "[contract]") {
  for (const auto& s : contract_subjects()) {
    DYNAMIC_SECTION(s.name) {
      const Index H = 6, I = input_size(s.entry, 4, H);
      auto cd = s.entry.make<double>(I, H);
      auto cf = s.entry.make<float>(I, H);
      const auto in = random_inputs(*cd, {8, 8, 5}, 5);
      const auto d = run_cell(*cd, in);
      const auto f = run_cell(*cf, to_float(in));
      CHECK(d.h.cwiseAbs().maxCoeff() > 1e-2);  // not trivially zero
      CHECK(relative_difference(as_double(f.h), d.h) < 1e-5);
      REQUIRE(f.final.size() == d.final.size());
      for (std::size_t k = 0; k < d.final.size(); ++k)
        CHECK(relative_difference(as_double(f.final[k]), d.final[k]) < 1e-5);
      CHECK(relative_difference(column(f.dtheta.cast<double>()), column(d.dtheta)) < 1e-4);
      CHECK(relative_difference(as_double(f.dx), d.dx) < 1e-4);
    }
  }
}

TEST_CASE("contract: padded batches", "[contract][padding]") {
  // Sequences of lengths 6, 6, 4, 1 in one batch, with an initial state.
  for (const auto& s : contract_subjects()) {
    DYNAMIC_SECTION(s.name) {
      const Index H = 5, I = input_size(s.entry, 3, H);
      auto cell = s.entry.make<double>(I, H);
      const auto in = random_inputs(*cell, {6, 6, 4, 1}, 11);
      const auto& seq = in.seq;
      const Index B = seq.batch();
      const auto out = run_cell(*cell, in);

      // Padded positions: h = 0 and dx = 0.
      for (Index t = 0; t < seq.steps(); ++t)
        for (Index b = seq.active(t); b < B; ++b) {
          INFO("step " << t << ", sequence " << b);
          CHECK(out.h.col(seq.column(t, b)).isZero(0));
          CHECK(out.dx.col(seq.column(t, b)).isZero(0));
        }

      // Padded positions of x and dh are never read: garbage there changes nothing.
      auto garbage = in;
      Rng rng(3);
      for (Index t = 0; t < seq.steps(); ++t)
        for (Index b = seq.active(t); b < B; ++b) {
          for (Index i = 0; i < I; ++i) garbage.x(i, seq.column(t, b)) = rng.uniform(-1e3, 1e3);
          for (Index i = 0; i < H; ++i) garbage.dh(i, seq.column(t, b)) = rng.uniform(-1e3, 1e3);
        }
      auto fresh = s.entry.make<double>(I, H);
      CHECK(bit_identical(run_cell(*fresh, garbage), out));

      // Each sequence alone (batch of one, its own length and initial state) gives its
      // columns of h and dx and its final state; the batch's dtheta is the sum of theirs.
      Vector<double> dtheta_sum = Vector<double>::Zero(out.dtheta.size());
      for (Index b = 0; b < B; ++b) {
        INFO("sequence " << b);
        const Index T = seq.length(b);
        CellInputs<double> one;
        one.seq = SequenceLayout(T, 1);
        one.theta = in.theta;
        one.x.resize(I, T);
        one.dh.resize(H, T);
        for (Index t = 0; t < T; ++t) {
          one.x.col(t) = in.x.col(seq.column(t, b));
          one.dh.col(t) = in.dh.col(seq.column(t, b));
        }
        for (const auto& st : in.initial) one.initial.push_back(st.col(b));
        const auto alone = run_cell(*fresh, one);
        Matrix<double> h_b(H, T), dx_b(I, T);
        for (Index t = 0; t < T; ++t) {
          h_b.col(t) = out.h.col(seq.column(t, b));
          dx_b.col(t) = out.dx.col(seq.column(t, b));
        }
        CHECK(relative_difference(alone.h, h_b) < 1e-12);
        CHECK(relative_difference(alone.dx, dx_b) < 1e-12);
        REQUIRE(alone.final.size() == out.final.size());
        for (std::size_t k = 0; k < out.final.size(); ++k)
          CHECK(relative_difference(alone.final[k], out.final[k].col(b)) < 1e-12);
        dtheta_sum += alone.dtheta;
      }
      CHECK(relative_difference(column(dtheta_sum), column(out.dtheta)) < 1e-12);
    }
  }
}

TEST_CASE("contract: carried state", "[contract][state]") {
  // One run of lengths 7, 7, 5 equals window 1 (3 steps of every sequence) followed by
  // window 2 (the rest: 4, 4, 2 steps) started from window 1's final state, as truncated
  // BPTT runs them. Gradients differ (they stop at the window boundary); values may not.
  for (const auto& s : contract_subjects()) {
    DYNAMIC_SECTION(s.name) {
      const Index H = 5, I = input_size(s.entry, 3, H);
      auto cell = s.entry.make<double>(I, H);
      const auto in = random_inputs(*cell, {7, 7, 5}, 13);
      const Index B = in.seq.batch(), T1 = 3, C1 = T1 * B, C = in.seq.columns();
      Matrix<double> h(H, C);
      CellState<double> final;
      cell->forward(in.theta, in.x, in.seq, &in.initial, h, &final);

      const auto seq1 = SequenceLayout(T1, B);
      const auto seq2 = SequenceLayout::from_lengths({4, 4, 2});
      const Matrix<double> x1 = in.x.leftCols(C1), x2 = in.x.rightCols(C - C1);
      Matrix<double> h1(H, C1), h2(H, C - C1);
      CellState<double> final1, final2;
      cell->forward(in.theta, x1, seq1, &in.initial, h1, &final1);
      cell->forward(in.theta, x2, seq2, &final1, h2, &final2);
      CHECK(relative_difference(h1, h.leftCols(C1)) < 1e-12);
      CHECK(relative_difference(h2, h.rightCols(C - C1)) < 1e-12);
      REQUIRE(final2.size() == final.size());
      for (std::size_t k = 0; k < final.size(); ++k) {
        INFO("state " << k);
        CHECK(relative_difference(final2[k], final[k]) < 1e-12);
      }

      // No initial state is the zero state.
      CellState<double> zeros(in.initial.size(), Matrix<double>::Zero(H, B));
      Matrix<double> h_none(H, C), h_zero(H, C);
      cell->forward(in.theta, in.x, in.seq, nullptr, h_none, nullptr);
      cell->forward(in.theta, in.x, in.seq, &zeros, h_zero, nullptr);
      CHECK(h_none == h_zero);
    }
  }
}

TEST_CASE("contract: other batch shapes in between change nothing", "[contract]") {
  // Workspaces are resized per batch shape; nothing of an earlier batch may leak.
  for (const auto& s : contract_subjects()) {
    DYNAMIC_SECTION(s.name) {
      const Index H = 5, I = input_size(s.entry, 3, H);
      auto cell = s.entry.make<double>(I, H);
      const auto a = random_inputs(*cell, {5, 3, 3}, 17);
      const auto first = run_cell(*cell, a);
      run_cell(*cell, random_inputs(*cell, {9, 9, 8, 8, 2}, 18));
      run_cell(*cell, random_inputs(*cell, {2}, 19), false);
      CHECK(bit_identical(run_cell(*cell, a), first));
    }
  }
}

namespace {

template <typename S>
void check_infer_matches_forward(const Subject& s, const CellInputs<S>& in, Index I, Index H) {
  auto cell = s.entry.make<S>(I, H);
  const Index C = in.seq.columns();
  Matrix<S> h(H, C), h_inf(H, C);
  CellState<S> final, final_inf;
  cell->forward(in.theta, in.x, in.seq, &in.initial, h, &final);
  // Garbage in h_inf: infer() must write every column, padding included.
  h_inf.setConstant(S(7));
  cell->infer(in.theta, in.x, in.seq, &in.initial, h_inf, &final_inf);
  CHECK(h_inf == h);
  REQUIRE(final_inf.size() == final.size());
  for (std::size_t k = 0; k < final.size(); ++k) {
    INFO("state " << k);
    CHECK(final_inf[k] == final[k]);
  }
  // Without an initial state, and with training passes in between (shared workspaces).
  Matrix<S> h0(H, C), h0_inf(H, C);
  cell->forward(in.theta, in.x, in.seq, nullptr, h0, nullptr);
  cell->infer(in.theta, in.x, in.seq, nullptr, h0_inf, nullptr);
  CHECK(h0_inf == h0);
  // A fresh cell whose first pass is infer() (workspaces sized by it alone).
  auto fresh = s.entry.make<S>(I, H);
  fresh->infer(in.theta, in.x, in.seq, &in.initial, h_inf, nullptr);
  CHECK(h_inf == h);
}

}  // namespace

TEST_CASE("contract: forward-only infer() equals forward()", "[contract][infer]") {
  for (const auto& s : contract_subjects()) {
    DYNAMIC_SECTION(s.name) {
      // Sizes where every product is a GEMM (as in training) and H is not a multiple of
      // the vector width; padded batches and a batch of one.
      for (const Index H : {Index(8), Index(13)}) {
        INFO("H = " << H);
        const Index I = input_size(s.entry, 7, H);
        auto reference = s.entry.make<double>(I, H);
        for (const auto& lengths : {std::vector<Index>{9, 9, 6, 1}, std::vector<Index>{11},
                                    std::vector<Index>{5, 5, 5}}) {
          const auto in = random_inputs(*reference, lengths, 23);
          check_infer_matches_forward(s, in, I, H);
          check_infer_matches_forward(s, to_float(in), I, H);
        }
      }

      // backward() after infer() is refused; a repeated infer() allocates nothing.
      const Index H = 8, I = input_size(s.entry, 5, H);
      auto cell = s.entry.make<float>(I, H);
      auto reference = s.entry.make<double>(I, H);
      const auto in = to_float(random_inputs(*reference, {30, 30, 28, 1}, 9));
      CellOutputs<float> out = run_cell(*cell, in);
      cell->infer(in.theta, in.x, in.seq, &in.initial, out.h, &out.final);
      CHECK_THROWS_AS(cell->backward(in.theta, in.x, in.seq, in.dh, out.dtheta, &out.dx), Error);
      long allocations = 0;
      {
        const AllocationCounter counter;
        cell->infer(in.theta, in.x, in.seq, &in.initial, out.h, &out.final);
        allocations = counter.count();
      }
      CHECK(allocations == 0);
    }
  }
}

TEST_CASE("contract: bad shapes are rejected, naming the cell and the argument",
          "[contract][errors]") {
  for (const auto& s : contract_subjects()) {
    DYNAMIC_SECTION(s.name) {
      const Index H = 5, I = input_size(s.entry, 3, H);
      auto cell = s.entry.make<double>(I, H);
      const auto in = random_inputs(*cell, {4, 4, 2}, 23);
      const Index C = in.seq.columns(), B = in.seq.batch(), P = cell->parameter_count();
      Matrix<double> h(H, C), dx;
      Vector<double> dtheta(P);
      CellState<double> final;
      const Vector<double> theta_short = in.theta.head(P - 1);
      const Matrix<double> x_rows(I + 1, C), x_cols(I, C - 1), dh_bad(H, C + B);
      Matrix<double> h_bad(H + 1, C);
      Vector<double> dtheta_bad(P + 1);
      CellState<double> too_few(in.initial.begin(), in.initial.end() - 1);
      CellState<double> wrong_batch = in.initial;
      wrong_batch[0].resize(H, B + 1);
      const SequenceLayout empty;

      auto forward = [&](const Vector<double>& theta, const Matrix<double>& x,
                         const SequenceLayout& seq, const CellState<double>* initial,
                         Matrix<double>& out) {
        cell->forward(theta, x, seq, initial, out, &final);
      };
      auto backward = [&](const Matrix<double>& dh, Vector<double>& dth,
                          const SequenceLayout& seq) {
        cell->backward(in.theta, in.x, seq, dh, dth, &dx);
      };
      struct Mistake {
        std::string what;  // expected in the message, after the cell's name
        std::function<void()> call;
      };
      const std::vector<Mistake> mistakes = {
          {"backward: no forward()", [&] { backward(in.dh, dtheta, in.seq); }},
          {"forward: theta has", [&] { forward(theta_short, in.x, in.seq, nullptr, h); }},
          {"forward: x is", [&] { forward(in.theta, x_rows, in.seq, nullptr, h); }},
          {"forward: x is", [&] { forward(in.theta, x_cols, in.seq, nullptr, h); }},
          {"forward: h_out is", [&] { forward(in.theta, in.x, in.seq, nullptr, h_bad); }},
          {"forward: the initial state has", [&] { forward(in.theta, in.x, in.seq, &too_few, h); }},
          {"forward: initial state 0 is",
           [&] { forward(in.theta, in.x, in.seq, &wrong_batch, h); }},
          {"forward: empty sequence layout", [&] { forward(in.theta, in.x, empty, nullptr, h); }},
          {"backward: the sequence layout differs",
           [&] {
             forward(in.theta, in.x, in.seq, nullptr, h);
             backward(in.dh, dtheta, SequenceLayout::from_lengths({4, 3, 2}));
           }},
          {"backward: dh_out is", [&] { backward(dh_bad, dtheta, in.seq); }},
          {"backward: dtheta has", [&] { backward(in.dh, dtheta_bad, in.seq); }},
      };
      for (const auto& m : mistakes) {
        INFO("expected: " << m.what);
        try {
          m.call();
          FAIL("no error");
        } catch (const Error& e) {
          const std::string message = e.what();
          CHECK(message.starts_with("cell '" + s.name + "' " + m.what));
          CHECK_FALSE(e.hint().empty());
        }
      }
      // A rejected call leaves the cell as good as new.
      auto fresh = s.entry.make<double>(I, H);
      CHECK(bit_identical(run_cell(*cell, in), run_cell(*fresh, in)));
    }
  }
}
