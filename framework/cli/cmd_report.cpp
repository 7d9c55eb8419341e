// cellzoo report: the Greff-style comparison of the cells in a results file
// (framework/analysis/report.hpp; what is computed is in docs/analysis.md).
#include <iostream>
#include <string>
#include <vector>

#include "framework/analysis/report.hpp"
#include "framework/cli/common.hpp"
#include "framework/store/results_file.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

int cmd_report(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::string file, format = "table", by, diverged = "exclude";
  std::vector<std::string> where;
  bool details = false;
  long long bootstrap = 1000;
  analysis::ReportOptions ro;
  options.add_options()("file", po::value(&file), "results file (.h5)")(
      "metric,m", po::value(&ro.metric)->default_value("test_metric"),
      "column to compare: test_metric (the task metric on test), test_loss, valid_metric, "
      "valid_loss, or any numeric column of /runs")(
      "baseline,b", po::value(&ro.baseline),
      "cell every other cell is tested against (default: lstm; without lstm runs, the spec's "
      "first listed cell with runs, and the report says so)")(
      "top-fraction", po::value(&ro.top_fraction)->default_value(0.1, "0.1"),
      "fraction of each cell's runs, best by validation score, in the second comparison "
      "(ceil(fraction x n), at least 1)")(
      "alpha", po::value(&ro.alpha)->default_value(0.05, "0.05"), "significance level")(
      "include-timeout", po::bool_switch(&ro.include_timeout),
      "let runs with status timeout into the statistics (default: only status ok)")(
      "diverged", po::value(&diverged)->default_value("exclude"),
      "exclude: leave diverged and failed runs out (Greff et al.); worst: rank them below "
      "every finite score in the medians, the paired test and the shift")(
      "bootstrap", po::value(&bootstrap)->default_value(1000),
      "resamples (of trials) for the 95% intervals; 0 leaves them out")(
      "bootstrap-seed", po::value(&ro.bootstrap_seed)->default_value(0),
      "seed of the resampling (same seed, same intervals)")(
      "where", po::value(&where)->composing(),
      "NAME=VALUE: only runs whose hyperparameter column NAME holds VALUE (repeatable; "
      "e.g. --where task.length=100)")(
      "by", po::value(&by),
      "one comparison per value of hyperparameter column NAME (e.g. --by task.length)")(
      "format,f", po::value(&format)->default_value("table"), "table, csv or json")(
      "details", po::bool_switch(&details),
      "table: also summaries, every test statistic, p_improve and the expected best-of-k");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (!parse_args("report",
                  "FILE.h5 [--metric M] [--baseline CELL] [--top-fraction F] "
                  "[--where NAME=VALUE] [--by NAME] [--diverged exclude|worst] "
                  "[--format table|csv|json] [--details]",
                  options, args, vm, &positional))
    return 0;
  if (file.empty())
    throw Error("no results file given", "usage: cellzoo report FILE.h5 (see --help)");
  if (format != "table" && format != "csv" && format != "json")
    throw Error("unknown --format '" + format + "'", "use table, csv or json");
  if (!(ro.alpha > 0 && ro.alpha < 1))
    throw Error("--alpha must be in (0, 1)", "the paper's level is 0.05");
  if (bootstrap < 0 || bootstrap > 1000000)
    throw Error("--bootstrap " + std::to_string(bootstrap) + " is not in 0..1000000",
                "1000 resamples give stable 95% intervals; 0 leaves them out");
  ro.bootstrap = static_cast<std::size_t>(bootstrap);
  if (diverged != "exclude" && diverged != "worst")
    throw Error("unknown --diverged '" + diverged + "'",
                "use exclude (leave them out, Greff et al.) or worst (rank them last)");
  ro.diverged = diverged == "worst" ? analysis::Diverged::worst : analysis::Diverged::exclude;

  for (const auto& w : where) {
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == w.size())
      throw Error("malformed --where '" + w + "'",
                  "write --where NAME=VALUE, e.g. task.length=100");
    ro.where.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }

  // A file that a running sweep is writing is read as it stands (store::read_snapshot).
  const auto snapshot = store::read_snapshot(file);
  const auto& runs = snapshot.runs;
  if (snapshot.while_written) {
    const std::string note = file + " is being written by a running sweep: this report covers " +
                             "the " + std::to_string(runs.size()) + " runs recorded so far";
    (format == "table" ? std::cout : std::cerr) << "cellzoo report: note: " << note << "\n";
  }
  // Runs of different builds or processors in one file agree to rounding only: say so.
  if (const auto mixed = store::describe_mixed_paths(snapshot.sessions); !mixed.empty()) {
    std::string lines;
    for (std::size_t b = 0, e; b < mixed.size(); b = e + 1) {
      e = mixed.find('\n', b);
      if (e == std::string::npos) e = mixed.size();
      lines += "\n  " + mixed.substr(b, e - b);
    }
    (format == "table" ? std::cout : std::cerr)
        << "cellzoo report: note: " << file
        << " mixes runs of different numerical paths (builds or processors); they agree to "
           "rounding, not bit for bit, and a rerun reproduces each only on its own path:"
        << lines << "\n";
  }
  // Without --by, one report; with it, one per value of the column (in the same output).
  std::vector<analysis::Report> reports;
  if (by.empty()) {
    reports.push_back(analysis::build_report(file, snapshot.meta, snapshot.hyper, runs, ro));
  } else {
    for (const auto& value : analysis::distinct_values(file, snapshot.hyper, runs, by)) {
      auto group = ro;
      group.where.emplace_back(by, value);
      reports.push_back(analysis::build_report(file, snapshot.meta, snapshot.hyper, runs, group));
    }
    if (reports.empty())
      throw Error(file + " has no runs yet", "wait for the sweep to record some");
    analysis::correct_family(reports);  // Holm over every slice's tests
  }
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& report = reports[i];
    if (format == "table") {
      if (i) std::cout << "\n";
      analysis::write_table(std::cout, report, details);
      continue;
    }
    // Keep machine-readable output clean: the missing-runs note goes to stderr (JSON
    // carries it in its "note" field too).
    if (const auto note = analysis::missing_note(report); !note.empty())
      std::cerr << "cellzoo report: note: " << note << "\n";
    if (!report.baseline_note.empty())
      std::cerr << "cellzoo report: note: " << report.baseline_note << "\n";
    if (format == "csv") {
      analysis::write_csv(std::cout, report, i == 0);
    } else {
      // --by: a JSON array of the per-value reports.
      if (!by.empty()) std::cout << (i == 0 ? "[\n" : ",\n");
      analysis::write_json(std::cout, report);
      if (!by.empty() && i + 1 == reports.size()) std::cout << "]\n";
    }
  }
  return 0;
}

}  // namespace cellzoo::cli
