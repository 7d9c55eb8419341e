// Shared by the language-modelling tasks (chars, words): locating the train/valid/test
// files of a corpus directory and the unigram baseline.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/task.hpp"

namespace cellzoo::datasets {

struct SplitFiles {
  std::filesystem::path train, valid, test;
};

// For each split, the first of `patterns` (with "{}" replaced by train/valid/test) that
// exists in `dir`. A missing directory or file throws naming it and the names looked for.
SplitFiles find_split_files(const TaskOptions& options, std::string_view task,
                            const std::vector<std::string>& patterns);

// Cross-entropy in nats per token of `eval` under the add-one smoothed unigram
// distribution of `train` over `vocabulary_size` tokens.
double unigram_cross_entropy(const std::vector<int>& train, const std::vector<int>& eval,
                             std::size_t vocabulary_size);

// Line number (1-based) of byte `pos` in `text`, for error messages.
std::size_t line_of(std::string_view text, std::size_t pos);

}  // namespace cellzoo::datasets
