// Helpers shared by the task files: typed option reading with one clear error per bad
// value, split generation from independent random streams, character vocabularies for
// the next-character tasks, and small file-system helpers for the data loaders.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "datasets/task.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::datasets {

using OptionList = std::vector<std::pair<std::string, std::pair<std::string, std::string>>>;

// Reads an option that TaskRegistry::build has already filled with its default. Bad
// values throw cellzoo::Error naming the task, the option and the accepted range.
std::int64_t option_int(const TaskOptions& options, std::string_view task, const std::string& key,
                        std::int64_t lo, std::int64_t hi);
double option_double(const TaskOptions& options, std::string_view task, const std::string& key,
                     double lo, double hi);
std::string option_choice(const TaskOptions& options, std::string_view task, const std::string& key,
                          const std::vector<std::string>& choices);
std::string option_string(const TaskOptions& options, const std::string& key);

// The n_train / n_valid / n_test options with the given defaults, and `fresh` (see
// generate_splits).
OptionList size_options(int n_train, int n_valid, int n_test);

// Fills data.train/valid/test with n_train/n_valid/n_test sequences from `make_one`.
// Each split draws from its own stream, derive_seed(seed, "train") etc., so changing
// the size of one split leaves the others' data unchanged. With the option fresh=true it
// also sets data.fresh_train: epoch e >= 2's training set, n_train sequences from
// derive_seed(seed, "train/epoch/<e>") (epoch 1 trains on data.train).
void generate_splits(TaskData& data, const TaskOptions& options, std::uint64_t seed,
                     const std::function<Sequence(Rng&)>& make_one);

// A character vocabulary: token i is the character vocabulary[i].
class CharVocabulary {
 public:
  explicit CharVocabulary(std::string_view chars);
  int id(char c) const;  // throws (a generator bug) if c is not in the vocabulary
  std::vector<std::string> names() const;
  Index size() const { return static_cast<Index>(chars_.size()); }

 private:
  std::string chars_;
  std::array<int, 256> ids_;
};

// Next-character prediction over `text`: step t reads text[t] and predicts text[t+1],
// for t = 0 .. size-2. Step t has weight 1 when its target position t+1 lies in
// [scored_begin, scored_end), else 0.
Sequence next_char_sequence(const CharVocabulary& vocab, std::string_view text,
                            std::size_t scored_begin, std::size_t scored_end);

// The string `data=` option of a file-based task, resolved to an existing path.
// Missing or empty -> an error explaining --data and scripts/fetch-datasets.
std::filesystem::path data_path(const TaskOptions& options, std::string_view task,
                                std::string_view expected);

// Reads a whole file; an unreadable file throws naming it.
std::string read_text_file(const std::filesystem::path& path, std::string_view task);

// Where users get data, for error hints.
inline constexpr std::string_view kFetchHint =
    "download the public data sets with scripts/fetch-datasets (default destination data/), "
    "or point at a copy such as ../shared/datasets";

}  // namespace cellzoo::datasets
