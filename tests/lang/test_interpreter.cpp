// The cell-language interpreter: every built-in cell equals its language twin (outputs,
// final states and all gradients to 1e-10 in double), unusual graphs pass the gradient
// check, and the registry hook resolves file:, cell: and lang: names. The twins and the
// .cell files of experiments/cells go through the whole cell contract in tests/contract.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "framework/cells/gradcheck.hpp"
#include "framework/lang/lang_cell.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::cells;
using namespace cellzoo::lang;

namespace {

// One language tensor = the block of a built-in tensor starting at row row_block * H
// (and column col_block * H; -1 = all columns), as large as the language tensor.
struct Slice {
  std::string lang;
  std::string builtin;
  int row_block = 0;
  int col_block = -1;
};

struct Twin {
  std::string builtin;  // registered name; its text is experiments/cells/<builtin>.cell
  std::vector<Slice> map;
};

// The LSTM family (framework/cells/lstm_kernel.hpp): W, R, b stacked over the present
// gates in the order z, i, f, o; peepholes p_i, p_f, p_o; R_gates (i, f, o blocks).
std::vector<Slice> lstm_map(const std::vector<std::string>& gates,
                            const std::vector<std::string>& peeps, bool fgr = false) {
  std::vector<Slice> m;
  for (std::size_t k = 0; k < gates.size(); ++k) {
    const auto& g = gates[k];
    const int r = static_cast<int>(k);
    m.push_back({"W." + g + ".x", "W", r});
    m.push_back({"W." + g + ".h", "R", r});
    m.push_back({"b." + g, "b", r});
  }
  for (const auto& p : peeps) m.push_back({"diag." + p + (p == "o" ? ".c'" : ".c"), "p_" + p, 0});
  if (fgr) {
    const std::vector<std::string> g = {"i", "f", "o"};
    for (int r = 0; r < 3; ++r)
      for (int s = 0; s < 3; ++s)
        m.push_back({"W." + g[static_cast<std::size_t>(r)] + "." + g[static_cast<std::size_t>(s)],
                     "R_gates", r, s});
  }
  return m;
}

const std::vector<Twin>& twins() {
  static const std::vector<Twin> t = {
      {"rnn", {{"W.h.x", "W"}, {"W.h.h", "R"}, {"b.h", "b"}}},
      {"lstm", lstm_map({"z", "i", "f", "o"}, {"i", "f", "o"})},
      {"lstm-nig", lstm_map({"z", "f", "o"}, {"f", "o"})},
      {"lstm-nfg", lstm_map({"z", "i", "o"}, {"i", "o"})},
      {"lstm-nog", lstm_map({"z", "i", "f"}, {"i", "f"})},
      {"lstm-niaf", lstm_map({"z", "i", "f", "o"}, {"i", "f", "o"})},
      {"lstm-noaf", lstm_map({"z", "i", "f", "o"}, {"i", "f", "o"})},
      {"lstm-np", lstm_map({"z", "i", "f", "o"}, {})},
      {"lstm-cifg", lstm_map({"z", "i", "o"}, {"i", "o"})},
      {"lstm-fgr", lstm_map({"z", "i", "f", "o"}, {"i", "f", "o"}, true)},
      {"gru",
       {{"W.r.x", "W", 0},
        {"W.z.x", "W", 1},
        {"W.n.x", "W", 2},
        {"W.r.h", "R", 0},
        {"W.z.h", "R", 1},
        {"W.n.r*h", "Rh"},
        {"b.r", "b", 0},
        {"b.z", "b", 1},
        {"b.n", "b", 2}}},
      {"gru-ra",
       {{"W.r.x", "W", 0},
        {"W.z.x", "W", 1},
        {"W.n.x", "W", 2},
        {"W.r.h", "R", 0},
        {"W.z.h", "R", 1},
        {"W.n.h", "R", 2},
        {"b.r", "b", 0},
        {"b.z", "b", 1},
        {"b.n", "b", 2},
        {"b.n#2", "b_hn"}}},
      {"mut1",
       {{"W.r.x", "W", 0},
        {"W.z.x", "W", 1},
        {"W.r.h", "R"},
        {"W.h.r*h", "Rh"},
        {"b.r", "b", 0},
        {"b.z", "b", 1},
        {"b.h", "b", 2}}},
      {"mut2",
       {{"W.z.x", "W", 0},
        {"W.h.x", "W", 1},
        {"W.r.h", "R", 0},
        {"W.z.h", "R", 1},
        {"W.h.r*h", "Rh"},
        {"b.r", "b", 0},
        {"b.z", "b", 1},
        {"b.h", "b", 2}}},
      {"mut3",
       {{"W.r.x", "W", 0},
        {"W.z.x", "W", 1},
        {"W.h.x", "W", 2},
        {"W.r.h", "R"},
        {"W.z.tanh(h)", "Rz"},
        {"W.h.r*h", "Rh"},
        {"b.r", "b", 0},
        {"b.z", "b", 1},
        {"b.h", "b", 2}}},
  };
  return t;
}

// Index of every language parameter entry in the built-in parameter vector.
std::vector<Index> index_map(const Twin& twin, const Cell<double>& lang,
                             const Cell<double>& builtin) {
  const Index H = lang.hidden_size();
  std::map<std::string, const Slice*> by_name;
  for (const auto& s : twin.map) by_name[s.lang] = &s;
  std::vector<Index> idx(static_cast<std::size_t>(lang.parameter_count()), -1);
  for (const auto& t : lang.layout().tensors()) {
    INFO("language tensor " << t.name);
    REQUIRE(by_name.count(t.name));
    const Slice& s = *by_name[t.name];
    const auto& b = builtin.layout().find(s.builtin);
    const Index r0 = s.row_block * H, c0 = s.col_block < 0 ? 0 : s.col_block * H;
    REQUIRE(r0 + t.rows <= b.rows);
    REQUIRE(c0 + t.cols <= b.cols);
    for (Index c = 0; c < t.cols; ++c)
      for (Index r = 0; r < t.rows; ++r)
        idx[static_cast<std::size_t>(t.offset + c * t.rows + r)] =
            b.offset + (c0 + c) * b.rows + r0 + r;
  }
  return idx;
}

Matrix<double> random_matrix(Index rows, Index cols, Rng& rng, double scale = 1) {
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform(-scale, scale);
  return m;
}

double max_abs(const Matrix<double>& a, const Matrix<double>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return a.size() ? (a - b).cwiseAbs().maxCoeff() : 0.0;
}

}  // namespace

TEST_CASE("every built-in cell equals its cell-language twin", "[lang][twin]") {
  auto& registry = CellRegistry::instance();
  REQUIRE(twins().size() == builtin_cell_texts().size());
  for (const auto& twin : twins()) {
    DYNAMIC_SECTION(twin.builtin) {
      const auto bentry = registry.get(twin.builtin);
      const auto lentry = make_entry(load_cell("lang:" + twin.builtin), "lang:" + twin.builtin);
      CHECK(lentry.info.square_input == bentry.info.square_input);
      // H = 37 (B = 6): several register blocks of the packed GEMM, none of them full.
      for (const Index H : {Index(4), Index(37)}) {
        INFO("H = " << H);
        const Index I = bentry.info.square_input ? H : 3;
        auto builtin = bentry.make<double>(I, H);
        auto lang = lentry.make<double>(I, H);
        REQUIRE(lang->parameter_count() == builtin->parameter_count());
        REQUIRE(lang->state_count() == builtin->state_count());
        const auto idx = index_map(twin, *lang, *builtin);
        std::vector<int> hits(static_cast<std::size_t>(builtin->parameter_count()), 0);
        for (Index i : idx) ++hits[static_cast<std::size_t>(i)];
        for (int h : hits) REQUIRE(h == 1);  // a bijection between the parameter vectors

        Rng rng(derive_seed(7, twin.builtin));
        const auto seq = H == 4 ? SequenceLayout::from_lengths({5, 5, 3, 1})
                                : SequenceLayout::from_lengths({7, 7, 6, 3, 3, 1});
        const Index B = seq.batch(), C = seq.columns();
        Vector<double> tb = random_matrix(builtin->parameter_count(), 1, rng, 0.6);
        Vector<double> tl(lang->parameter_count());
        for (std::size_t i = 0; i < idx.size(); ++i) tl[static_cast<Index>(i)] = tb[idx[i]];
        const Matrix<double> x = random_matrix(I, C, rng);
        CellState<double> initial;
        for (Index s = 0; s < builtin->state_count(); ++s)
          initial.push_back(random_matrix(H, B, rng, 0.5));

        Matrix<double> hb(H, C), hl(H, C);
        CellState<double> fb, fl;
        builtin->forward(tb, x, seq, &initial, hb, &fb);
        lang->forward(tl, x, seq, &initial, hl, &fl);
        CHECK(max_abs(hb, hl) < 1e-10);
        for (std::size_t s = 0; s < fb.size(); ++s) CHECK(max_abs(fb[s], fl[s]) < 1e-10);
        for (Index b = 1; b < B; ++b)  // padded positions give h = 0
          for (Index t = seq.length(b); t < seq.steps(); ++t)
            CHECK(hl.col(seq.column(t, b)).norm() == 0);

        Matrix<double> dh = random_matrix(H, C, rng);
        for (Index t = 0; t < seq.steps(); ++t)
          for (Index b = seq.active(t); b < B; ++b) dh.col(seq.column(t, b)).setZero();
        Vector<double> gb(tb.size()), gl(tl.size());
        Matrix<double> dxb, dxl;
        builtin->backward(tb, x, seq, dh, gb, &dxb);
        lang->backward(tl, x, seq, dh, gl, &dxl);
        CHECK(max_abs(dxb, dxl) < 1e-10);
        double worst = 0;
        std::string worst_name;
        for (const auto& t : lang->layout().tensors())
          for (Index i = t.offset; i < t.offset + t.size(); ++i) {
            const double d = std::abs(gl[i] - gb[idx[static_cast<std::size_t>(i)]]);
            if (d > worst) worst = d, worst_name = t.name;
          }
        INFO("worst parameter gradient: " << worst_name);
        CHECK(worst < 1e-10);

        // Same initialisation rule, including the forget-gate bias.
        InitOptions init;
        init.init_scale = 0;
        init.forget_bias = 1;
        Rng r1(1), r2(1);
        builtin->initialize(tb, r1, init);
        lang->initialize(tl, r2, init);
        for (std::size_t i = 0; i < idx.size(); ++i) CHECK(tl[static_cast<Index>(i)] == tb[idx[i]]);
      }
    }
  }
}

TEST_CASE("the interpreter handles unusual graphs exactly", "[lang][gradcheck]") {
  // Outputs that are x-only or a previous state, constants, a state swap, relu, a diag of
  // a new value, a sum with an offset, products of a node with itself.
  const char* cells[] = {
      "state h; h' = tanh(W(x))",
      "state h, c; h' = tanh(W(x) + W(c) + bias); c' = h",
      "state h, c; a = relu(W(x) + 0.5 * W(h) - 0.1); c' = 1 - sigmoid(a) * c; h' = a * a + "
      "diag(c')",
      "state h, g; h' = g * 0.9 + tanh(W(h)); g' = h - 2 * W(x) + bias + bias",
      "state h; u = identity(W(x)) * tanh(W(x)); h' = u + h * sigmoid(u - W(h))",
  };
  for (const char* text : cells) {
    INFO(text);
    const auto entry = make_entry(parse_cell(text), text);
    const auto r = gradcheck(entry, default_gradcheck_problems(entry.info.square_input));
    INFO("worst tensor " << r.worst_tensor << ", error " << r.max_error);
    CHECK(r.max_error < 1e-7);
  }
}

TEST_CASE("install_language_cells resolves file:, cell: and lang: names", "[lang][registry]") {
  CellRegistry registry;
  register_builtin_cells(registry);
  install_language_cells(registry);
  const std::string path = std::string(CELLZOO_SOURCE_DIR) + "/experiments/cells/lstm.cell";
  const auto f = registry.get("file:" + path);
  CHECK(f.info.family == "lang");
  CHECK(f.info.name == "file:" + path);
  CHECK(f.info.description.find("Greff") != std::string::npos);
  CHECK(f.info.param_formula == "4HI + 4H^2 + 7H");
  CHECK(registry.make<float>("file:" + path, 3, 5)->parameter_count() == 4 * 5 * (3 + 5 + 1) + 15);
  const auto inline_cell = registry.get("cell:state h; h' = tanh(W(x) + W(h) + bias)");
  CHECK(inline_cell.info.description.starts_with("cell-language cell "));
  CHECK(registry.make<double>("cell:state h; h' = tanh(W(x) + W(h) + bias)", 2, 3)
            ->parameter_count() == 18);
  CHECK(registry.get("lang:mut1").info.square_input);
  CHECK(registry.contains("lang:gru"));
  try {
    registry.make<double>("lang:mut1", 3, 4);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).starts_with("shape mismatch: mut1.cell:5:"));
  }
  try {
    registry.get("cell:state h; h' = tanh(W(x) + y)");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "<inline>:1:27: undefined name 'y'");
  }
}
