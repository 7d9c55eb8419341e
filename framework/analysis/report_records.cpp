// `cellzoo report --format csv|json`: one record per cell (see report.hpp).
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>

#include "framework/analysis/report.hpp"
#include "framework/util/number_text.hpp"

namespace cellzoo::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* diverged_name(Diverged d) {
  return d == Diverged::worst ? "worst" : "exclude";
}

// The shortest text that reads back as `v` (JSON and CSV), or with `fmt`.
std::string num(double v, const char* fmt = nullptr) {
  if (std::isnan(v)) return "";
  if (!fmt) return shortest_text(v);
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
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
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
    for (const auto k : kShownBestOfK) add_k(std::to_string(k), k);
    add_k("n", em.mean.size());
  }
  return f;
}
}  // namespace

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

}  // namespace cellzoo::analysis
