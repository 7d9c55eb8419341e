// Sweep specs: the experiments/*.ini text -> a validated Spec -> the list of runs.
//
// This is the pure part of the sweep runner: no threads, no files except load_spec().
// The grammar, the distributions and the seeding rules are documented in
// experiments/README.md. In short:
//   - parse_spec()/load_spec() read the INI text; every error names "FILE:LINE".
//   - apply_override() applies one `--set key=value` (trials=5, space.lr=..., task.length=..).
//   - to_text() is the canonical resolved text (what a results file stores as spec_text);
//     spec_hash() hashes it without `out` and `plugins`, so a resume into another file
//     name matches.
//   - expand() lists every run: cell-major in the spec's cell order, then trial. In random
//     search trial i draws the same hyperparameters for every cell (paired comparison).
//     RunEnumerator computes run i from i alone, without the list.
//   - shard_range() cuts [0, total) into N contiguous blocks for `--shard K/N`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "framework/train/hyperparameters.hpp"

namespace cellzoo::datasets {
struct TaskInfo;
}

namespace cellzoo::sweep {

// evolution: Jozefowicz-style architecture search (evolution.hpp), not an expansion.
enum class Search { random, grid, evolution };

// One [space] entry: a constant, a grid list, or a distribution.
struct Dimension {
  enum class Kind {
    constant,              // values[0]
    grid,                  // [a, b, c]: every value in grid search, a choice in random search
    choice,                // choice(a, b, c): random search only
    uniform,               // uniform(lo, hi)
    loguniform,            // loguniform(lo, hi), lo > 0
    int_uniform,           // int_uniform(lo, hi), integer bounds, both included
    int_loguniform,        // int_loguniform(lo, hi), integer bounds >= 1, both included
    one_minus_loguniform,  // 1 - loguniform(lo, hi) (Greff's momentum)
  };
  Kind kind = Kind::constant;
  std::vector<std::string> values;  // constant / grid / choice, normalised (see README)
  double lo = 0, hi = 0;            // distributions
  std::string origin;               // "FILE:LINE" or "--set space.NAME=..." (for errors)

  bool is_distribution() const;
  bool is_numeric() const;   // every value it can take is a number
  std::string text() const;  // canonical text, e.g. "loguniform(0.001, 0.1)"
};

// A plain key = value entry of [task] or [fixed].
struct Value {
  std::string text;
  std::string origin;
};

struct Spec {
  std::string source;  // the file it came from ("<text>" for parse_spec without a name)
  std::string name;
  std::string description;
  std::string task;
  std::vector<std::string> cells;  // in the spec's order (it fixes run_id)
  std::int64_t trials = 1;
  std::uint64_t seed = 1;
  Search search = Search::random;
  std::string out;  // as given; empty means the default (see output_path)
  // Cell plugins (.so files) the sweep loads, as given; see plugin_files().
  std::vector<std::string> plugins;
  // strict_build = true: a resume, --reuse or merge that would mix runs of different
  // numerical paths (builds or processors) is refused instead of warned about. Like `out`,
  // not part of spec_hash.
  bool strict_build = false;
  std::map<std::string, Value> task_options;
  std::map<std::string, Value> fixed;
  std::map<std::string, Dimension> space;
  std::map<std::string, Value> evolution;  // [evolution] (search = evolution), normalised
  // Top-level key -> "FILE:LINE" or "--set ..."; "" -> the end of the top-level block
  // (where errors about missing keys point).
  std::map<std::string, std::string> origins;
};

// The results file: `out`, or results/<name>.h5 when not given.
std::string output_path(const Spec& spec);
// The `plugins` as absolute paths: a relative path is relative to the spec file's
// directory (to the current directory for a spec that is not from a file). to_text()
// writes these, and neither they nor `out` are part of spec_hash().
std::vector<std::string> plugin_files(const Spec& spec);

// Parses spec text. `source` names it in error messages ("FILE:LINE: message").
Spec parse_spec(std::string_view text, const std::string& source = "<text>");
// Reads and parses a spec file; the name defaults to the file's stem.
Spec load_spec(const std::string& path);

// Applies one `--set key=value` and re-validates. Keys: name, description, task, cells,
// trials, seed, search, out, task.K, fixed.K, space.K, evolution.K (space.K and fixed.K
// move K out of the other section). Unknown keys throw cellzoo::Error.
void apply_override(Spec& spec, std::string_view assignment);

// The canonical text: fixed top-level key order, sections sorted, numbers normalised.
// parse_spec(to_text(s)) gives back the same spec.
std::string to_text(const Spec& spec);
// 32 hex digits: hash of to_text() without the `out` line. Everything else (including
// trials, see experiments/README.md) is part of a sweep's identity.
std::string spec_hash(const Spec& spec);

// ---- Runs ----------------------------------------------------------------------------

struct HyperColumn {
  enum class Kind { number, text };
  std::string name;
  Kind kind = Kind::number;
};
// The hyperparameter columns of the results file, in a stable order: [space] names, then
// [fixed] names (each sorted), then "task.<key>" for task options; under a param_budget
// also "hidden" (the solved size, NaN until apply_param_budget), right after
// "param_budget".
std::vector<HyperColumn> hyper_columns(const Spec& spec);

using HyperValue = std::variant<double, std::string>;

struct RunSpec {
  std::int64_t run_id = 0;  // index in the expansion: cell-major, then trial
  std::string cell;
  std::string task;
  std::int64_t trial = 0;  // same trial index -> same hyperparameters for every cell
  std::uint64_t seed = 0;  // derive_seed(spec seed, "<cell>/trial/<i>")
  // Every fixed and sampled hyperparameter plus "task.<key>" for task options; numbers in
  // shortest round-trip form (std::to_chars), so parsing them back gives the same double.
  std::map<std::string, std::string> settings;
  std::map<std::string, std::string> task_options;  // the task.* settings without prefix
  std::map<std::string, HyperValue> hyper;          // one entry per hyper_columns() name
  std::string run_key;                              // 32 hex digits identifying the configuration
  std::string label;                                // e.g. "lstm-cifg/hidden:128/lr:0.01/trial:3"
  train::TrainConfig config;                        // train::resolve(settings), checked by expand
};

// Runs per cell: trials (random search) or grid points x trials (grid search).
std::int64_t runs_per_cell(const Spec& spec);
std::int64_t run_count(const Spec& spec);  // cells x runs_per_cell
// Whether the spec sets param_budget (in [fixed] other than "none", or in [space]): its
// runs' hidden is then solved per run by apply_param_budget, and hyper_columns() has a
// "hidden" column right after "param_budget".
bool has_param_budget(const Spec& spec);
// Solves run.config.param_budget for the task (train/budget.hpp) into run.config.hidden
// and the run's "hidden" column; a budget too small for the cell is an error at the spec
// line of param_budget, naming the run. Does nothing for a run without a budget. expand()
// cannot do it: the model's size depends on the task's data (its vocabulary).
void apply_param_budget(const Spec& spec, RunSpec& run, const datasets::TaskInfo& task);
// The [space] values drawn from `draw_seed`: dimension NAME from its own stream
// derive_seed(draw_seed, NAME), so random-search trial i is draw_settings(spec,
// derive_seed(seed, "trial/<i>")). Lists are choices. Used by the evolutionary search.
std::map<std::string, std::string> draw_settings(const Spec& spec, std::uint64_t draw_seed);
// Every run of the spec. Validates each run's settings against the training engine's
// hyperparameter table, reporting an unknown name with its spec line. Materialises the
// whole list (about 9 KB a run): sweeps use RunEnumerator, which computes one run at a time.
std::vector<RunSpec> expand(const Spec& spec);

// The runs of a random or grid search without the list: run i (its cell, trial, seed,
// settings, hyper values, run key, label and config) is computed from i alone, exactly as
// expand()[i], so a shard of a million-run sweep enumerates only its own runs. An
// evolutionary search has no run list (its runs depend on earlier results): the
// constructor refuses one. Holds a copy of the spec; about 1 KB plus the spec.
class RunEnumerator {
 public:
  explicit RunEnumerator(const Spec& spec);

  const Spec& spec() const { return spec_; }
  std::int64_t size() const { return total_; }  // run_count(spec)
  std::int64_t runs_per_cell() const { return per_cell_; }
  const std::vector<HyperColumn>& columns() const { return columns_; }

  // Run `run_id` (0 <= run_id < size(), else cellzoo::Error) with its config resolved; a
  // bad setting throws what expand() throws for that run.
  RunSpec at(std::int64_t run_id) const;
  // at() without resolving the config (run.config keeps its defaults): the cheap part.
  RunSpec describe(std::int64_t run_id) const;
  // Just the run key, cheaper still (no maps).
  std::string run_key(std::int64_t run_id) const;
  const std::string& cell_of(std::int64_t run_id) const;
  std::int64_t trial_of(std::int64_t run_id) const;
  // The settings of trial `trial` (fixed, drawn, and task.* options): the same for every
  // cell, and all that run.config depends on.
  std::map<std::string, std::string> trial_settings(std::int64_t trial) const;

  // Calls f(const RunSpec&) for runs [begin, end) in order, one at a time (at()).
  template <typename F>
  void visit(std::int64_t begin, std::int64_t end, F&& f) const {
    for (std::int64_t i = begin; i < end; ++i) f(at(i));
  }
  // Calls f(run_id, trial) once for each trial among runs [begin, end), at its first run
  // there, in run order. A run's settings (and config) depend on its trial alone, so
  // what is checked per setting is checked per trial: a few bits a trial.
  template <typename F>
  void visit_trials(std::int64_t begin, std::int64_t end, F&& f) const {
    begin = begin < 0 ? 0 : begin;
    end = end > total_ ? total_ : end;
    if (begin >= end) return;
    const std::int64_t first = begin % per_cell_;
    std::vector<bool> seen(
        static_cast<std::size_t>(end - begin < per_cell_ ? end - begin : per_cell_));
    for (std::int64_t i = begin; i < end; ++i) {
      const std::int64_t trial = i % per_cell_;
      const auto bit = static_cast<std::size_t>((trial - first + per_cell_) % per_cell_);
      if (seen[bit]) continue;
      seen[bit] = true;
      f(i, trial);
    }
  }
  // Validates the settings of runs [begin, end) as expand() does, throwing the same error
  // for the first bad run, but once per trial and value rather than once per run.
  void check(std::int64_t begin, std::int64_t end) const;
  // The [space] values of trial `trial` (the same for every cell), one per
  // spec().space entry in order.
  std::vector<std::string> trial_values(std::int64_t trial) const;

 private:
  // Where a settings entry comes from: a fixed or [task] text, or [space] dimension `dim`.
  struct Slot {
    std::string key;
    std::string text;  // fixed / task option value (dim < 0)
    int dim = -1;      // index into dims_
  };
  void range_check(std::int64_t run_id) const;

  Spec spec_;
  std::int64_t per_cell_ = 0, total_ = 0, points_ = 1;
  std::vector<HyperColumn> columns_;
  std::vector<std::pair<std::string, Dimension>> dims_;  // spec_.space, in order
  std::vector<Slot> slots_;                              // settings keys, sorted
};

// Resolves every cell of `spec.cells` in the registry (cell-language files are read and
// checked); an unknown or broken cell is one error at the spec line that names it.
void check_cells(const Spec& spec);

// ---- Sharding ------------------------------------------------------------------------

struct Shard {
  std::int64_t index = 0;  // K in 0..count-1
  std::int64_t count = 1;  // N
};
Shard parse_shard(std::string_view text);  // "K/N"
// Block K of N contiguous blocks of [0, total): sizes differ by at most one, every index in
// exactly one block. Throws cellzoo::Error when K or N are out of range.
std::pair<std::int64_t, std::int64_t> shard_range(std::int64_t total, std::int64_t index,
                                                  std::int64_t count);

// 32 hex digits of a 128-bit hash of `text` (two chained hash64 calls).
std::string hash_hex128(std::string_view text);

// A run's run_key: hash_hex128 of its cell, task, run seed and settings (values as a spec
// holds them, see normalise_value). `cellzoo train --out` keys its run the same way, so a
// configuration has one key whichever command trained it.
std::string make_run_key(const std::string& cell, const std::string& task, std::uint64_t seed,
                         const std::map<std::string, std::string>& settings);
// A value as a spec holds it: trimmed; a number in shortest round-trip form ("1e-2" ->
// "0.01", "64.0" -> "64").
std::string normalise_value(std::string_view text);

}  // namespace cellzoo::sweep
