// The best architectures of an evolutionary search (search = evolution): ranks the
// candidates of a results file by fitness, with their texts, for `cellzoo top`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/store/results_file.hpp"

namespace cellzoo::analysis {

struct Architecture {
  std::string name;  // as in /runs.cell: a seed's name or cand:<hash>
  std::string hash;
  std::string parent_hash;  // "" for seeds
  std::string text;         // canonical cell-language text (/cells)
  std::int64_t shard = 0;
  std::int64_t generation = 0;   // when it was first evaluated
  std::int64_t evaluations = 0;  // events that evaluated it (first one + re-evaluations)
  std::int64_t runs = 0;         // rows of /runs with this cell name
  double fitness = 0;            // as of its latest evaluation
  bool in_population = false;    // among its shard's `population` fittest at the end
};

// Every candidate that passed all stages, fittest first (ties: earlier shard, generation,
// event). Each shard's population is its own: a cell found by two shards appears twice.
// The population size is read from the file's spec_text ([evolution] population).
// Throws cellzoo::Error when the file has no /candidates (not an evolutionary search).
std::vector<Architecture> top_architectures(const std::string& path,
                                            const store::ResultsSnapshot& file);

// The first `n` as text: one header line per architecture, then its text, indented.
std::string format_architectures(const std::vector<Architecture>& top, std::size_t n);

}  // namespace cellzoo::analysis
