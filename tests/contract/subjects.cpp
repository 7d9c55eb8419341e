#include "subjects.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "framework/cells/cell_stack.hpp"
#include "framework/lang/lang_cell.hpp"
#include "framework/plugins/loader.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::testing {

const std::vector<Subject>& contract_subjects() {
  static const std::vector<Subject> subjects = [] {
    std::vector<Subject> out;
    auto& registry = cells::CellRegistry::instance();
    plugins::load_plugins({});  // CELLZOO_PLUGIN_PATH's
    // CELLZOO_CONTRACT_SUBJECTS=plugins: only the plugins' cells (a plugin author's run).
    const char* only = std::getenv("CELLZOO_CONTRACT_SUBJECTS");
    if (only && std::string(only) == "plugins") {
      for (const auto& name : registry.names())
        if (plugins::plugin_of(name)) out.push_back({name, registry.get(name)});
      if (out.empty())
        throw Error("CELLZOO_CONTRACT_SUBJECTS=plugins, but no plugin cells",
                    "set CELLZOO_PLUGIN_PATH to the plugin's .so file");
      return out;
    }
    for (const auto& name : registry.names()) out.push_back({name, registry.get(name)});
    for (const auto& [name, text] : lang::builtin_cell_texts())
      out.push_back(
          {"lang:" + name, lang::make_entry(lang::load_cell("lang:" + name), "lang:" + name)});
    // The .cell files that are not embedded twins (those sit in experiments/cells itself).
    namespace fs = std::filesystem;
    const fs::path root = fs::path(CELLZOO_SOURCE_DIR) / "experiments" / "cells";
    std::vector<std::string> files;
    for (const auto& f : fs::recursive_directory_iterator(root))
      if (f.is_regular_file() && f.path().extension() == ".cell" && f.path().parent_path() != root)
        files.push_back("file:" + f.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& name : files)
      out.push_back({name, lang::make_entry(lang::load_cell(name), name)});
    // Stacks (cells/cell_stack.hpp): every registered cell at 2 layers with dropout 0.3
    // (masks per unit, fixed), and a few other shapes: 3 layers without dropout, one
    // layer with dropout, a cell-language cell and a square-input cell stacked.
    auto stack = [&out](const cells::CellEntry& base, int layers, double dropout) {
      auto entry = cells::stack_entry(base, layers, dropout);
      out.push_back({entry.info.name, std::move(entry)});
    };
    for (const auto& name : registry.names()) stack(registry.get(name), 2, 0.3);
    stack(registry.get("lstm"), 3, 0);
    stack(registry.get("gru"), 1, 0.5);
    stack(lang::make_entry(lang::load_cell("lang:lstm-fgr"), "lang:lstm-fgr"), 2, 0.3);
    return out;
  }();
  return subjects;
}

CellInputs<double> random_inputs(const cells::Cell<double>& cell, const std::vector<Index>& lengths,
                                 std::uint64_t seed) {
  Rng rng(seed);
  auto fill = [&rng](auto& m, double scale) {
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform(-scale, scale);
  };
  CellInputs<double> in;
  in.seq = cells::SequenceLayout::from_lengths(lengths);
  const Index H = cell.hidden_size(), C = in.seq.columns(), B = in.seq.batch();
  in.theta.resize(cell.parameter_count());
  fill(in.theta, 0.6);
  in.x.resize(cell.input_size(), C);
  fill(in.x, 1);
  in.dh.resize(H, C);
  fill(in.dh, 1);
  for (Index t = 0; t < in.seq.steps(); ++t)
    for (Index b = in.seq.active(t); b < B; ++b) {
      in.x.col(in.seq.column(t, b)).setZero();
      in.dh.col(in.seq.column(t, b)).setZero();
    }
  in.initial.resize(static_cast<std::size_t>(cell.state_count()));
  for (auto& s : in.initial) {
    s.resize(H, B);
    fill(s, 0.5);
  }
  return in;
}

CellInputs<float> to_float(const CellInputs<double>& in) {
  CellInputs<float> f;
  f.seq = in.seq;
  f.theta = in.theta.cast<float>();
  f.x = in.x.cast<float>();
  f.dh = in.dh.cast<float>();
  for (const auto& s : in.initial) f.initial.push_back(s.cast<float>());
  return f;
}

template <typename S>
CellOutputs<S> run_cell(cells::Cell<S>& cell, const CellInputs<S>& in, bool with_initial) {
  CellOutputs<S> out;
  out.h.resize(cell.hidden_size(), in.seq.columns());
  out.dtheta.resize(cell.parameter_count());
  cell.forward(in.theta, in.x, in.seq, with_initial ? &in.initial : nullptr, out.h, &out.final);
  cell.backward(in.theta, in.x, in.seq, in.dh, out.dtheta, &out.dx);
  return out;
}
template CellOutputs<float> run_cell(cells::Cell<float>&, const CellInputs<float>&, bool);
template CellOutputs<double> run_cell(cells::Cell<double>&, const CellInputs<double>&, bool);

double relative_difference(const Matrix<double>& a, const Matrix<double>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return std::numeric_limits<double>::infinity();
  if (a.size() == 0) return 0;
  if (!a.allFinite()) return std::numeric_limits<double>::infinity();
  return (a - b).cwiseAbs().maxCoeff() / (1 + b.cwiseAbs().maxCoeff());
}

}  // namespace cellzoo::testing
