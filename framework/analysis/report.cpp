// `cellzoo report`: the report from rows, in named steps (see report.hpp). The output
// formats are in report_records.cpp (CSV, JSON) and report_table.cpp (the text table).
#include "framework/analysis/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "framework/util/error.hpp"
#include "framework/util/number_text.hpp"

namespace cellzoo::analysis {

namespace {

// Fixed numeric columns of /runs (docs/results-format.md) usable as a metric.
double fixed_column(const store::RunRow& r, const std::string& name, bool& found) {
  found = true;
  if (name == "train_loss") return r.train_loss;
  if (name == "valid_loss") return r.valid_loss;
  if (name == "test_loss") return r.test_loss;
  if (name == "valid_metric") return r.valid_metric;
  if (name == "test_metric") return r.test_metric;
  if (name == "best_epoch") return static_cast<double>(r.best_epoch);
  if (name == "epochs") return static_cast<double>(r.epochs);
  if (name == "wall_seconds") return r.wall_seconds;
  if (name == "n_params") return static_cast<double>(r.n_params);
  if (name == "trial") return static_cast<double>(r.trial);
  if (name == "valid_accuracy") return r.valid_accuracy;
  if (name == "test_accuracy") return r.test_accuracy;
  if (name == "valid_sequence_accuracy") return r.valid_sequence_accuracy;
  if (name == "test_sequence_accuracy") return r.test_sequence_accuracy;
  found = false;
  return 0;
}

const char* const kFixedNumeric[] = {"test_metric",
                                     "test_loss",
                                     "valid_metric",
                                     "valid_loss",
                                     "train_loss",
                                     "best_epoch",
                                     "epochs",
                                     "wall_seconds",
                                     "n_params",
                                     "trial",
                                     "test_accuracy",
                                     "valid_accuracy",
                                     "test_sequence_accuracy",
                                     "valid_sequence_accuracy"};

std::string join(const std::set<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "none" : s;
}

int hyper_index_of(const std::string& path, const std::vector<store::HyperColumn>& hyper,
                   const std::string& name, const char* option) {
  for (std::size_t i = 0; i < hyper.size(); ++i)
    if (hyper[i].name == name) return static_cast<int>(i);
  std::string known;
  for (const auto& h : hyper) known += (known.empty() ? "" : ", ") + h.name;
  throw Error("'" + name + "' is not a hyperparameter column of " + path,
              std::string("use ") + option + " with one of: " + (known.empty() ? "none" : known));
}

// Whether a run's column value equals the --where text: numbers compare as numbers, so
// "100", "100.0" and "1e2" all select 100.
bool value_matches(const store::HyperValue& v, const std::string& text) {
  if (const auto* d = std::get_if<double>(&v)) {
    char* end = nullptr;
    const double x = std::strtod(text.c_str(), &end);
    return !text.empty() && end == text.c_str() + text.size() && x == *d;
  }
  return std::get<std::string>(v) == text;
}

}  // namespace

std::vector<std::string> distinct_values(const std::string& path,
                                         const std::vector<store::HyperColumn>& hyper,
                                         const std::vector<store::RunRow>& runs,
                                         const std::string& name) {
  const auto i = static_cast<std::size_t>(hyper_index_of(path, hyper, name, "--by"));
  if (hyper[i].kind == store::HyperColumn::number) {
    std::set<double> numbers;
    for (const auto& r : runs) numbers.insert(std::get<double>(r.hyper.at(i)));
    std::vector<std::string> out;
    for (double d : numbers) out.push_back(shortest_text(d));
    return out;
  }
  std::set<std::string> texts;
  for (const auto& r : runs) texts.insert(std::get<std::string>(r.hyper.at(i)));
  return {texts.begin(), texts.end()};
}

MetricChoice choose_metric(const std::string& metric, const store::FileMeta& meta) {
  MetricChoice c;
  const bool file_hib = meta.metric_higher_is_better;
  c.ranked_by = (metric == "test_loss" || metric == "valid_loss") ? "valid_loss" : "valid_metric";
  c.ranked_higher_is_better = c.ranked_by == "valid_metric" && file_hib;
  c.higher_is_better = ((metric == "test_metric" || metric == "valid_metric") && file_hib) ||
                       metric.ends_with("accuracy");  // the accuracy columns
  return c;
}

namespace {

// build_report, step 1: the runs of the --where slice (all runs without a filter).
std::vector<store::RunRow> filter_runs(const std::string& path,
                                       const std::vector<store::HyperColumn>& hyper,
                                       const std::vector<store::RunRow>& all_runs,
                                       const ReportOptions& options) {
  std::vector<std::pair<std::size_t, std::string>> tests;
  for (const auto& [name, value] : options.where)
    tests.emplace_back(hyper_index_of(path, hyper, name, "--where"), value);
  std::vector<store::RunRow> filtered;
  for (const auto& r : all_runs)
    if (std::all_of(tests.begin(), tests.end(),
                    [&](const auto& t) { return value_matches(r.hyper.at(t.first), t.second); }))
      filtered.push_back(r);
  if (filtered.empty() && !all_runs.empty()) {
    const auto& [name, value] = options.where.front();
    std::string present;
    for (const auto& v : distinct_values(path, hyper, all_runs, name))
      present += (present.empty() ? "" : ", ") + v;
    throw Error("no runs of " + path + " match the --where filter (" + name + " = " + value +
                    (options.where.size() > 1 ? ", ..." : "") + ")",
                name + " takes the values " + present);
  }
  return filtered;
}

// Step 2: where the metric's values come from: a fixed column of /runs or a numeric
// hyperparameter column (index into the hyperparameters, -1 for a fixed column).
int metric_column(const std::string& path, const std::vector<store::HyperColumn>& hyper,
                  const std::string& metric) {
  bool fixed = false;
  fixed_column(store::RunRow{}, metric, fixed);
  if (fixed) return -1;
  int index = -1;
  for (std::size_t i = 0; i < hyper.size(); ++i)
    if (hyper[i].name == metric) index = static_cast<int>(i);
  std::string known;
  for (const char* n : kFixedNumeric) known += std::string(known.empty() ? "" : ", ") + n;
  for (const auto& h : hyper)
    if (h.kind == store::HyperColumn::number) known += ", " + h.name;
  if (index < 0)
    throw Error("metric '" + metric + "' is not a column of " + path,
                "use --metric with one of: " + known);
  if (hyper[static_cast<std::size_t>(index)].kind != store::HyperColumn::number)
    throw Error("column '" + metric + "' of " + path + " holds text, not numbers",
                "use --metric with one of: " + known);
  return index;
}

// Step 3: the runs as the comparison sees them.
std::vector<RunRecord> to_records(const std::vector<store::RunRow>& runs, const std::string& metric,
                                  int hyper_index, const MetricChoice& choice) {
  std::vector<RunRecord> records;
  records.reserve(runs.size());
  for (const auto& r : runs) {
    RunRecord rec;
    rec.cell = r.cell;
    rec.status = r.status;
    rec.run_id = r.run_id;
    rec.trial = r.trial;
    rec.task = r.task;
    rec.n_params = static_cast<double>(r.n_params);
    bool found = false;
    rec.value = hyper_index < 0
                    ? fixed_column(r, metric, found)
                    : std::get<double>(r.hyper.at(static_cast<std::size_t>(hyper_index)));
    rec.valid_score = fixed_column(r, choice.ranked_by, found);
    records.push_back(std::move(rec));
  }
  return records;
}

std::set<std::string> cell_names(const std::vector<store::RunRow>& runs) {
  std::set<std::string> cells;
  for (const auto& r : runs) cells.insert(r.cell);
  return cells;
}

// The cells of the spec's `cells = a, b, c` line, in its order.
std::vector<std::string> spec_cells(const std::string& spec_text) {
  std::vector<std::string> cells;
  std::istringstream lines(spec_text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("cells = ", 0) != 0) continue;
    std::istringstream list(line.substr(8));
    for (std::string name; std::getline(list, name, ',');) {
      name.erase(0, name.find_first_not_of(' '));
      name.erase(name.find_last_not_of(' ') + 1);
      if (!name.empty()) cells.push_back(name);
    }
    break;
  }
  return cells;
}

// Step 4: the baseline: --baseline, or lstm, or else the spec's first listed cell with
// runs (and `note` says so).
std::string choose_baseline(const std::string& path, const store::FileMeta& meta,
                            const std::vector<store::RunRow>& runs, const ReportOptions& options,
                            std::string& note) {
  if (!options.baseline.empty()) return options.baseline;
  if (runs.empty())
    throw Error(path + " has no runs yet (" + std::to_string(meta.total_runs) + " expected)",
                "wait for the sweep to finish some runs, or merge its shard files");
  const auto cells = cell_names(runs);
  if (!cells.count("lstm")) {
    for (const auto& cell : spec_cells(meta.spec_text))
      if (cells.count(cell)) {
        note = "no --baseline given and no lstm runs: the baseline is " + cell +
               ", the spec's first listed cell with runs (choose another with --baseline CELL)";
        return cell;
      }
    const auto rows = static_cast<std::int64_t>(runs.size());
    const bool unfinished = meta.total_runs > rows;
    throw Error("no --baseline given and " + path + " has no 'lstm' runs (cells: " + join(cells) +
                    ")" +
                    (unfinished ? "; " + std::to_string(rows) + " of " +
                                      std::to_string(meta.total_runs) + " runs so far"
                                : ""),
                unfinished ? "wait for lstm's runs if the sweep has them, or choose a "
                             "baseline that has runs with --baseline CELL"
                           : "choose the baseline with --baseline CELL");
  }
  return "lstm";
}

}  // namespace

Report build_report(const std::string& path, const store::FileMeta& meta,
                    const std::vector<store::HyperColumn>& hyper,
                    const std::vector<store::RunRow>& all_runs, const ReportOptions& options) {
  Report rep;
  rep.path = path;
  rep.meta = meta;
  rep.metric = options.metric;
  rep.where = options.where;
  const auto filtered = options.where.empty() ? std::vector<store::RunRow>{}
                                              : filter_runs(path, hyper, all_runs, options);
  const auto& runs = options.where.empty() ? all_runs : filtered;
  rep.rows = runs.size();
  rep.missing_runs =
      options.where.empty()
          ? std::max<std::int64_t>(0, meta.total_runs - static_cast<std::int64_t>(runs.size()))
          : 0;  // total_runs counts every slice; the note would mislead

  const int hyper_index = metric_column(path, hyper, options.metric);
  const MetricChoice choice = choose_metric(options.metric, meta);
  rep.ranked_by = choice.ranked_by;

  CompareOptions co;
  co.baseline = choose_baseline(path, meta, all_runs, options, rep.baseline_note);
  // A slice without the baseline says so; a file without it is an error.
  co.baseline_may_be_missing = !options.where.empty() && cell_names(all_runs).count(co.baseline);
  co.top_fraction = options.top_fraction;
  co.alpha = options.alpha;
  co.higher_is_better = choice.higher_is_better;
  co.valid_higher_is_better = choice.ranked_higher_is_better;
  co.include_timeout = options.include_timeout;
  co.diverged = options.diverged;
  co.bootstrap = options.bootstrap;
  co.bootstrap_seed = options.bootstrap_seed;
  rep.comparison = compare_cells(to_records(runs, options.metric, hyper_index, choice), co);
  rep.family_tests = holm_over_family({&rep.comparison});
  return rep;
}

Report build_report(const std::string& path, const ReportOptions& options) {
  const auto reader = store::ResultsReader::open(path);
  return build_report(path, reader.meta(), reader.hyper_columns(), reader.runs(), options);
}

void correct_family(std::vector<Report>& reports) {
  std::vector<Comparison*> all;
  for (auto& r : reports) all.push_back(&r.comparison);
  const std::size_t tests = holm_over_family(all);
  for (auto& r : reports) r.family_tests = tests;
}

std::string missing_note(const Report& r) {
  if (r.missing_runs <= 0) return "";
  std::string s = std::to_string(r.missing_runs) + " of " + std::to_string(r.meta.total_runs) +
                  " runs are missing from this file (" + std::to_string(r.rows) + " rows";
  if (!r.meta.shard.empty())
    s += "; it is shard " + r.meta.shard + ": merge the shards for the full sweep";
  else
    s += "; the sweep is unfinished or was interrupted";
  return s + ")";
}

}  // namespace cellzoo::analysis
