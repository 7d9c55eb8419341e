// cellzoo merge: the shard files of a sweep -> one results file (framework/store/merge.hpp).
#include <cstdio>
#include <string>
#include <vector>

#include "framework/cli/common.hpp"
#include "framework/store/merge.hpp"
#include "framework/store/parameters.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

namespace {

// "4-11, 15, 20-22" (at most `limit` ranges, then "...").
std::string id_ranges(const std::vector<std::int64_t>& ids, std::size_t limit = 8) {
  std::string text;
  std::size_t ranges = 0;
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (ranges++ == limit) return text + ", ...";
    if (!text.empty()) text += ", ";
    text += std::to_string(ids[i]);
    if (j > i) {
      text += '-';
      text += std::to_string(ids[j]);
    }
    i = j + 1;
  }
  return text;
}

}  // namespace

int cmd_merge(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::string out;
  std::vector<std::string> inputs;
  options.add_options()("output,o", po::value(&out)->required(),
                        "the merged file to create (an existing file is never overwritten)")(
      "inputs", po::value(&inputs)->composing(), "the shard files (positional)")(
      "strict-build",
      "refuse inputs whose runs were computed on different numerical paths (builds or "
      "processors) instead of merging them with a warning");
  po::positional_options_description positional;
  positional.add("inputs", -1);
  po::variables_map vm;
  if (!parse_args("merge", "-o OUT.h5 SHARD.h5 ... [--strict-build]", options, args, vm,
                  &positional))
    return 0;
  if (inputs.empty())
    throw Error("no shard files to merge", "usage: cellzoo merge -o OUT.h5 SHARD.h5 ...");

  const auto report = store::merge(out, inputs, vm.count("strict-build") > 0);
  if (!report.mixed_paths.empty()) {
    std::string lines;
    for (std::size_t b = 0, e; b < report.mixed_paths.size(); b = e + 1) {
      e = report.mixed_paths.find('\n', b);
      if (e == std::string::npos) e = report.mixed_paths.size();
      lines += "  " + report.mixed_paths.substr(b, e - b) + "\n";
    }
    std::fprintf(stderr,
                 "cellzoo merge: warning: the merged runs were computed on different numerical "
                 "paths (builds or processors):\n%s"
                 "  they agree to rounding, not bit for bit; %s records which runs came from "
                 "which path (/provenance), and cellzoo report notes it. --strict-build refuses "
                 "such inputs.\n",
                 lines.c_str(), out.c_str());
  }

  std::printf("merged %zu runs from %zu files into %s (%zu duplicate%s dropped)\n",
              report.runs_merged, report.inputs, out.c_str(), report.duplicates_dropped,
              report.duplicates_dropped == 1 ? "" : "s");
  if (report.params_copied > 0)
    std::printf("copied %zu saved parameter files to %s\n", report.params_copied,
                store::params_dir_for(out).c_str());
  if (report.missing_run_ids.empty())
    std::printf("all %lld runs of the spec are present\n",
                static_cast<long long>(report.total_runs));
  else
    std::printf("%zu of %lld runs missing (run ids %s)\n", report.missing_run_ids.size(),
                static_cast<long long>(report.total_runs),
                id_ranges(report.missing_run_ids).c_str());
  return 0;
}

}  // namespace cellzoo::cli
