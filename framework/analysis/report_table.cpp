// `cellzoo report`'s text table (see report.hpp): 80 columns by default, --details wider.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <tuple>

#include "framework/analysis/report.hpp"

namespace cellzoo::analysis {

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
                         fmt("%g", o.top_fraction) + " x n) by " + r.ranked_by);
  const std::string statuses = std::string("status ok") + (o.include_timeout ? " or timeout" : "");
  write_wrapped(out, o.diverged == Diverged::worst
                         ? "runs: " + statuses +
                               " with a finite value, and the diverged and failed ones as the "
                               "worst score (--diverged worst: they count in the medians, "
                               "p_paired and shift; means and Welch use the finite ones)"
                         : "runs: " + statuses +
                               " with a finite value; diverged and failed runs are left out, "
                               "as in Greff et al. (--diverged worst counts them)");
  write_wrapped(out, "p_welch: Welch t-test at alpha " + fmt("%g", o.alpha) +
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
  if (!r.baseline_note.empty()) write_wrapped(out, "note: " + r.baseline_note);
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
    write_wrapped(out, "underpowered (p >= " + fmt("%g", o.alpha) +
                           " and |mean difference| < MDE, the difference Welch would find with " +
                           fmt("%g", o.power * 100) + "% power): " + underpowered);
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
  for (const auto k : kShownBestOfK) {
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
    for (const auto k : kShownBestOfK) {
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
        std::tuple{"top " + fmt("%g", o.top_fraction * 100) + "% by " + r.ranked_by,
                   &CellResult::top, true}}) {
    out << "\n" << title << "\n";
    write_group(out, r, member, top, width);
    if (details) {
      out << "\n";
      write_wrapped(out,
                    "details: p_holm is Holm over the cells of this table (holm above: over "
                    "the whole report); mde: the smallest mean difference Welch finds with " +
                        fmt("%g", o.power * 100) +
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
