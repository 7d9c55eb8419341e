// run_sweep(): expand the spec, open (or resume) the results file, record the cell texts,
// and hand the pending runs to execute_batch (batch.hpp).
#include "framework/sweep/executor.hpp"

#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>

#include "framework/cells/registry.hpp"
#include "framework/store/parameters.hpp"
#include "framework/store/results_file.hpp"
#include "framework/sweep/batch.hpp"
#include "framework/sweep/evolution.hpp"
#include "framework/sweep/progress.hpp"
#include "framework/sweep/reuse.hpp"
#include "framework/sweep/run_params.hpp"
#include "framework/sweep/spec_text.hpp"
#include "framework/train/trainer.hpp"
#include "framework/util/build_info.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::sweep {

namespace {

// The spec line of the task option a task's error is about: the option named in the
// message ("option 'lenght'", "option length=-3") or whose value it quotes (a data path).
std::string task_option_origin(const Spec& spec, const std::string& message) {
  const auto names = [&](const std::string& key, const std::string& value) {
    return message.find("option '" + key + "'") != std::string::npos ||
           message.find("option " + key + "=") != std::string::npos ||
           (value.size() > 2 && message.find(value) != std::string::npos);
  };
  for (const auto& [key, value] : spec.task_options)
    if (names(key, value.text)) return value.origin;
  for (const auto& [name, dim] : spec.space)
    if (name.rfind("task.", 0) == 0 && names(name.substr(5), "")) return dim.origin;
  return "";
}

}  // namespace

std::vector<train::TrainConfig> check_task_variants(const RunEnumerator& runs, std::int64_t begin,
                                                    std::int64_t end, TaskDataCache& cache) {
  const Spec& spec = runs.spec();
  std::vector<train::TrainConfig> variants;
  const auto consider = [&](train::TrainConfig config) {
    try {
      (void)cache.get(spec.task, config);
    } catch (const Error& e) {
      const auto origin = task_option_origin(spec, e.what());
      if (origin.empty()) throw;
      throw Error(origin + ": " + e.what(), e.hint());
    }
    variants.push_back(std::move(config));
  };
  if (begin >= end) return variants;
  const bool searched = std::any_of(spec.space.begin(), spec.space.end(),
                                    [](const auto& d) { return d.first.starts_with("task."); });
  if (!searched) {  // every run has the same task options
    consider(runs.at(begin).config);
    return variants;
  }
  std::set<std::map<std::string, std::string>> seen;
  runs.visit_trials(begin, end, [&](std::int64_t i, std::int64_t trial) {
    std::map<std::string, std::string> options;
    for (const auto& [k, v] : runs.trial_settings(trial))
      if (k.starts_with("task.")) options.emplace(k.substr(5), v);
    if (seen.insert(std::move(options)).second) consider(runs.at(i).config);
  });
  return variants;
}

BudgetSolver::BudgetSolver(const Spec& spec, TaskDataCache& cache)
    : spec_(spec), cache_(cache), active_(has_param_budget(spec)) {}

void BudgetSolver::apply(RunSpec& run) {
  if (!active_) return;
  const train::TrainConfig& c = run.config;
  std::string key = run.cell + "|" + std::to_string(c.param_budget) + "|" + c.values.at("layers") +
                    "|" + c.values.at("embed");
  for (const auto& [k, v] : c.task_options) key += "|" + k + "=" + v;
  std::lock_guard lock(mutex_);
  if (const auto it = solved_.find(key); it != solved_.end()) {
    run.config.hidden = it->second;
    run.config.values["hidden"] = std::to_string(it->second);
    run.hyper["hidden"] = static_cast<double>(it->second);
  } else {
    apply_param_budget(spec_, run, cache_.get(spec_.task, run.config)->info);
    solved_.emplace(key, run.config.hidden);
  }
}

LargestRun largest_run(const RunEnumerator& runs, std::int64_t begin, std::int64_t end,
                       TaskDataCache& cache, BudgetSolver& budgets) {
  // What estimate_memory depends on besides the cell and the task data: the [space]
  // dimensions among these give each trial its shape; everything else is the same for all.
  // (param_budget: the solved hidden.)
  static const std::set<std::string> kShape = {"hidden", "embed",     "batch_size",
                                               "bptt",   "optimizer", "momentum",
                                               "layers", "data_seed", "param_budget"};
  const Spec& spec = runs.spec();
  std::vector<std::pair<std::size_t, std::string>> shape_dims;  // (index in space, name)
  std::size_t d = 0;
  for (const auto& [name, dim] : spec.space) {
    if (kShape.count(name) || name.starts_with("task.")) shape_dims.emplace_back(d, name);
    ++d;
  }
  const std::int64_t per_cell = runs.runs_per_cell();
  const std::int64_t first = begin % std::max<std::int64_t>(per_cell, 1);
  std::vector<int> shape_of;  // per trial of the range (as in visit_trials), -1 = not yet
  if (!shape_dims.empty() && begin < end)
    shape_of.assign(static_cast<std::size_t>(std::min(per_cell, end - begin)), -1);
  std::map<std::string, int> shape_ids;
  const auto shape = [&](std::int64_t trial) {
    if (shape_dims.empty()) return 0;
    int& id = shape_of[static_cast<std::size_t>((trial - first + per_cell) % per_cell)];
    if (id < 0) {
      const auto values = runs.trial_values(trial);
      std::string key;
      for (const auto& [index, name] : shape_dims) {
        const auto& v = values[index];
        // Only whether there is momentum changes the optimiser state.
        key += name == "momentum" ? (parse_number(v).value_or(1) > 0 ? "+" : "0") : v;
        key += '\n';
      }
      id = shape_ids.emplace(key, static_cast<int>(shape_ids.size())).first->second;
    }
    return id;
  };
  LargestRun largest;
  for (std::int64_t cell_begin = begin; cell_begin < end;) {
    const std::int64_t cell_end = std::min(end, (cell_begin / per_cell + 1) * per_cell);
    std::set<int> seen;
    for (std::int64_t i = cell_begin; i < cell_end; ++i) {
      if (!seen.insert(shape(i % per_cell)).second) continue;
      RunSpec run = runs.at(i);
      budgets.apply(run);
      train::MemoryEstimate estimate;
      try {
        estimate = train::estimate_memory(cells::CellRegistry::instance().get(run.cell),
                                          *cache.get(spec.task, run.config), run.config);
      } catch (const Error& e) {  // a model the task cannot take (cellzoo sweep --dry-run)
        throw Error(std::string(e.what()) + " (run " + run.label + ")", e.hint());
      }
      if (!largest.run || estimate.bytes > largest.estimate.bytes)
        largest = {estimate, std::move(run)};
    }
    cell_begin = cell_end;
  }
  return largest;
}

void check_memory(const LargestRun& largest) {
  const double available = train::available_memory_bytes();
  if (!largest.run || available <= 0 || largest.estimate.bytes <= available) return;
  const auto& e = largest.estimate;
  throw Error("run " + largest.run->label + " needs about " + train::format_bytes(e.bytes) +
                  " of memory (" + std::to_string(e.parameters) +
                  " parameters: " + train::format_bytes(e.parameter_bytes) +
                  " with gradient and optimiser state; activations of a batch of " +
                  std::to_string(e.batch_sequences) + " x " + std::to_string(e.longest_steps) +
                  " steps: " + train::format_bytes(e.activation_bytes) + "), more than the " +
                  train::format_bytes(available) + " this machine has",
              "lower hidden (or batch_size) for such runs in the spec; 'cellzoo sweep SPEC "
              "--dry-run' prints the largest estimate");
}

namespace {

// "section.key" -> value of a canonical spec text (to_text).
std::map<std::string, std::string> spec_entries(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream lines(text);
  std::string section;
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2) + ".";
      continue;
    }
    const auto eq = line.find(" = ");
    if (eq != std::string::npos) out[section + line.substr(0, eq)] = line.substr(eq + 3);
  }
  out.erase("out");
  out.erase("strict_build");
  return out;
}

// A resume into a file of another spec: refused, naming the keys that differ.
void check_same_spec(const std::string& path, const Spec& spec, const std::string& hash) {
  const auto meta = store::ResultsReader::open(path).meta();
  if (meta.spec_hash == hash) return;
  const auto old_entries = spec_entries(meta.spec_text);
  const auto new_entries = spec_entries(to_text(spec));
  std::string changes;
  std::size_t n = 0;
  const auto add = [&](const std::string& line) {
    if (++n <= 8) changes += "\n  " + line;
  };
  for (const auto& [key, value] : new_entries) {
    const auto it = old_entries.find(key);
    if (it == old_entries.end())
      add(key + " = " + value + " (not in the file's spec)");
    else if (it->second != value)
      add(key + ": " + it->second + " in the file, " + value + " now");
  }
  for (const auto& [key, value] : old_entries)
    if (!new_entries.count(key)) add(key + " = " + value + " (only in the file's spec)");
  if (n > 8) changes += "\n  ... (" + std::to_string(n - 8) + " more)";
  throw Error("'" + path + "' was written by another spec (spec_hash " + meta.spec_hash +
                  ", this spec has " + hash + "); what differs:" +
                  (changes.empty() ? std::string("\n  (nothing in the spec text: another "
                                                 "cellzoo version?)")
                                   : changes),
              "write this spec to a new file with --out NEW.h5, and add --reuse " + path +
                  " to copy its runs that are still in the sweep instead of training them");
}

// A resume whose run has another run_key than the file's run of the same id: the same spec
// drew another configuration, which happens when another build rounds a sampled value
// differently (README, "Reproducibility"). Refused before the file is touched.
void check_run_keys(const std::string& path, const RunEnumerator& runs, std::int64_t begin,
                    std::int64_t end,
                    std::vector<std::pair<std::int64_t, store::RunKey>> file_keys) {
  std::erase_if(file_keys, [&](const auto& row) { return row.first < begin || row.first >= end; });
  std::sort(file_keys.begin(), file_keys.end());  // the first run of the share that differs
  for (const auto& [id, key] : file_keys) {
    if (store::make_run_key(runs.run_key(id)) == key) continue;
    const RunSpec run = runs.describe(id);
    throw Error("run " + std::to_string(run.run_id) + " (" + run.label + ") has run_key " +
                    run.run_key + " here but " + store::run_key_text(key) + " in '" + path +
                    "': the same spec drew another configuration, as happens when another build "
                    "or processor rounds a sampled hyperparameter differently in its last digit",
                "resume with the binary that made the file (cellzoo --version; the file's "
                "numerical_path), or write to a new file with --out and --reuse '" +
                    path + "' (runs whose configuration matches are copied)");
  }
}

// A resume or --reuse that would put runs of another numerical path (util/build_info.hpp)
// next to this process's: a warning that says which, or an error under strict_build.
// `sessions` are those of the runs concerned.
void check_numerical_paths(const std::string& what, const std::vector<store::Session>& sessions,
                           bool strict, std::ostream& log) {
  std::string others;
  std::int64_t n_other = 0;
  for (const auto& [path, n] : store::paths_of(sessions)) {
    if (path == numerical_path()) continue;
    others += "\n  " + std::to_string(n) + " runs: " +
              (path == "unknown" ? "unknown (written by a cellzoo that did not record it)" : path);
    n_other += n;
  }
  if (others.empty()) return;
  const std::string message =
      what + " holds " + std::to_string(n_other) +
      " runs computed on another numerical path (build or processor):" + others +
      "\n  this process: " + numerical_path();
  if (strict)
    throw Error(message,
                "run it with the binary and kind of processor that made those runs, or write "
                "to a new file; without --strict-build (spec: strict_build) the runs are mixed "
                "with a warning and /provenance records which came from which path");
  log << "[sweep] warning: " << message
      << "\n  [sweep] such runs agree to rounding, not bit for bit; the file records which runs "
         "came from which path (/provenance) and cellzoo report notes it; --strict-build "
         "refuses instead"
      << std::endl;
}

// The sessions of the runs of `source` whose run_key is in `keys` (those --reuse may copy).
std::vector<store::Session> reusable_sessions(const std::string& source,
                                              const store::RunKeySet& keys) {
  const auto reader = store::ResultsReader::open(source);
  std::set<std::int64_t> ids;
  for (const auto& [id, key] : reader.run_keys())
    if (keys.contains(key)) ids.insert(id);
  auto sessions = reader.sessions();
  for (auto& s : sessions)
    std::erase_if(s.run_ids, [&](std::int64_t id) { return !ids.count(id); });
  return sessions;
}

// --save-params: writes each recorded run's best parameters beside the results file, or
// (best) only those of each cell's best run by validation metric so far, deleting the
// file of the run it displaces. A run without a finished epoch has none to save.
class ParamsSaver {
 public:
  ParamsSaver(SweepOptions::SaveParams mode, std::string out, bool higher_is_better,
              TaskDataCache& data)
      : mode_(mode), out_(std::move(out)), higher_(higher_is_better), data_(data) {}

  // Runs already in the file (a resume) compete for "best" too.
  void seed(const std::vector<store::RunRow>& rows) {
    for (const auto& row : rows) consider(row);
  }

  void operator()(const RunSpec& run, const store::RunRow& row, const train::TrainResult& r,
                  const train::TrainConfig& config) {
    if (mode_ == SweepOptions::SaveParams::none || r.parameters.size() == 0) return;
    std::string displaced;
    if (mode_ == SweepOptions::SaveParams::best) {
      const auto before = best_.find(row.cell);
      const std::string old_key = before == best_.end() ? "" : before->second.second;
      if (!consider(row)) return;
      displaced = old_key;
    }
    std::error_code ec;
    std::filesystem::create_directories(store::params_dir_for(out_), ec);
    const auto path = store::run_params_path(out_, row.run_key);
    std::filesystem::remove(path, ec);  // left by a killed earlier attempt of this run
    save_run_parameters(
        path, train::RunConfig{run.cell, run.task, config, run.seed},
        data_.get(run.task, config)->info, r,
        {{"run_key", row.run_key}, {"run_id", std::to_string(row.run_id)}, {"results_file", out_}});
    if (!displaced.empty()) std::filesystem::remove(store::run_params_path(out_, displaced), ec);
  }

 private:
  // Whether `row` is its cell's best so far (and then records it).
  bool consider(const store::RunRow& row) {
    if ((row.status != "ok" && row.status != "timeout") || !std::isfinite(row.valid_metric))
      return false;
    const auto it = best_.find(row.cell);
    if (it != best_.end() &&
        !(higher_ ? row.valid_metric > it->second.first : row.valid_metric < it->second.first))
      return false;
    best_[row.cell] = {row.valid_metric, row.run_key};
    return true;
  }

  SweepOptions::SaveParams mode_;
  std::string out_;
  bool higher_;
  TaskDataCache& data_;
  std::map<std::string, std::pair<double, std::string>> best_;  // cell -> (metric, run_key)
};

// Copies the `pending` runs found in the --reuse files into `writer` (one flush), shows
// them to `best`, and returns the runs still to train.
std::vector<std::int64_t> copy_reused(const std::vector<std::string>& files,
                                      const RunEnumerator& runs, BudgetSolver& budgets,
                                      const std::vector<std::int64_t>& pending,
                                      const std::vector<store::CellText>& cell_rows,
                                      store::ResultsWriter& writer, SweepSummary& summary,
                                      BestRun& best, std::ostream& log) {
  std::map<std::string, store::CellText> cell_texts;
  for (const auto& row : cell_rows) cell_texts.emplace(row.name, row);
  const ReusePlan plan = plan_reuse(files, runs, pending, cell_texts, [&](std::int64_t id) {
    RunSpec run = runs.at(id);
    budgets.apply(run);
    return run;
  });
  for (const auto& note : plan.notes) log << "[sweep] note: " << note << std::endl;
  if (plan.changed_cell_text > 0)
    log << "[sweep] " << plan.changed_cell_text
        << " matching runs not reused: their cell file's text (or plugin build) changed since"
        << std::endl;
  writer.append_batch(plan.runs, plan.curves, plan.origins);
  for (const auto& line : plan.sources) writer.record_reuse(line);
  summary.reused = static_cast<std::int64_t>(plan.runs.size());
  std::set<std::int64_t> copied;
  for (const auto& row : plan.runs) {
    copied.insert(row.run_id);
    best.consider(writer.meta().metric_higher_is_better, row.status, row.valid_metric,
                  row.test_metric);
  }
  std::vector<std::int64_t> rest;
  for (std::int64_t i : pending)
    if (!copied.count(i)) rest.push_back(i);
  return rest;
}

// A resume must not mix runs of two builds of a plugin: the plugin cells' /cells rows
// (plugin_cell_row) must equal the file's, checked before the file is opened for writing.
void check_plugin_builds(const std::string& path, const std::vector<store::CellText>& rows) {
  std::map<std::string, store::CellText> recorded;
  for (auto& cell : store::ResultsReader::open(path).cells()) recorded.emplace(cell.name, cell);
  for (const auto& row : rows) {
    const auto it = recorded.find(row.name);
    if (!row.text.starts_with("plugin ") || it == recorded.end() || it->second == row) continue;
    throw Error(path + " holds runs of cell '" + row.name + "' made with " + it->second.text +
                    " (hash " + it->second.hash + "), not with " + row.text + " (hash " + row.hash +
                    ")",
                "load the plugin build the file was made with, or write to a new --out file");
  }
}

// The steps of run_sweep, in the order it takes them.

// Runs [begin, end) of the spec that this process runs (all of them, or one --shard).
struct Share {
  std::int64_t begin = 0, end = 0;
  std::string shard_text;  // "i/n", or empty for the whole sweep
};

Share share_of(const RunEnumerator& runs, const SweepOptions& options) {
  Share share{0, runs.size(), ""};
  if (options.shard) {
    std::tie(share.begin, share.end) =
        shard_range(share.end, options.shard->index, options.shard->count);
    share.shard_text =
        std::to_string(options.shard->index) + "/" + std::to_string(options.shard->count);
  }
  return share;
}

// Every --reuse file exists, is not the output, and opens as a results file.
void check_reuse_files(const std::vector<std::string>& reuse, const std::string& out) {
  for (const auto& source : reuse) {
    std::error_code ec;
    if (!std::filesystem::exists(source))
      throw Error("--reuse file '" + source + "' does not exist",
                  "pass an earlier results file (.h5) of a sweep");
    if (std::filesystem::equivalent(source, out, ec))
      throw Error("--reuse file '" + source + "' is the output file",
                  "its runs are resumed anyway; pass earlier files to --reuse");
    (void)store::ResultsReader::open(source);  // a corrupt or foreign file fails here
  }
}

// The share's run keys in run order (32 bytes a run), computed on the sweep's workers (a
// million keys take about a second on one core).
std::vector<store::RunKey> share_run_keys(const RunEnumerator& runs, const Share& share, int jobs) {
  std::vector<store::RunKey> keys(static_cast<std::size_t>(share.end - share.begin));
  // (At most the cores: a larger arena alone makes TBB print a warning.)
  tbb::task_arena(std::min(jobs, tbb::info::default_concurrency())).execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::int64_t>(share.begin, share.end, 4096), [&](const auto& range) {
          for (std::int64_t i = range.begin(); i < range.end(); ++i)
            keys[static_cast<std::size_t>(i - share.begin)] = store::make_run_key(runs.run_key(i));
        });
  });
  return keys;
}

// What an existing output file holds, as far as the resume needs it.
struct ExistingFile {
  bool present = false;
  std::optional<store::FileMeta> meta;
  std::vector<store::CellText> cells;
  std::vector<store::HyperColumn> columns;
  BestRun best;  // the best of the share's runs already there ("best valid" on the bar)
};

// A resume reads the file's run keys, statuses and metrics in one pass, in blocks, not its
// rows: a key of the share there marks its run done. Returns the share's runs not in the
// file yet (all of them without a file) and counts the others in summary.already_done.
std::vector<std::int64_t> scan_existing(const Spec& spec, const std::string& hash,
                                        const Share& share, const RunEnumerator& runs, int jobs,
                                        bool strict, const std::vector<std::string>& reuse,
                                        SweepSummary& summary, ExistingFile& existing,
                                        std::ostream& log) {
  std::vector<store::RunKey> share_order = share_run_keys(runs, share, jobs);
  const store::RunKeySet share_keys(share_order);
  std::vector<bool> in_file(share_keys.size());  // per key of share_keys
  existing.present = store::results_file_present(summary.out);
  if (existing.present) {
    check_same_spec(summary.out, spec, hash);
    const auto reader = store::ResultsReader::open(summary.out);
    const bool higher = reader.meta().metric_higher_is_better;
    std::vector<std::int64_t> ids;
    reader.for_each_outcome([&](const store::RunOutcome& o) {
      ids.push_back(o.run_id);
      const std::size_t k = share_keys.index(o.key);
      if (k == store::RunKeySet::npos) return;
      in_file[k] = true;
      existing.best.consider(higher, o.status, o.valid_metric, o.test_metric);
    });
    // Runs of another numerical path in the file (resume) or in what --reuse may copy: a
    // warning, or under strict_build an error before the file is touched.
    check_numerical_paths(summary.out, reader.sessions(ids), strict, log);
    existing.meta = reader.meta();
    existing.cells = reader.cells();
    existing.columns = reader.hyper_columns();
  }
  std::vector<std::int64_t> pending;
  for (std::int64_t i = share.begin; i < share.end; ++i) {
    if (in_file[share_keys.index(share_order[static_cast<std::size_t>(i - share.begin)])])
      ++summary.already_done;
    else
      pending.push_back(i);
  }
  for (const auto& source : reuse)
    check_numerical_paths("--reuse file " + source, reusable_sessions(source, share_keys), strict,
                          log);
  return pending;
}

// The output file opened for writing (created, or opened for the resume), every row to
// come checked against its columns first; none when a finished file of this very share
// already holds every run and cell text (a resume with nothing to do only reads the file:
// opening it for writing would change its modification time, and closing it its bytes).
std::optional<store::ResultsWriter> open_output(
    const Spec& spec, const SweepOptions& options, const std::string& hash, const Share& share,
    const RunEnumerator& runs, const ExistingFile& existing,
    const std::vector<std::int64_t>& pending, const std::vector<store::CellText>& cell_rows,
    const TaskDataPtr& first_data, const std::string& out) {
  const auto& columns = runs.columns();
  const std::vector<store::HyperColumn> file_columns = store_columns(columns);
  // Each run's row is checked against the file's columns (a value wider than its column)
  // now, not after the first run has trained.
  train::TrainResult probe;
  probe.status = "ok";
  const auto probe_row = [&](std::int64_t i) { return make_row(runs.describe(i), columns, probe); };
  const bool finished =
      existing.present && existing.meta->spec_hash == hash &&
      existing.meta->shard == share.shard_text && !existing.meta->finished_utc.empty() &&
      existing.columns == file_columns && pending.empty() &&
      std::all_of(cell_rows.begin(), cell_rows.end(), [&](const store::CellText& row) {
        return std::find(existing.cells.begin(), existing.cells.end(), row) != existing.cells.end();
      });
  if (finished) return std::nullopt;
  if (existing.present) {
    // Anything open_for_resume refuses, it says why.
    check_plugin_builds(out, cell_rows);
    check_run_keys(out, runs, share.begin, share.end, store::ResultsReader::open(out).run_keys());
    auto writer = store::ResultsWriter::open_for_resume(out, hash, share.shard_text);
    if (writer.hyper_columns() != file_columns)
      throw Error(out + " has other hyperparameter columns than this spec",
                  "use another --out file");
    for (std::int64_t i : pending) writer.check(probe_row(i));
    return writer;
  }
  for (std::int64_t i = share.begin; i < share.end; ++i)
    store::ResultsWriter::check_new(probe_row(i), file_columns);
  const auto parent = std::filesystem::path(out).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  store::FileMeta meta;
  meta.spec_text = to_text(spec);
  meta.spec_hash = hash;
  meta.total_runs = runs.size();
  meta.shard = share.shard_text;
  meta.task = spec.task;
  if (first_data) {
    meta.metric = train::metric_name(first_data->info.metric);
    meta.metric_higher_is_better = train::metric_higher_is_better(first_data->info.metric);
  }
  meta.command_line = options.command_line;
  return store::ResultsWriter::create(out, meta, file_columns);
}

// The progress bar's last line.
std::string closing_line(const SweepSummary& summary) {
  if (summary.interrupted)
    return "interrupted: " + std::to_string(summary.recorded) + " runs recorded, " +
           std::to_string(summary.total - summary.already_done - summary.reused -
                          summary.recorded) +
           " left; re-run the same command to resume";
  return "done: " + std::to_string(summary.recorded) + " runs recorded (" +
         std::to_string(summary.ok) + " ok, " + std::to_string(summary.diverged) + " diverged, " +
         std::to_string(summary.failed) + " failed, " + std::to_string(summary.timeout) +
         " timeout) in " + summary.out;
}

}  // namespace

SweepSummary run_sweep(const Spec& spec, const SweepOptions& options, const std::atomic<bool>& stop,
                       std::ostream& log) {
  if (spec.search == Search::evolution) {
    if (!options.reuse.empty())
      throw Error("--reuse is for grid and random searches", "drop --reuse");
    if (options.save_params != SweepOptions::SaveParams::none)
      throw Error("--save-params is for grid and random searches", "drop --save-params");
    return run_evolution(spec, options, stop, log);
  }
  // Everything that can be wrong with the input is checked before the file is touched.
  // Only this share's runs are enumerated (RunEnumerator): nothing holds the run list.
  const RunEnumerator runs(spec);
  const Share share = share_of(runs, options);
  if (options.jobs < 0) throw Error("--jobs must be at least 1 (or 0 for every core)");
  runs.check(share.begin, share.end);  // every run's settings, once per trial
  TaskDataCache task_data;
  const auto variants = check_task_variants(runs, share.begin, share.end, task_data);
  const TaskDataPtr first_data =
      variants.empty() ? TaskDataPtr{} : task_data.get(spec.task, variants.front());
  check_cells(spec);  // unknown cells fail now, at their spec line, not in a worker
  BudgetSolver budgets(spec, task_data);  // every budget solved by largest_run, now
  check_memory(largest_run(runs, share.begin, share.end, task_data, budgets));
  std::vector<store::CellText> cell_rows;  // language cells' texts, plugin cells' builds
  for (const auto& cell : spec.cells) {
    if (auto row = language_cell_row(cell)) cell_rows.push_back(std::move(*row));
    if (auto row = plugin_cell_row(cell)) cell_rows.push_back(std::move(*row));
  }
  SweepSummary summary;
  summary.out = options.out.empty() ? output_path(spec) : options.out;
  summary.total = share.end - share.begin;
  check_reuse_files(options.reuse, summary.out);

  const int jobs = options.jobs > 0 ? options.jobs : tbb::info::default_concurrency();
  const std::string hash = spec_hash(spec);
  ExistingFile existing;
  std::vector<std::int64_t> pending =
      scan_existing(spec, hash, share, runs, jobs, options.strict_build || spec.strict_build,
                    options.reuse, summary, existing, log);
  std::optional<store::ResultsWriter> writer = open_output(
      spec, options, hash, share, runs, existing, pending, cell_rows, first_data, summary.out);
  const store::FileMeta file_meta = writer ? writer->meta() : *existing.meta;
  // Before the first run of each language cell (add_cell skips rows already present).
  if (writer)
    for (const auto& row : cell_rows) writer->add_cell(row);
  BestRun prior_best = existing.best;
  if (!options.reuse.empty() && !pending.empty())
    pending = copy_reused(options.reuse, runs, budgets, pending, cell_rows, *writer, summary,
                          prior_best, log);
  log << "[sweep] " << summary.out << ": " << summary.total << " runs"
      << (share.shard_text.empty() ? "" : " in shard " + share.shard_text) << ", "
      << summary.already_done << " already done, "
      << (options.reuse.empty() ? "" : std::to_string(summary.reused) + " reused, ")
      << pending.size() << " to run" << std::endl;

  Progress progress(log, summary.total, summary.already_done + summary.reused, options.terminal,
                    file_meta.metric, file_meta.metric_higher_is_better, options.log_interval);
  progress.existing(prior_best);  // "best valid" counts the share's runs that were there
  ParamsSaver save_params(options.save_params, summary.out, file_meta.metric_higher_is_better,
                          task_data);
  if (options.save_params == SweepOptions::SaveParams::best && summary.already_done > 0)
    save_params.seed(store::ResultsReader::open(summary.out).runs());
  std::exception_ptr error;
  if (writer) try {
      const BatchSummary b = execute_batch(
          pending.size(),
          [&](std::size_t k) {
            RunSpec run = runs.at(pending[k]);
            budgets.apply(run);
            train::TrainConfig config = run.config;
            return PlannedRun{std::move(run), std::move(config)};
          },
          runs.columns(), *writer, task_data, jobs, progress, stop, options.terminal, {},
          [&](const RunSpec& run, const store::RunRow& row, const train::TrainResult& r,
              const train::TrainConfig& config) { save_params(run, row, r, config); });
      summary.recorded = b.recorded;
      summary.ok = b.ok;
      summary.diverged = b.diverged;
      summary.failed = b.failed;
      summary.timeout = b.timeout;
      summary.cancelled = b.cancelled;
    } catch (...) {
      error = std::current_exception();
    }
  summary.interrupted = stop.load();
  if (error) {
    writer->close();  // after a failed write it only releases the file; never masks `error`
    std::rethrow_exception(error);
  }
  if (writer) {
    if (summary.complete() &&
        (file_meta.finished_utc.empty() || summary.recorded > 0 || summary.reused > 0))
      writer->set_finished();
    writer->close();
  }
  progress.close(closing_line(summary));
  return summary;
}

}  // namespace cellzoo::sweep
