// Implementation of text_corpus.hpp.
#include "datasets/text_corpus.hpp"

#include <algorithm>
#include <cmath>

#include "datasets/task_util.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::datasets {

SplitFiles find_split_files(const TaskOptions& options, std::string_view task,
                            const std::vector<std::string>& patterns) {
  namespace fs = std::filesystem;
  std::string names_for_train;
  for (const auto& p : patterns) {
    std::string n = p;
    n.replace(n.find("{}"), 2, "train");
    names_for_train += (names_for_train.empty() ? "" : " or ") + n;
  }
  const std::string expected = "a directory holding " + names_for_train + " (and valid, test)";
  const fs::path dir = data_path(options, task, expected);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(
        "task '" + std::string(task) + "': data path '" + dir.string() + "' is not a directory",
        "set data= to " + expected + "; " + std::string(kFetchHint));
  SplitFiles out;
  for (auto [split, dest] : {std::pair{"train", &out.train}, std::pair{"valid", &out.valid},
                             std::pair{"test", &out.test}}) {
    std::string tried;
    for (const auto& p : patterns) {
      std::string name = p;
      name.replace(name.find("{}"), 2, split);
      tried += (tried.empty() ? "" : ", ") + name;
      if (fs::is_regular_file(dir / name, ec)) {
        *dest = dir / name;
        break;
      }
    }
    if (dest->empty())
      throw Error("task '" + std::string(task) + "': no " + split + " file in '" + dir.string() +
                      "' (looked for " + tried + ")",
                  "the directory needs one file per split, named like " + names_for_train + "; " +
                      std::string(kFetchHint));
  }
  return out;
}

double unigram_cross_entropy(const std::vector<int>& train, const std::vector<int>& eval,
                             std::size_t vocabulary_size) {
  std::vector<double> count(vocabulary_size, 1.0);  // add-one smoothing
  for (int t : train) count[static_cast<std::size_t>(t)] += 1;
  const double total = static_cast<double>(train.size() + vocabulary_size);
  double nll = 0;
  for (int t : eval) nll -= std::log(count[static_cast<std::size_t>(t)] / total);
  return nll / static_cast<double>(std::max<std::size_t>(eval.size(), 1));
}

std::size_t line_of(std::string_view text, std::size_t pos) {
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
}

}  // namespace cellzoo::datasets
