// cellzoo sweep: run a spec (or one shard of it) into one results file, resuming by
// default. SIGINT/SIGTERM (Ctrl-C, SLURM preemption) stop it cleanly: no new runs start,
// finished runs are kept, and the exit code is 128 + the signal number.
// --dry-run checks a spec without training or writing anything (see dry_run below).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "framework/cells/registry.hpp"
#include "framework/cli/common.hpp"
#include "framework/plugins/loader.hpp"
#include "framework/store/results_file.hpp"
#include "framework/sweep/batch.hpp"
#include "framework/sweep/evolution.hpp"
#include "framework/sweep/executor.hpp"
#include "framework/sweep/run_json.hpp"
#include "framework/train/model.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {
namespace {

std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int signo) {
  g_signal = signo;
  g_stop.store(true);
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "229/76/77 sequences" or "929589/73760/82430 stream tokens": proof that the data loaded.
std::string data_summary(const datasets::TaskData& data) {
  using datasets::Split;
  std::string out;
  for (Split s : {Split::train, Split::valid, Split::test}) {
    const auto n = data.info.stream ? data.stream(s).size() : data.sequences(s).size();
    out += (out.empty() ? "" : "/") + std::to_string(n);
  }
  return out + (data.info.stream ? " stream tokens" : " sequences");
}

std::string metric_text(const datasets::TaskData& data) {
  return std::string(train::metric_name(data.info.metric)) +
         (train::metric_higher_is_better(data.info.metric) ? ", higher is better"
                                                           : ", lower is better");
}

std::string column_names(const sweep::Spec& spec) {
  std::vector<std::string> names;
  for (const auto& c : sweep::hyper_columns(spec)) names.push_back(c.name);
  return join_names(names);
}

// The evolutionary search has no run list: check what run_evolution checks first (the
// seed cells, every stage's task options and data) and print its run bound.
void dry_run_evolution(const sweep::Spec& spec, const std::string& out, std::ostream& os) {
  const auto evo = sweep::evolution_options(spec);
  sweep::check_cells(spec);
  std::vector<std::string> stages{evo.filter_task};
  stages.insert(stages.end(), evo.tasks.begin(), evo.tasks.end());
  os << "search: evolution (" << evo.generations << " generations of "
     << evo.proposals_per_generation << " events, population " << evo.population << ")\n";
  sweep::TaskDataCache cache;
  for (const auto& task : stages) {
    std::map<std::string, std::string> settings;
    for (const auto& [k, v] : spec.fixed) settings[k] = v.text;
    for (const auto& [k, v] : sweep::draw_settings(spec, 0)) settings[k] = v;
    for (const auto& [k, v] : spec.task_options)
      if (k.starts_with(task + ".")) settings["task." + k.substr(task.size() + 1)] = v.text;
    const auto data = cache.get(task, train::resolve(settings));
    os << "task: " << task << " (" << data_summary(*data) << "; " << metric_text(*data) << ")\n";
  }
  os << "cells: " << spec.cells.size() << " seeds (" << join_names(spec.cells) << ")\n";
  os << "runs: " << sweep::run_count(spec) << " (an upper bound per shard)\n";
  os << "hyperparameter columns: " << column_names(spec) << "\n";
  os << "output: " << out << "\n";
}

// --dry-run --format json: one line of JSON per run of the share (sweep/run_json.hpp), with
// the model's size; nothing else on stdout.
// Streamed: run by run from the enumeration, so a million runs print without a list.
void dry_run_json(const sweep::RunEnumerator& runs, sweep::BudgetSolver& budgets,
                  std::int64_t begin, std::int64_t end, const std::string& task,
                  sweep::TaskDataCache& cache, std::ostream& os) {
  std::map<std::string, std::pair<long, std::string>> models;  // model shape -> size, input
  for (std::int64_t i = begin; i < end; ++i) {
    auto run = runs.at(i);
    budgets.apply(run);
    const auto& c = run.config;
    std::string key = run.cell + "|" + c.values.at("hidden") + "|" + c.values.at("layers") + "|" +
                      c.values.at("embed");
    for (const auto& [k, v] : c.task_options) key += "|" + k + "=" + v;
    auto it = models.find(key);
    if (it == models.end()) try {
        const train::Model<float> model(cells::CellRegistry::instance().get(run.cell),
                                        cache.get(task, c)->info, c);
        it = models
                 .emplace(key, std::make_pair(static_cast<long>(model.parameter_count()),
                                              train::input_mode_name(model.input_mode())))
                 .first;
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + " (run " + run.label + ")", e.hint());
      }
    os << sweep::run_json(run, it->second.first, it->second.second) << "\n";
  }
}

// --dry-run: everything run_sweep checks before it touches a file (the expansion, every
// run's settings, the task options and data, the cells), plus each cell's model on the
// task; then a summary. Trains nothing and creates no file.
int dry_run(const sweep::Spec& spec, const std::string& out_option,
            const std::optional<sweep::Shard>& shard, const std::vector<std::string>& reuse,
            bool json, std::ostream& os) {
  const std::string out = out_option.empty() ? sweep::output_path(spec) : out_option;
  if (json && spec.search == sweep::Search::evolution)
    throw Error("--format json lists the runs of grid and random searches",
                "an evolutionary search has no run list before it runs; drop --format json");
  if (!json)
    os << "spec: " << spec.source << " (name " << spec.name << ", hash " << sweep::spec_hash(spec)
       << ")\n";
  if (spec.search == sweep::Search::evolution) {
    dry_run_evolution(spec, out, os);
    os << "dry run: nothing trained, no file written\n";
    return 0;
  }
  // Only the share's runs are enumerated, one at a time: a million-run spec is summarised
  // without its run list.
  const sweep::RunEnumerator runs(spec);
  std::int64_t begin = 0, end = runs.size();
  if (shard) std::tie(begin, end) = sweep::shard_range(end, shard->index, shard->count);
  runs.check(begin, end);
  sweep::check_cells(spec);
  sweep::TaskDataCache cache;
  const auto variants = sweep::check_task_variants(runs, begin, end, cache);
  // Every distinct param_budget of the share is solved (largest_run solves them) before
  // anything is printed.
  sweep::BudgetSolver budgets(spec, cache);
  const auto largest = sweep::largest_run(runs, begin, end, cache, budgets);
  if (json) {
    dry_run_json(runs, budgets, begin, end, spec.task, cache, os);
    return 0;
  }
  const sweep::TaskDataPtr data =
      variants.empty() ? sweep::TaskDataPtr{} : cache.get(spec.task, variants.front());
  os << "task: " << spec.task;
  if (data) os << " (" << data_summary(*data) << "; " << metric_text(*data) << ")";
  os << "\n";
  for (const auto& config : variants) {  // the searched task options, one line per setting
    if (variants.size() < 2) break;
    std::string options;
    for (const auto& [k, v] : config.task_options)
      if (spec.space.count("task." + k)) options += (options.empty() ? "" : ", ") + k + "=" + v;
    os << "  with " << options << ": " << data_summary(*cache.get(spec.task, config)) << "\n";
  }
  // Each cell's model on the task at its first run of the share: catches impossible input
  // layers (a square-input cell with embed=0, ...) and shows the model's size.
  os << "cells: " << spec.cells.size() << "\n";
  for (std::int64_t i = begin; i < end; i = (i / runs.runs_per_cell() + 1) * runs.runs_per_cell()) {
    auto run = runs.at(i);
    budgets.apply(run);
    const auto entry = cells::CellRegistry::instance().get(run.cell);
    const auto& config = run.config;
    try {
      const train::Model<float> model(entry, data->info, config);
      os << "  " << run.cell << ": " << model.parameter_count() << " parameters at hidden "
         << config.hidden << " (" << train::input_mode_name(model.input_mode()) << " input)";
      if (const auto* plugin = plugins::plugin_of(run.cell))
        os << " from plugin " << plugin->path << " (hash " << plugin->hash << ")";
      os << "\n";
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + " (run " + run.label + ")", e.hint());
    }
  }
  if (largest.run) {
    const double available = train::available_memory_bytes();
    os << "memory: the largest run needs about " << train::format_bytes(largest.estimate.bytes)
       << " (" << largest.run->label << "); "
       << (available > 0 ? train::format_bytes(available) + " available" : "available unknown")
       << "\n";
    sweep::check_memory(largest);
  }
  const char* search = spec.search == sweep::Search::grid ? "grid" : "random";
  os << "runs: " << runs.size() << " (" << spec.cells.size() << " cells x " << runs.runs_per_cell()
     << " " << search << "-search runs)\n";
  if (shard)
    os << "shard: " << shard->index << "/" << shard->count << " = runs " << begin << ".." << end - 1
       << " (" << end - begin << ")\n";
  os << "hyperparameter columns: " << column_names(spec) << "\n";
  std::error_code ec;
  os << "output: " << out
     << (store::results_file_present(out)   ? " (exists: a sweep would resume into it)"
         : std::filesystem::exists(out, ec) ? " (empty: a sweep would start it afresh)"
                                            : "")
     << "\n";
  for (const auto& source : reuse) {  // by run_key (a changed .cell text is found when run)
    std::vector<store::RunKey> keys;
    for (const auto& [id, key] : store::ResultsReader::open(source).run_keys()) keys.push_back(key);
    const store::RunKeySet held(std::move(keys));
    std::int64_t found = 0;
    for (std::int64_t i = begin; i < end; ++i) found += held.contains(runs.run_key(i)) ? 1 : 0;
    os << "reuse: " << source << " holds " << found << " of the " << end - begin << " runs\n";
  }
  // The first and the last few runs of the share.
  constexpr std::int64_t kShown = 5;
  os << "first runs:\n";
  for (std::int64_t i = begin; i < std::min(end, begin + kShown); ++i)
    os << "  " << i << " " << runs.describe(i).label << "\n";
  if (end - begin > kShown) {
    os << "last runs:\n";
    for (std::int64_t i = std::max(begin + kShown, end - kShown); i < end; ++i)
      os << "  " << i << " " << runs.describe(i).label << "\n";
  }
  os << "dry run: nothing trained, no file written\n";
  return 0;
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::string spec_path, out, shard, save_params;
  int jobs = 0;
  std::vector<std::string> sets, reuse, plugin_paths;
  double log_interval = 30;
  bool dry = false;
  std::string format = "text";
  options.add_options()("spec", po::value(&spec_path)->required(),
                        "the spec file (experiments/*.ini)")(
      "out,o", po::value(&out), "results file (default: the spec's `out`, else results/<name>.h5)")(
      "jobs,j", po::value(&jobs)->default_value(0), "runs in parallel (0 = every core)")(
      "shard", po::value(&shard), "run only block K of N of the runs, as K/N (0-based)")(
      "set,s", po::value(&sets)->composing(),
      "override a spec value, e.g. trials=5, space.hidden=64, fixed.max_epochs=3, task.length=100")(
      "reuse", po::value(&reuse)->composing(),
      "copy the runs of this earlier results file whose configuration (run_key) is in the "
      "sweep instead of training them (repeatable); e.g. grow trials=50 to 200")(
      "save-params", po::value(&save_params)->default_value("none"),
      "best | all | none: save the best-validation parameters of each cell's best run so far "
      "(best) or of every run (all) as <out>.params/<run_key>.params.h5 (cellzoo eval, "
      "cellzoo_analysis.load_params)")(
      "strict-build",
      "refuse to resume or --reuse runs computed on another numerical path (another build, "
      "or a processor taking other math kernels) instead of mixing them with a warning; the "
      "spec key strict_build = true does the same")(
      "log-interval", po::value(&log_interval)->default_value(30),
      "seconds between progress lines when stderr is not a terminal")(
      "dry-run", po::bool_switch(&dry),
      "check the spec (expansion, settings, task data, each cell's model) and print the run "
      "count, columns, output file and first runs; trains nothing, writes no file")(
      "format", po::value(&format)->default_value("text"),
      "with --dry-run: text (the summary) or json (one JSON object per run: run_id, cell, "
      "trial, every resolved hyperparameter including a budget's solved hidden, n_params)");
  add_plugin_option(options, plugin_paths);
  po::positional_options_description positional;
  positional.add("spec", 1);
  po::variables_map vm;
  if (!parse_args("sweep",
                  "SPEC [--out FILE.h5] [--jobs N] [--shard K/N] [--set key=value ...] "
                  "[--reuse OLD.h5 ...] [--plugin PATH.so ...] [--save-params best|all|none] "
                  "[--strict-build] [--dry-run [--format text|json]]",
                  options, args, vm, &positional))
    return 0;
  if (!(log_interval >= 0) || !std::isfinite(log_interval))
    throw Error("--log-interval must be a number of seconds, at least 0; got " +
                    std::to_string(log_interval),
                "e.g. --log-interval 30 (0 prints a line after every run)");
  if (format != "text" && format != "json")
    throw Error("--format '" + format + "' is not text or json",
                "--dry-run --format json prints one JSON object per run");
  if (format != "text" && !dry)
    throw Error("--format is an option of --dry-run", "add --dry-run, or drop --format");
  load_plugins(plugin_paths);

  auto spec = sweep::load_spec(spec_path);
  for (const auto& s : sets) sweep::apply_override(spec, s);
  load_spec_plugins(spec);
  if (dry) {
    std::optional<sweep::Shard> dry_shard;
    if (!shard.empty()) dry_shard = sweep::parse_shard(shard);
    return dry_run(spec, out, dry_shard, reuse, format == "json", std::cout);
  }
  sweep::SweepOptions opts;
  opts.out = out;
  opts.jobs = jobs;
  if (!shard.empty()) opts.shard = sweep::parse_shard(shard);
  opts.terminal = isatty(STDERR_FILENO) != 0;
  opts.log_interval = log_interval;
  opts.reuse = reuse;
  opts.strict_build = vm.count("strict-build") > 0;
  if (save_params == "all")
    opts.save_params = sweep::SweepOptions::SaveParams::all;
  else if (save_params == "best")
    opts.save_params = sweep::SweepOptions::SaveParams::best;
  else if (save_params != "none")
    throw Error("--save-params '" + save_params + "' is not best, all or none",
                "best: each cell's best run; all: every run; none (the default)");
  opts.command_line = "cellzoo sweep";
  for (const auto& a : args) opts.command_line += " " + a;

  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  const auto summary = sweep::run_sweep(spec, opts, g_stop, std::cerr);
  if (summary.interrupted) return 128 + static_cast<int>(g_signal);
  return 0;
}

}  // namespace cellzoo::cli
