// cellzoo top: the best architectures of an evolutionary search (search = evolution),
// fittest first, with their fitness and cell-language text.
#include <iostream>

#include "framework/analysis/top_architectures.hpp"
#include "framework/cli/common.hpp"
#include "framework/store/results_file.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

int cmd_top(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::string path;
  int n = 10;
  options.add_options()("file", po::value(&path)->required(),
                        "results file of a search = evolution sweep")(
      "n,n", po::value(&n)->default_value(10), "how many architectures to list");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (!parse_args("top", "FILE.h5 [--n 10]", options, args, vm, &positional)) return 0;
  if (n < 1) throw Error("--n must be at least 1, got " + std::to_string(n));

  const auto file = store::read_snapshot(path);  // also while the search is running
  const auto top = analysis::top_architectures(path, file);
  if (file.while_written)
    std::cout << "note: " << path << " is being written by a running search; these are the "
              << file.candidates.size() << " candidates recorded so far\n";
  std::cout << "top " << std::min<std::size_t>(top.size(), static_cast<std::size_t>(n)) << " of "
            << top.size() << " architectures that passed every stage of " << path
            << " (fitness = min over tasks of best / reference's best)\n\n"
            << analysis::format_architectures(top, static_cast<std::size_t>(n));
  return 0;
}

}  // namespace cellzoo::cli
