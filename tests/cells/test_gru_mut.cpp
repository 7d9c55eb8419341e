// The GRU family and MUT cells: parameter counts, the square-input rule, and the forward
// pass against a plain per-sequence, per-step transcription of each cell's equations
// (papers.md §2.1 and §3.1). Gradients, padding, float vs double and the rest of the
// cell contract are checked for every registered cell by tests/contract.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>

#include "framework/cells/registry.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::cells;

namespace {

using Vec = Eigen::VectorXd;
using Mat = Eigen::MatrixXd;

Vec sigmoid(const Vec& v) {
  return (1.0 / (1.0 + (-v.array()).exp())).matrix();
}
Vec tanh_of(const Vec& v) {
  return v.array().tanh().matrix();
}

// Named tensor of a cell inside theta.
Mat tensor(const Cell<double>& cell, const Vec& theta, const std::string& name) {
  const auto& t = cell.layout().find(name);
  return Eigen::Map<const Mat>(theta.data() + t.offset, t.rows, t.cols);
}

// One step of each cell, written straight from the papers' equations.
using Step = std::function<Vec(const Cell<double>&, const Vec&, const Vec& x, const Vec& h)>;

Vec gru_step(const Cell<double>& c, const Vec& th, const Vec& x, const Vec& h) {
  const Index H = c.hidden_size();
  const Mat W = tensor(c, th, "W"), R = tensor(c, th, "R"), Rh = tensor(c, th, "Rh");
  const Vec b = tensor(c, th, "b");
  const Vec r = sigmoid(W.topRows(H) * x + R.topRows(H) * h + b.head(H));
  const Vec z = sigmoid(W.middleRows(H, H) * x + R.bottomRows(H) * h + b.segment(H, H));
  const Vec n = tanh_of(W.bottomRows(H) * x + Rh * r.cwiseProduct(h) + b.tail(H));
  return z.cwiseProduct(h) + (Vec::Ones(H) - z).cwiseProduct(n);
}

Vec gru_ra_step(const Cell<double>& c, const Vec& th, const Vec& x, const Vec& h) {
  const Index H = c.hidden_size();
  const Mat W = tensor(c, th, "W"), R = tensor(c, th, "R");
  const Vec b = tensor(c, th, "b"), b_hn = tensor(c, th, "b_hn");
  const Vec r = sigmoid(W.topRows(H) * x + R.topRows(H) * h + b.head(H));
  const Vec z = sigmoid(W.middleRows(H, H) * x + R.middleRows(H, H) * h + b.segment(H, H));
  const Vec n =
      tanh_of(W.bottomRows(H) * x + b.tail(H) + r.cwiseProduct(R.bottomRows(H) * h + b_hn));
  return z.cwiseProduct(h) + (Vec::Ones(H) - z).cwiseProduct(n);
}

Vec mut1_step(const Cell<double>& c, const Vec& th, const Vec& x, const Vec& h) {
  const Index H = c.hidden_size();
  const Mat W = tensor(c, th, "W"), R = tensor(c, th, "R"), Rh = tensor(c, th, "Rh");
  const Vec b = tensor(c, th, "b");
  const Vec z = sigmoid(W.bottomRows(H) * x + b.segment(H, H));
  const Vec r = sigmoid(W.topRows(H) * x + R * h + b.head(H));
  const Vec n = tanh_of(Rh * r.cwiseProduct(h) + tanh_of(x) + b.tail(H));
  return n.cwiseProduct(z) + h.cwiseProduct(Vec::Ones(H) - z);
}

Vec mut2_step(const Cell<double>& c, const Vec& th, const Vec& x, const Vec& h) {
  const Index H = c.hidden_size();
  const Mat W = tensor(c, th, "W"), R = tensor(c, th, "R"), Rh = tensor(c, th, "Rh");
  const Vec b = tensor(c, th, "b");
  const Vec z = sigmoid(W.topRows(H) * x + R.bottomRows(H) * h + b.segment(H, H));
  const Vec r = sigmoid(x + R.topRows(H) * h + b.head(H));
  const Vec n = tanh_of(Rh * r.cwiseProduct(h) + W.bottomRows(H) * x + b.tail(H));
  return n.cwiseProduct(z) + h.cwiseProduct(Vec::Ones(H) - z);
}

Vec mut3_step(const Cell<double>& c, const Vec& th, const Vec& x, const Vec& h) {
  const Index H = c.hidden_size();
  const Mat W = tensor(c, th, "W"), R = tensor(c, th, "R"), Rz = tensor(c, th, "Rz"),
            Rh = tensor(c, th, "Rh");
  const Vec b = tensor(c, th, "b");
  const Vec z = sigmoid(W.middleRows(H, H) * x + Rz * tanh_of(h) + b.segment(H, H));
  const Vec r = sigmoid(W.topRows(H) * x + R * h + b.head(H));
  const Vec n = tanh_of(Rh * r.cwiseProduct(h) + W.bottomRows(H) * x + b.tail(H));
  return n.cwiseProduct(z) + h.cwiseProduct(Vec::Ones(H) - z);
}

// Runs the cell and the reference on random data with variable lengths and an initial
// state; returns the largest difference in outputs and final states.
double max_forward_difference(const std::string& name, const Step& step, Index input,
                              Index hidden) {
  const auto cell = CellRegistry::instance().make<double>(name, input, hidden);
  const auto seq = SequenceLayout::from_lengths({6, 6, 4, 1});
  const Index B = seq.batch(), T = seq.steps();
  Rng rng(derive_seed(7, name));
  Vec theta(cell->parameter_count());
  for (Index i = 0; i < theta.size(); ++i) theta[i] = rng.uniform(-0.8, 0.8);
  Mat x(input, T * B);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(-1, 1);
  CellState<double> initial{Mat(hidden, B)};
  for (Index i = 0; i < initial[0].size(); ++i) initial[0].data()[i] = rng.uniform(-0.5, 0.5);

  Mat h_out(hidden, T * B);
  CellState<double> final;
  cell->forward(theta, x, seq, &initial, h_out, &final);

  double worst = 0;
  for (Index b = 0; b < B; ++b) {
    Vec h = initial[0].col(b);
    for (Index t = 0; t < T; ++t) {
      const Index col = seq.column(t, b);
      if (t < seq.length(b)) {
        h = step(*cell, theta, x.col(col), h);
        worst = std::max(worst, (h_out.col(col) - h).cwiseAbs().maxCoeff());
      } else {
        worst = std::max(worst, h_out.col(col).cwiseAbs().maxCoeff());  // padding is zero
      }
    }
    worst = std::max(worst, (final.at(0).col(b) - h).cwiseAbs().maxCoeff());
  }
  return worst;
}

}  // namespace

TEST_CASE("GRU and MUT cells compute their papers' equations", "[cells][gru][mut]") {
  CHECK(max_forward_difference("gru", gru_step, 3, 5) < 1e-13);
  CHECK(max_forward_difference("gru-ra", gru_ra_step, 3, 5) < 1e-13);
  CHECK(max_forward_difference("mut1", mut1_step, 4, 4) < 1e-13);
  CHECK(max_forward_difference("mut2", mut2_step, 4, 4) < 1e-13);
  CHECK(max_forward_difference("mut3", mut3_step, 3, 5) < 1e-13);
}

TEST_CASE("gru and gru-ra differ exactly in where the reset gate acts", "[cells][gru]") {
  // With b_hn = 0, R_h(r * h) equals r * (R_n h) iff R_n is diagonal: the two cells must
  // agree then and disagree otherwise.
  const Index I = 3, H = 5;
  const auto& reg = CellRegistry::instance();
  auto gru = reg.make<double>("gru", I, H);
  auto ra = reg.make<double>("gru-ra", I, H);
  const auto seq = SequenceLayout::from_lengths({5, 3});
  Rng rng(11);
  Mat W(3 * H, I), R(3 * H, H), x(I, seq.columns());
  Vec b(3 * H);
  for (Mat* m : {&W, &R, &x})
    for (Index i = 0; i < m->size(); ++i) m->data()[i] = rng.uniform(-1, 1);
  for (Index i = 0; i < b.size(); ++i) b[i] = rng.uniform(-1, 1);
  auto run = [&](const Mat& Rn) {
    Vec tg(gru->parameter_count()), tr(ra->parameter_count());
    auto put = [](const Cell<double>& c, Vec& th, const std::string& name, const Mat& v) {
      const auto& t = c.layout().find(name);
      Eigen::Map<Mat>(th.data() + t.offset, t.rows, t.cols) = v;
    };
    put(*gru, tg, "W", W);
    put(*gru, tg, "R", R.topRows(2 * H));
    put(*gru, tg, "Rh", Rn);
    put(*gru, tg, "b", b);
    Mat Rfull = R;
    Rfull.bottomRows(H) = Rn;
    put(*ra, tr, "W", W);
    put(*ra, tr, "R", Rfull);
    put(*ra, tr, "b", b);
    put(*ra, tr, "b_hn", Mat::Zero(H, 1));
    Mat hg(H, seq.columns()), hr(H, seq.columns());
    gru->forward(tg, x, seq, nullptr, hg, nullptr);
    ra->forward(tr, x, seq, nullptr, hr, nullptr);
    return (hg - hr).cwiseAbs().maxCoeff();
  };
  const Mat Rn = R.bottomRows(H);
  CHECK(run(Mat(Rn.diagonal().asDiagonal())) < 1e-14);
  CHECK(run(Rn) > 1e-3);
}

TEST_CASE("GRU and MUT parameter counts follow the papers", "[cells][gru][mut]") {
  const auto& reg = CellRegistry::instance();
  const Index I = 7, H = 5;
  CHECK(reg.make<float>("gru", I, H)->parameter_count() == 3 * H * (I + H + 1));
  CHECK(reg.make<float>("gru-ra", I, H)->parameter_count() == 3 * H * (I + H + 1) + H);
  CHECK(reg.make<float>("mut3", I, H)->parameter_count() == 3 * H * (I + H + 1));
  CHECK(reg.make<float>("mut1", H, H)->parameter_count() == 2 * H * H + 2 * H * H + 3 * H);
  CHECK(reg.make<float>("mut2", H, H)->parameter_count() == 2 * H * H + 3 * H * H + 3 * H);
  // papers.md §3.5 worked example: 64 units, 64 inputs -> 24,768 for the GRU.
  CHECK(reg.make<float>("gru", 64, 64)->parameter_count() == 24768);
  CHECK(reg.get("gru").info.family == "gru");
  CHECK(reg.get("gru-ra").info.family == "gru");
  CHECK(reg.get("mut2").info.family == "mut");
}

TEST_CASE("MUT1 and MUT2 need input size == hidden size", "[cells][mut]") {
  const auto& reg = CellRegistry::instance();
  for (const std::string name : {"mut1", "mut2"}) {
    INFO(name);
    CHECK(reg.get(name).info.square_input);
    CHECK_NOTHROW(reg.make<double>(name, 6, 6));
    try {
      reg.make<float>(name, 3, 6);
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("input size == hidden size") != std::string::npos);
      CHECK(!e.hint().empty());
    }
  }
  CHECK_FALSE(reg.get("mut3").info.square_input);
}
