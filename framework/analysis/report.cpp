// The `cellzoo report` table (see report.hpp).
#include "framework/analysis/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <set>
#include <sstream>
#include <tuple>

#include "framework/util/error.hpp"

namespace cellzoo::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* diverged_name(Diverged d) {
  return d == Diverged::worst ? "worst" : "exclude";
}

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
  found = false;
  return 0;
}

const char* const kFixedNumeric[] = {"test_metric", "test_loss",  "valid_metric", "valid_loss",
                                     "train_loss",  "best_epoch", "epochs",       "wall_seconds",
                                     "n_params",    "trial"};

std::string num(double v, const char* fmt = "%.17g") {
  if (std::isnan(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string json_num(double v) {
  if (!std::isfinite(v)) return "null";  // JSON has no NaN or infinity
  return num(v);
}

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string csv_str(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The columns of one cell, in CSV or JSON form. They share names with the Python
// DataFrame; an interval is one JSON array [low, high] (a tuple in Python) and two CSV
// columns NAME_low, NAME_high; expected_max is one JSON object {"k", "mean", "std"} (a
// dict in Python) and in CSV the columns expected_max_K and expected_max_K_std for
// K = 1, 5, 10, 20, 50 and n.
struct Field {
  std::string name, text;
};

enum class Format { csv, json };

constexpr std::size_t kShownK[] = {1, 5, 10, 20, 50};

std::vector<Field> cell_fields(const CellResult& c, Format format) {
  const bool json = format == Format::json;
  std::vector<Field> f;
  auto add_num = [&](const std::string& n, double v) {
    f.push_back({n, json ? json_num(v) : num(v)});
  };
  auto add_int = [&](const std::string& n, std::size_t v) { f.push_back({n, std::to_string(v)}); };
  auto add_bool = [&](const std::string& n, bool v) { f.push_back({n, v ? "true" : "false"}); };
  auto add_str = [&](const std::string& n, const std::string& v) {
    f.push_back({n, json ? json_str(v) : csv_str(v)});
  };
  auto add_interval = [&](const std::string& n, const Interval& v) {
    if (json) {
      f.push_back({n, "[" + json_num(v.low) + ", " + json_num(v.high) + "]"});
    } else {
      add_num(n + "_low", v.low);
      add_num(n + "_high", v.high);
    }
  };
  add_str("cell", c.cell);
  add_bool("baseline", c.is_baseline);
  add_int("runs", c.counts.total());
  add_int("ok", c.counts.ok);
  add_int("diverged", c.counts.diverged);
  add_int("failed", c.counts.failed);
  add_int("timeout", c.counts.timeout);
  add_int("used", c.used);
  add_int("n_pairs", c.paired.n_pairs);
  add_num("paired_statistic", c.paired.test.statistic);
  add_num("p_paired", c.paired.test.p);
  add_num("p_paired_holm", c.paired.p_holm);
  add_num("p_paired_holm_family", c.paired.p_holm_family);
  for (const auto& [prefix, g] : {std::pair{"all_", &c.all}, std::pair{"top_", &c.top}}) {
    const std::string p = prefix;
    add_int(p + "n", g->summary.n);
    add_int(p + "failed", g->failed);
    add_num(p + "mean", g->summary.mean);
    add_interval(p + "mean_ci", g->mean_ci);
    add_num(p + "std", g->summary.std);
    add_num(p + "min", g->summary.min);
    add_num(p + "q1", g->summary.q1);
    add_num(p + "median", g->summary.median);
    add_num(p + "q3", g->summary.q3);
    add_num(p + "max", g->summary.max);
    add_num(p + "best", g->summary.best);
    add_num(p + "params", g->mean_params);
    add_num(p + "t", g->test.t);
    add_num(p + "df", g->test.df);
    add_num(p + "p", g->test.p);
    add_num(p + "p_holm", g->p_holm);
    add_num(p + "p_holm_family", g->p_holm_family);
    add_bool(p + "significant", g->significant);
    add_bool(p + "significant_holm", g->significant_holm);
    add_str(p + "direction", g->direction);
    add_num(p + "mde", g->mde);
    add_bool(p + "underpowered", g->underpowered);
    add_num(p + "shift", g->shift);
    add_interval(p + "shift_ci", g->shift_ci);
    add_num(p + "p_improve", g->p_improve);
    add_interval(p + "p_improve_ci", g->p_improve_ci);
  }
  const auto& em = c.expected_max;
  if (json) {
    std::string k, mean, std;
    for (std::size_t i = 0; i < em.mean.size(); ++i) {
      const char* sep = i ? ", " : "";
      k += sep + std::to_string(i + 1);
      mean += sep + json_num(em.mean[i]);
      std += sep + json_num(em.std[i]);
    }
    f.push_back(
        {"expected_max", "{\"k\": [" + k + "], \"mean\": [" + mean + "], \"std\": [" + std + "]}"});
  } else {
    const auto add_k = [&](const std::string& name, std::size_t k) {
      const bool have = k >= 1 && k <= em.mean.size();
      add_num("expected_max_" + name, have ? em.mean[k - 1] : kNaN);
      add_num("expected_max_" + name + "_std", have ? em.std[k - 1] : kNaN);
    };
    for (const auto k : kShownK) add_k(std::to_string(k), k);
    add_k("n", em.mean.size());
  }
  return f;
}

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
    for (double d : numbers) out.push_back(num(d, "%.17g"));
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
  c.higher_is_better = (metric == "test_metric" || metric == "valid_metric") && file_hib;
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

// Step 4: the baseline: --baseline, or lstm, which must then be in the file.
std::string choose_baseline(const std::string& path, const store::FileMeta& meta,
                            const std::vector<store::RunRow>& runs, const ReportOptions& options) {
  if (!options.baseline.empty()) return options.baseline;
  if (runs.empty())
    throw Error(path + " has no runs yet (" + std::to_string(meta.total_runs) + " expected)",
                "wait for the sweep to finish some runs, or merge its shard files");
  const auto cells = cell_names(runs);
  if (!cells.count("lstm")) {
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
  co.baseline = choose_baseline(path, meta, all_runs, options);
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

void write_csv(std::ostream& out, const Report& report, bool with_header) {
  bool header = with_header;
  for (const auto& c : report.comparison.cells) {
    auto fields = cell_fields(c, Format::csv);
    std::vector<Field> filter;
    for (const auto& [name, value] : report.where)
      filter.push_back({csv_str(name), csv_str(value)});
    fields.insert(fields.begin(), filter.begin(), filter.end());
    if (header) {
      for (std::size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << fields[i].name;
      out << "\n";
      header = false;
    }
    for (std::size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << fields[i].text;
    out << "\n";
  }
}

void write_json(std::ostream& out, const Report& r) {
  const auto& o = r.comparison.options;
  out << "{\n"
      << "  \"file\": " << json_str(r.path) << ",\n"
      << "  \"task\": " << json_str(r.meta.task) << ",\n"
      << "  \"task_metric\": " << json_str(r.meta.metric) << ",\n"
      << "  \"metric\": " << json_str(r.metric) << ",\n"
      << "  \"higher_is_better\": " << (o.higher_is_better ? "true" : "false") << ",\n"
      << "  \"ranked_by\": " << json_str(r.ranked_by) << ",\n"
      << "  \"baseline\": " << json_str(o.baseline) << ",\n"
      << "  \"top_fraction\": " << json_num(o.top_fraction) << ",\n"
      << "  \"alpha\": " << json_num(o.alpha) << ",\n"
      << "  \"power\": " << json_num(o.power) << ",\n"
      << "  \"include_timeout\": " << (o.include_timeout ? "true" : "false") << ",\n"
      << "  \"diverged\": " << json_str(diverged_name(o.diverged)) << ",\n"
      << "  \"bootstrap\": " << o.bootstrap << ",\n"
      << "  \"bootstrap_seed\": " << o.bootstrap_seed << ",\n"
      << "  \"trials\": " << r.comparison.trials << ",\n"
      << "  \"family_tests\": " << r.family_tests << ",\n"
      << "  \"tests_note\": " << json_str(r.comparison.note) << ",\n"
      << "  \"shard\": " << json_str(r.meta.shard) << ",\n"
      << "  \"total_runs\": " << r.meta.total_runs << ",\n"
      << "  \"rows\": " << r.rows << ",\n"
      << "  \"missing_runs\": " << r.missing_runs << ",\n"
      << "  \"note\": " << json_str(missing_note(r)) << ",\n"
      << "  \"where\": {";
  for (std::size_t i = 0; i < r.where.size(); ++i)
    out << (i ? ", " : "") << json_str(r.where[i].first) << ": " << json_str(r.where[i].second);
  out << "},\n"
      << "  \"cells\": [";
  bool first = true;
  for (const auto& c : r.comparison.cells) {
    out << (first ? "\n" : ",\n") << "    {";
    first = false;
    const auto fields = cell_fields(c, Format::json);
    for (std::size_t i = 0; i < fields.size(); ++i)
      out << (i ? ", " : "") << json_str(fields[i].name) << ": " << fields[i].text;
    out << "}";
  }
  out << "\n  ]\n}\n";
}

namespace {

// Words filled into lines of at most 80 columns, continuation lines indented by two.
void write_wrapped(std::ostream& out, const std::string& text) {
  std::istringstream words(text);
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > 80) {
      out << line << "\n";
      line = "  ";
    } else if (!line.empty() && line != "  ") {
      line += " ";
    }
    line += word;
  }
  if (!line.empty()) out << line << "\n";
}

std::string fmt(const char* format, double v) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string interval_text(const Interval& i, const char* format = "%.2g") {
  if (std::isnan(i.low) || std::isnan(i.high)) return "";
  return "[" + fmt(format, i.low) + ", " + fmt(format, i.high) + "]";
}

// A line of a table without its trailing blanks.
void write_line(std::ostream& out, const char* line) {
  std::string text = line;
  text.erase(text.find_last_not_of(" \n") + 1);
  out << text << "\n";
}

// The Welch p of a group as the table shows it: never a NaN.
std::string welch_text(const CellResult& c, const GroupResult& g, const GroupResult& base,
                       bool have_base) {
  if (c.is_baseline) return "baseline";
  if (!have_base) return "-";
  if (g.summary.n == 0) return "no runs";
  if (g.finite() == 0) return "all fail";  // --diverged worst: runs, but no score
  if (g.finite() < kMinWelchRuns || base.finite() < kMinWelchRuns) return "n<3";
  return fmt("%.3g", g.test.p);
}

std::string paired_text(const CellResult& c, bool have_base) {
  if (c.is_baseline || !have_base) return "";
  if (!c.paired.test.note.empty()) return c.paired.test.note;
  return fmt("%.3g", c.paired.test.p);
}

int cell_width(const Report& r) {
  int width = 14;  // the cell column fits the longest name (file: cells carry their path)
  for (const auto& c : r.comparison.cells) width = std::max(width, static_cast<int>(c.cell.size()));
  return width;
}

void write_header(std::ostream& out, const Report& r) {
  const auto& o = r.comparison.options;
  out << r.path << ": task " << (r.meta.task.empty() ? "?" : r.meta.task) << ", " << r.rows
      << " runs";
  if (!r.meta.shard.empty()) out << " (shard " << r.meta.shard << ")";
  for (std::size_t i = 0; i < r.where.size(); ++i)
    out << (i ? " and " : " with ") << r.where[i].first << " = " << r.where[i].second;
  out << "\n";
  std::string metric = "metric " + r.metric;
  if (r.metric == "test_metric" || r.metric == "valid_metric") metric += " (" + r.meta.metric + ")";
  write_wrapped(out, metric + ", " + (o.higher_is_better ? "higher" : "lower") +
                         " is better; baseline " + o.baseline + "; top fraction = ceil(" +
                         num(o.top_fraction, "%g") + " x n) by " + r.ranked_by);
  const std::string statuses = std::string("status ok") + (o.include_timeout ? " or timeout" : "");
  write_wrapped(out, o.diverged == Diverged::worst
                         ? "runs: " + statuses +
                               " with a finite value, and the diverged and failed ones as the "
                               "worst score (--diverged worst: they count in the medians, "
                               "p_paired and shift; means and Welch use the finite ones)"
                         : "runs: " + statuses +
                               " with a finite value; diverged and failed runs are left out, "
                               "as in Greff et al. (--diverged worst counts them)");
  write_wrapped(out, "p_welch: Welch t-test at alpha " + num(o.alpha, "%g") +
                         ", raw as in Greff et al.; holm: Holm over all " +
                         std::to_string(r.family_tests) +
                         " tests of this report; p_paired: Wilcoxon signed-rank over the trials "
                         "both cells ran (all runs)");
  write_wrapped(out,
                "shift: Hodges-Lehmann, the median of all cell - baseline run differences, "
                "> 0 = better than " +
                    o.baseline + ", in metric units" +
                    (o.bootstrap ? "; 95% CI: percentile bootstrap over the " +
                                       std::to_string(r.comparison.trials) +
                                       " trials (B = " + std::to_string(o.bootstrap) + ", seed " +
                                       std::to_string(o.bootstrap_seed) + ")"
                                 : "; no intervals (--bootstrap 0)"));
  if (const auto note = missing_note(r); !note.empty()) write_wrapped(out, "note: " + note);
}

void write_counts(std::ostream& out, const Report& r, int width) {
  char line[512];
  std::snprintf(line, sizeof line, "\n%-*s %5s %4s %4s %4s %4s\n", width, "cell", "runs", "ok",
                "div", "fail", "tmo");
  out << line;
  for (const auto& c : r.comparison.cells) {
    std::snprintf(line, sizeof line, "%-*s %5zu %4zu %4zu %4zu %4zu\n", width, c.cell.c_str(),
                  c.counts.total(), c.counts.ok, c.counts.diverged, c.counts.failed,
                  c.counts.timeout);
    out << line;
  }
  if (!r.comparison.note.empty()) write_wrapped(out, "no tests: " + r.comparison.note);
}

// The default block of one group: 80 columns for cell names up to 14 characters.
void write_group(std::ostream& out, const Report& r, GroupResult CellResult::*member, bool top,
                 int width) {
  const auto& o = r.comparison.options;
  const auto& cells = r.comparison.cells;
  const bool have_base = r.comparison.note.empty();
  char line[1024];
  if (top)
    std::snprintf(line, sizeof line, "%-*s %4s %9s %8s %6s %8s  %s\n", width, "cell", "n", "mean",
                  "p_welch", "holm", "shift", "95% CI");
  else
    std::snprintf(line, sizeof line, "%-*s %4s %9s %8s %6s %8s %8s  %s\n", width, "cell", "n",
                  "mean", "p_welch", "holm", "p_paired", "shift", "95% CI");
  out << line;
  std::string underpowered, small;
  for (const auto& c : cells) {
    const auto& g = c.*member;
    const auto p = welch_text(c, g, cells.front().*member, have_base);
    const auto holm = c.is_baseline ? "" : fmt("%.2g", g.p_holm_family);
    const auto shift = c.is_baseline ? "" : fmt("%.3g", g.shift);
    const auto ci = c.is_baseline ? "" : interval_text(g.shift_ci);
    const auto mean = fmt("%.4g", g.summary.mean);
    const auto holm_shown = p == "n<3" || p == "no runs" || p == "all fail" ? "" : holm;
    if (top)
      std::snprintf(line, sizeof line, "%-*s %4zu %9s %8s %6s %8s  %s", width, c.cell.c_str(),
                    g.summary.n, mean.c_str(), p.c_str(), holm_shown.c_str(), shift.c_str(),
                    ci.c_str());
    else
      std::snprintf(line, sizeof line, "%-*s %4zu %9s %8s %6s %8s %8s  %s", width, c.cell.c_str(),
                    g.summary.n, mean.c_str(), p.c_str(), holm_shown.c_str(),
                    paired_text(c, have_base).c_str(), shift.c_str(), ci.c_str());
    write_line(out, line);
    if (g.underpowered)
      underpowered +=
          (underpowered.empty() ? "" : ", ") + c.cell + " (MDE " + fmt("%.2g", g.mde) + ")";
    if (p == "n<3") small += (small.empty() ? "" : ", ") + c.cell;
  }
  if (!underpowered.empty())
    write_wrapped(out, "underpowered (p >= " + num(o.alpha, "%g") +
                           " and |mean difference| < MDE, the difference Welch would find with " +
                           num(o.power * 100, "%g") + "% power): " + underpowered);
  if (!small.empty())
    write_wrapped(out,
                  "n<3: fewer than 3 runs with a score in this group or the baseline's; no "
                  "Welch test: " +
                      small);
}

void write_group_details(std::ostream& out, const Report& r, GroupResult CellResult::*member,
                         bool top, int width) {
  const auto& cells = r.comparison.cells;
  char line[1024];
  std::snprintf(line, sizeof line, "%-*s %4s %4s %9s  %-21s %9s %9s %9s %9s %9s", width,
                "summaries", "n", "fail", "mean", "95% CI", "median", "best", "q1", "q3", "params");
  write_line(out, line);
  const auto g4 = [](double v) { return fmt("%.4g", v); };
  for (const auto& c : cells) {
    const auto& g = c.*member;
    const auto& s = g.summary;
    std::snprintf(line, sizeof line, "%-*s %4zu %4zu %9s  %-21s %9s %9s %9s %9s %9s", width,
                  c.cell.c_str(), s.n, g.failed, g4(s.mean).c_str(),
                  interval_text(g.mean_ci, "%.4g").c_str(), g4(s.median).c_str(),
                  g4(s.best).c_str(), g4(s.q1).c_str(), g4(s.q3).c_str(),
                  fmt("%.0f", g.mean_params).c_str());
    write_line(out, line);
  }
  if (top)
    std::snprintf(line, sizeof line, "%-*s %7s %7s %7s %7s %8s %9s  %s", width, "tests", "t", "df",
                  "vs base", "p_holm", "mde", "p_improve", "95% CI");
  else
    std::snprintf(line, sizeof line, "%-*s %7s %7s %7s %7s %8s %9s  %-13s %5s %6s %7s", width,
                  "tests", "t", "df", "vs base", "p_holm", "mde", "p_improve", "95% CI", "pairs",
                  "T", "p_holm");
  write_line(out, line);
  for (const auto& c : cells) {
    const auto& g = c.*member;
    if (c.is_baseline) continue;
    const auto t = fmt("%.3g", g.test.t), df = fmt("%.3g", g.test.df);
    const auto mde = fmt("%.3g", g.mde), holm = fmt("%.2g", g.p_holm);
    const auto p_improve = fmt("%.3g", g.p_improve);
    const auto ci = interval_text(g.p_improve_ci);
    if (top)
      std::snprintf(line, sizeof line, "%-*s %7s %7s %7s %7s %8s %9s  %s", width, c.cell.c_str(),
                    t.c_str(), df.c_str(), g.direction.c_str(), holm.c_str(), mde.c_str(),
                    p_improve.c_str(), ci.c_str());
    else
      std::snprintf(line, sizeof line, "%-*s %7s %7s %7s %7s %8s %9s  %-13s %5zu %6s %7s", width,
                    c.cell.c_str(), t.c_str(), df.c_str(), g.direction.c_str(), holm.c_str(),
                    mde.c_str(), p_improve.c_str(), ci.c_str(), c.paired.n_pairs,
                    fmt("%.6g", c.paired.test.statistic).c_str(),
                    fmt("%.2g", c.paired.p_holm).c_str());
    write_line(out, line);
  }
}

void write_expected_max(std::ostream& out, const Report& r, int width) {
  out << "\n";
  write_wrapped(out, "expected best-of-k (Dodge et al. 2019): the " + r.metric +
                         " of the run with the best " + r.ranked_by +
                         " among k trials drawn at random from the runs with a score, mean "
                         "+- std");
  char line[1024];
  std::snprintf(line, sizeof line, "%-*s", width, "cell");
  std::string head = line;
  for (const auto k : kShownK) {
    std::snprintf(line, sizeof line, " %14s", ("k=" + std::to_string(k)).c_str());
    head += line;
  }
  write_line(out, (head + "  k=n").c_str());
  const auto cell_text = [](double mean, double sd) {
    if (std::isnan(mean)) return std::string();
    return fmt("%.4g", mean) + "+-" + fmt("%.2g", sd);
  };
  for (const auto& c : r.comparison.cells) {
    const auto& em = c.expected_max;
    std::snprintf(line, sizeof line, "%-*s", width, c.cell.c_str());
    std::string text = line;
    for (const auto k : kShownK) {
      std::snprintf(line, sizeof line, " %14s",
                    k <= em.mean.size() ? cell_text(em.mean[k - 1], em.std[k - 1]).c_str() : "");
      text += line;
    }
    if (!em.mean.empty())
      text += "  " + cell_text(em.mean.back(), em.std.back()) +
              " (n=" + std::to_string(em.mean.size()) + ")";
    write_line(out, text.c_str());
  }
}

}  // namespace

void write_table(std::ostream& out, const Report& r, bool details) {
  const auto& o = r.comparison.options;
  write_header(out, r);
  const int width = cell_width(r);
  write_counts(out, r, width);
  for (const auto& [title, member, top] :
       {std::tuple{std::string("all trials"), &CellResult::all, false},
        std::tuple{"top " + num(o.top_fraction * 100, "%g") + "% by " + r.ranked_by,
                   &CellResult::top, true}}) {
    out << "\n" << title << "\n";
    write_group(out, r, member, top, width);
    if (details) {
      out << "\n";
      write_wrapped(out,
                    "details: p_holm is Holm over the cells of this table (holm above: over "
                    "the whole report); mde: the smallest mean difference Welch finds with " +
                        num(o.power * 100, "%g") +
                        "% power; p_improve: P(a run of the cell "
                        "beats one of " +
                        o.baseline + ") + ties / 2" +
                        (top ? "" : "; T: Wilcoxon's min(R+, R-) over the pairs"));
      write_group_details(out, r, member, top, width);
    }
  }
  if (details) write_expected_max(out, r, width);
}

}  // namespace cellzoo::analysis
