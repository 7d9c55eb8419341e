#include "framework/cells/gradcheck.hpp"

#include <algorithm>
#include <cmath>

namespace cellzoo::cells {
namespace {

double tensor_error(const Vector<double>& analytic, const Vector<double>& numeric) {
  const double scale = std::max(analytic.norm(), numeric.norm());
  if (scale < 1e-12) return 0;  // both vanish
  return (analytic - numeric).norm() / scale;
}

}  // namespace

std::vector<GradcheckProblem> default_gradcheck_problems(bool square_input) {
  std::vector<GradcheckProblem> p = {
      {3, 4, {5, 5, 3}},     // batch 3, one shorter sequence
      {2, 5, {6, 4, 4, 1}},  // several lengths, including a single step
      {4, 3, {3, 3}},        // all full
      {5, 6, {7, 6, 2}},
  };
  if (square_input)
    for (auto& q : p) q.input_size = q.hidden_size;
  return p;
}

GradcheckResult gradcheck(const CellEntry& entry, const std::vector<GradcheckProblem>& problems,
                          std::uint64_t seed) {
  GradcheckResult result;
  result.cell = entry.info.name;
  Rng rng(seed);
  for (const auto& problem : problems) {
    auto cell = entry.make<double>(problem.input_size, problem.hidden_size);
    const auto seq = SequenceLayout::from_lengths(problem.lengths);
    const Index H = problem.hidden_size, cols = seq.columns();
    Vector<double> theta(cell->parameter_count());
    for (Index i = 0; i < theta.size(); ++i) theta[i] = rng.uniform(-0.6, 0.6);
    Matrix<double> x(problem.input_size, cols), G(H, cols);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(-1, 1);
    for (Index i = 0; i < G.size(); ++i) G.data()[i] = rng.uniform(-1, 1);
    CellState<double> initial(static_cast<std::size_t>(cell->state_count()));
    for (auto& s : initial) {
      s.resize(H, seq.batch());
      for (Index i = 0; i < s.size(); ++i) s.data()[i] = rng.uniform(-0.5, 0.5);
    }
    // Valid-position mask: the loss ignores padding.
    Matrix<double> mask = Matrix<double>::Zero(1, cols);
    for (Index t = 0; t < seq.steps(); ++t)
      for (Index b = 0; b < seq.active(t); ++b) mask(0, seq.column(t, b)) = 1;

    Matrix<double> h(H, cols);
    auto loss = [&](const Vector<double>& th, const Matrix<double>& xx) {
      cell->forward(th, xx, seq, &initial, h, nullptr);
      double l = 0;
      for (Index c = 0; c < cols; ++c)
        if (mask(0, c) != 0) l += G.col(c).dot(h.col(c)) + 0.5 * h.col(c).squaredNorm();
      return l;
    };

    loss(theta, x);
    Matrix<double> dh = G + h;
    for (Index c = 0; c < cols; ++c)
      if (mask(0, c) == 0) dh.col(c).setZero();
    Vector<double> dtheta(theta.size());
    Matrix<double> dx(x.rows(), x.cols());
    cell->backward(theta, x, seq, dh, dtheta, &dx);

    const double eps = 1e-6;
    Vector<double> numeric(theta.size());
    Vector<double> th = theta;
    for (Index i = 0; i < theta.size(); ++i) {
      th[i] = theta[i] + eps;
      const double up = loss(th, x);
      th[i] = theta[i] - eps;
      const double down = loss(th, x);
      th[i] = theta[i];
      numeric[i] = (up - down) / (2 * eps);
    }
    const std::string where = " (I=" + std::to_string(problem.input_size) +
                              " H=" + std::to_string(H) + " B=" + std::to_string(seq.batch()) + ")";
    auto record = [&](double err, const std::string& name) {
      if (err > result.max_error || result.worst_tensor.empty()) {
        result.max_error = std::max(result.max_error, err);
        result.worst_tensor = name + where;
      }
    };
    for (const auto& t : cell->layout().tensors())
      record(tensor_error(dtheta.segment(t.offset, t.size()), numeric.segment(t.offset, t.size())),
             t.name);

    Matrix<double> xx = x;
    Vector<double> numeric_x(x.size());
    for (Index i = 0; i < x.size(); ++i) {
      xx.data()[i] = x.data()[i] + eps;
      const double up = loss(theta, xx);
      xx.data()[i] = x.data()[i] - eps;
      const double down = loss(theta, xx);
      xx.data()[i] = x.data()[i];
      numeric_x[i] = (up - down) / (2 * eps);
    }
    record(tensor_error(Eigen::Map<Vector<double>>(dx.data(), dx.size()), numeric_x), "x");
    ++result.problems;
  }
  return result;
}

}  // namespace cellzoo::cells
