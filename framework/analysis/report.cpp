// The `cellzoo report` table (see report.hpp).
#include "framework/analysis/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <set>
#include <sstream>

#include "framework/util/error.hpp"

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

// The flat columns shared by CSV, JSON and the Python DataFrame: (name, text for CSV,
// text for JSON).
struct Field {
  std::string name, csv, json;
};

std::vector<Field> cell_fields(const CellResult& c) {
  std::vector<Field> f;
  auto add_num = [&](const std::string& n, double v) { f.push_back({n, num(v), json_num(v)}); };
  auto add_int = [&](const std::string& n, std::size_t v) {
    f.push_back({n, std::to_string(v), std::to_string(v)});
  };
  auto add_bool = [&](const std::string& n, bool v) {
    f.push_back({n, v ? "true" : "false", v ? "true" : "false"});
  };
  f.push_back({"cell", csv_str(c.cell), json_str(c.cell)});
  add_bool("baseline", c.is_baseline);
  add_int("runs", c.counts.total());
  add_int("ok", c.counts.ok);
  add_int("diverged", c.counts.diverged);
  add_int("failed", c.counts.failed);
  add_int("timeout", c.counts.timeout);
  add_int("used", c.used);
  for (const auto& [prefix, g] : {std::pair{"all_", &c.all}, std::pair{"top_", &c.top}}) {
    const std::string p = prefix;
    add_int(p + "n", g->summary.n);
    add_num(p + "mean", g->summary.mean);
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
    add_bool(p + "significant", g->significant);
    add_bool(p + "significant_holm", g->significant_holm);
    f.push_back({p + "direction", g->direction, json_str(g->direction)});
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

Report build_report(const std::string& path, const store::FileMeta& meta,
                    const std::vector<store::HyperColumn>& hyper,
                    const std::vector<store::RunRow>& all_runs, const ReportOptions& options) {
  Report rep;
  rep.path = path;
  rep.meta = meta;
  rep.metric = options.metric;
  rep.where = options.where;
  std::vector<store::RunRow> filtered;
  if (!options.where.empty()) {
    std::vector<std::pair<std::size_t, std::string>> tests;
    for (const auto& [name, value] : options.where)
      tests.emplace_back(hyper_index_of(path, hyper, name, "--where"), value);
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
  }
  const auto& runs = options.where.empty() ? all_runs : filtered;
  rep.rows = runs.size();
  rep.missing_runs =
      options.where.empty()
          ? std::max<std::int64_t>(0, meta.total_runs - static_cast<std::int64_t>(runs.size()))
          : 0;  // total_runs counts every slice; the note would mislead

  // Resolve the metric column: a fixed numeric column or a numeric hyperparameter.
  int hyper_index = -1;
  bool fixed = false;
  {
    store::RunRow probe;
    fixed_column(probe, options.metric, fixed);
  }
  if (!fixed) {
    for (std::size_t i = 0; i < hyper.size(); ++i)
      if (hyper[i].name == options.metric) hyper_index = static_cast<int>(i);
    std::string known;
    for (const char* n : kFixedNumeric) known += std::string(known.empty() ? "" : ", ") + n;
    for (const auto& h : hyper)
      if (h.kind == store::HyperColumn::number) known += ", " + h.name;
    if (hyper_index < 0)
      throw Error("metric '" + options.metric + "' is not a column of " + path,
                  "use --metric with one of: " + known);
    if (hyper[static_cast<std::size_t>(hyper_index)].kind != store::HyperColumn::number)
      throw Error("column '" + options.metric + "' of " + path + " holds text, not numbers",
                  "use --metric with one of: " + known);
  }
  const MetricChoice choice = choose_metric(options.metric, meta);
  rep.ranked_by = choice.ranked_by;

  std::set<std::string> cells;
  std::vector<RunRecord> records;
  records.reserve(runs.size());
  for (const auto& r : runs) {
    cells.insert(r.cell);
    RunRecord rec;
    rec.cell = r.cell;
    rec.status = r.status;
    rec.run_id = r.run_id;
    rec.n_params = static_cast<double>(r.n_params);
    bool found = false;
    rec.value = fixed ? fixed_column(r, options.metric, found)
                      : std::get<double>(r.hyper.at(static_cast<std::size_t>(hyper_index)));
    rec.valid_score = fixed_column(r, choice.ranked_by, found);
    records.push_back(std::move(rec));
  }

  CompareOptions co;
  co.baseline = options.baseline;
  if (co.baseline.empty()) {
    if (runs.empty())
      throw Error(path + " has no runs yet (" + std::to_string(meta.total_runs) + " expected)",
                  "wait for the sweep to finish some runs, or merge its shard files");
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
    co.baseline = "lstm";
  }
  co.top_fraction = options.top_fraction;
  co.alpha = options.alpha;
  co.higher_is_better = choice.higher_is_better;
  co.valid_higher_is_better = choice.ranked_higher_is_better;
  co.include_timeout = options.include_timeout;
  rep.comparison = compare_cells(records, co);
  return rep;
}

Report build_report(const std::string& path, const ReportOptions& options) {
  const auto reader = store::ResultsReader::open(path);
  return build_report(path, reader.meta(), reader.hyper_columns(), reader.runs(), options);
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
    auto fields = cell_fields(c);
    std::vector<Field> filter;
    for (const auto& [name, value] : report.where)
      filter.push_back({csv_str(name), csv_str(value), json_str(value)});
    fields.insert(fields.begin(), filter.begin(), filter.end());
    if (header) {
      for (std::size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << fields[i].name;
      out << "\n";
      header = false;
    }
    for (std::size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << fields[i].csv;
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
      << "  \"include_timeout\": " << (o.include_timeout ? "true" : "false") << ",\n"
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
    const auto fields = cell_fields(c);
    for (std::size_t i = 0; i < fields.size(); ++i)
      out << (i ? ", " : "") << json_str(fields[i].name) << ": " << fields[i].json;
    out << "}";
  }
  out << "\n  ]\n}\n";
}

void write_table(std::ostream& out, const Report& r) {
  const auto& o = r.comparison.options;
  out << r.path << ": task " << (r.meta.task.empty() ? "?" : r.meta.task) << ", " << r.rows
      << " runs";
  if (!r.meta.shard.empty()) out << " (shard " << r.meta.shard << ")";
  for (std::size_t i = 0; i < r.where.size(); ++i)
    out << (i ? " and " : " with ") << r.where[i].first << " = " << r.where[i].second;
  out << "\nmetric " << r.metric;
  if (r.metric == "test_metric" || r.metric == "valid_metric") out << " (" << r.meta.metric << ")";
  out << ", " << (o.higher_is_better ? "higher" : "lower") << " is better; baseline " << o.baseline
      << "; Welch t-test at alpha " << num(o.alpha, "%g")
      << " (raw, as Greff et al.; holm: Holm-corrected over " << r.comparison.cells.size() - 1
      << " cells)\nstatistics over status ok" << (o.include_timeout ? " and timeout" : "")
      << " runs with a finite value; top fraction = ceil(" << num(o.top_fraction, "%g")
      << " x n) by " << r.ranked_by << "\n";
  if (const auto note = missing_note(r); !note.empty()) out << "note: " << note << "\n";

  char line[2048];
  // The cell column fits the longest name (file: cells carry their path).
  int width = 14;
  for (const auto& c : r.comparison.cells) width = std::max(width, static_cast<int>(c.cell.size()));
  std::snprintf(line, sizeof line, "\n%-*s %5s %4s %4s %4s %4s\n", width, "cell", "runs", "ok",
                "div", "fail", "tmo");
  out << line;
  for (const auto& c : r.comparison.cells) {
    std::snprintf(line, sizeof line, "%-*s %5zu %4zu %4zu %4zu %4zu\n", width, c.cell.c_str(),
                  c.counts.total(), c.counts.ok, c.counts.diverged, c.counts.failed,
                  c.counts.timeout);
    out << line;
  }
  for (const auto& [title, member] :
       {std::pair{std::string("all trials"), &CellResult::all},
        std::pair{"top " + num(o.top_fraction * 100, "%g") + "% by " + r.ranked_by,
                  &CellResult::top}}) {
    out << "\n" << title << "\n";
    std::snprintf(line, sizeof line, "%-*s %4s %10s %10s %10s %10s %10s %10s %9s %9s %4s %9s %4s\n",
                  width, "cell", "n", "mean", "median", "best", "q1", "q3", "params", "vs base",
                  "p", "raw", "p_holm", "holm");
    out << line;
    for (const auto& c : r.comparison.cells) {
      const auto& g = c.*member;
      const auto& s = g.summary;
      std::snprintf(line, sizeof line,
                    "%-*s %4zu %10.4g %10.4g %10.4g %10.4g %10.4g %10.0f %9s %9s %4s %9s %4s\n",
                    width, c.cell.c_str(), s.n, s.mean, s.median, s.best, s.q1, s.q3, g.mean_params,
                    c.is_baseline ? "baseline" : g.direction.c_str(),
                    c.is_baseline ? "" : num(g.test.p, "%.3g").c_str(),
                    c.is_baseline ? "" : (g.significant ? "sig" : "-"),
                    c.is_baseline ? "" : num(g.p_holm, "%.3g").c_str(),
                    c.is_baseline ? "" : (g.significant_holm ? "sig" : "-"));
      out << line;
    }
  }
}

}  // namespace cellzoo::analysis
