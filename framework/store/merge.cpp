// merge(): shard files -> one results file (see merge.hpp).
#include "framework/store/merge.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "framework/store/parameters.hpp"
#include "framework/store/results_file.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::store {

namespace {

std::string describe(const std::vector<HyperColumn>& columns) {
  std::string text;
  for (const auto& c : columns)
    text += (text.empty() ? "" : ", ") + c.name + (c.kind == HyperColumn::text ? " (text)" : "");
  return text.empty() ? "none" : text;
}

}  // namespace

MergeReport merge(const std::string& out_path, const std::vector<std::string>& inputs,
                  bool strict_build) {
  if (inputs.empty())
    throw Error("nothing to merge: no input files", "list the shard files to merge");
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec))
    throw Error("output '" + out_path + "' already exists; merge never overwrites a file",
                "choose another -o, or delete the old file yourself");

  // Open and check every input before writing anything.
  std::vector<ResultsReader> readers;
  readers.reserve(inputs.size());
  for (const auto& path : inputs) {
    readers.push_back(ResultsReader::open(path));
    const ResultsReader& first = readers.front();
    const ResultsReader& r = readers.back();
    if (r.meta().spec_hash != first.meta().spec_hash)
      throw Error("'" + path + "' (spec_hash " + r.meta().spec_hash + ") and '" + inputs.front() +
                      "' (spec_hash " + first.meta().spec_hash + ") come from different specs",
                  "merge only the shards of one sweep");
    if (r.hyper_columns() != first.hyper_columns())
      throw Error("'" + path + "' has hyper columns [" + describe(r.hyper_columns()) + "] but '" +
                      inputs.front() + "' has [" + describe(first.hyper_columns()) + "]",
                  "merge only the shards of one sweep");
    if (r.meta().total_runs != first.meta().total_runs)
      throw Error("'" + path + "' says the spec has " + std::to_string(r.meta().total_runs) +
                      " runs but '" + inputs.front() + "' says " +
                      std::to_string(first.meta().total_runs),
                  "merge only the shards of one sweep, written by the same cellzoo");
  }

  // Saved parameters go to OUT.params/, which must not exist yet (never overwritten).
  bool any_params = false;
  for (const auto& path : inputs) any_params |= std::filesystem::exists(params_dir_for(path), ec);
  const bool params_dir_existed = std::filesystem::exists(params_dir_for(out_path), ec);
  if (any_params && params_dir_existed)
    throw Error("the inputs have saved parameters, and their directory for the output, '" +
                    params_dir_for(out_path) + "', already exists; merge never overwrites",
                "choose another -o, or move the old directory away");

  MergeReport report;
  report.inputs = inputs.size();
  report.total_runs = readers.front().meta().total_runs;

  // Keep the first occurrence of each run_key, remembering which input it came from.
  struct Kept {
    RunRow run;
    std::size_t input;
  };
  std::vector<Kept> kept;
  std::set<std::string> seen_keys;
  std::map<std::string, CellText> cells;
  // /candidates of evolutionary searches: one row per (shard, generation, index).
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, CandidateRow> candidates;
  for (std::size_t i = 0; i < readers.size(); ++i) {
    for (auto& c : readers[i].candidates())
      candidates.emplace(std::make_tuple(c.shard, c.generation, c.index), std::move(c));
    for (auto& run : readers[i].runs()) {
      if (!seen_keys.insert(run.run_key).second) {
        ++report.duplicates_dropped;
        continue;
      }
      kept.push_back({std::move(run), i});
    }
    for (auto& cell : readers[i].cells()) {
      auto [it, inserted] = cells.emplace(cell.name, cell);
      if (inserted || it->second == cell) continue;
      if (cell.text.starts_with("plugin "))  // a plugin cell: hash of the plugin's file
        throw Error("cell '" + cell.name + "' was run with " + cell.text + " (hash " + cell.hash +
                        ") in '" + inputs[i] + "' but with " + it->second.text + " (hash " +
                        it->second.hash + ") in an earlier input",
                    "merge only shards made with the same build of the plugin");
      throw Error("cell '" + cell.name + "' has different texts in '" + inputs[i] +
                      "' and an earlier input",
                  "merge only the shards of one sweep");
    }
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Kept& a, const Kept& b) {
    return a.run.run_id != b.run.run_id ? a.run.run_id < b.run.run_id
                                        : a.run.run_key < b.run.run_key;
  });
  for (std::size_t k = 1; k < kept.size(); ++k)
    if (kept[k].run.run_id == kept[k - 1].run.run_id)
      throw Error("run_id " + std::to_string(kept[k].run.run_id) + " has different run_keys in '" +
                      inputs[kept[k - 1].input] + "' and '" + inputs[kept[k].input] + "'",
                  "the inputs disagree about the spec's runs; merge only shards of one sweep");

  // Each input's curves, grouped by run_id (a run's rows keep their stored order).
  std::vector<std::unordered_map<std::int64_t, std::vector<CurveRow>>> curves(readers.size());
  for (std::size_t k = 0; k < kept.size(); ++k) curves[kept[k].input][kept[k].run.run_id];
  for (std::size_t i = 0; i < readers.size(); ++i)
    for (const auto& c : readers[i].curves())
      if (auto it = curves[i].find(c.run_id); it != curves[i].end()) it->second.push_back(c);

  FileMeta meta = readers.front().meta();
  meta.shard.clear();
  meta.merged_from.clear();
  for (const auto& path : inputs) meta.merged_from += (meta.merged_from.empty() ? "" : "\n") + path;
  meta.reused_from.clear();  // every shard's --reuse sources
  for (const auto& reader : readers)
    if (!reader.meta().reused_from.empty())
      meta.reused_from += (meta.reused_from.empty() ? "" : "\n") + reader.meta().reused_from;

  // Each input's sessions, keeping only the run ids taken from that input.
  std::vector<std::set<std::int64_t>> taken(readers.size());
  for (const auto& k : kept) taken[k.input].insert(k.run.run_id);
  std::vector<Session> origins;
  for (std::size_t i = 0; i < readers.size(); ++i) {
    for (auto& session : readers[i].sessions()) {
      std::vector<std::int64_t> ids;
      for (auto id : session.run_ids)
        if (taken[i].count(id)) ids.push_back(id);
      if (ids.empty()) continue;
      session.run_ids = std::move(ids);
      if (session.fact("source").empty()) session.facts["source"] = inputs[i];
      origins.push_back(std::move(session));
    }
  }
  report.mixed_paths = describe_mixed_paths(origins);
  if (!report.mixed_paths.empty() && strict_build)
    throw Error(
        "the inputs' runs were computed on different numerical paths (builds or "
        "processors), so the merged file would not be one bit-reproducible set:\n" +
            report.mixed_paths,
        "merge shard files made by one binary on like processors (rerun the others "
        "with it), or merge without --strict-build to keep them with a record of which "
        "runs came from which path");
  const auto paths = paths_of(origins);
  meta.numerical_path = paths.size() == 1 ? paths.front().first
                        : paths.empty()   ? std::string()
                                          : "mixed: " + std::to_string(paths.size()) +
                                              " numerical paths (see /provenance)";

  std::vector<RunRow> runs;
  runs.reserve(kept.size());
  std::vector<CurveRow> curve_rows;
  std::vector<std::pair<std::size_t, std::string>> kept_inputs;  // (input, run_key)
  for (auto& k : kept) {
    kept_inputs.emplace_back(k.input, k.run.run_key);
    auto& rows = curves[k.input][k.run.run_id];
    curve_rows.insert(curve_rows.end(), rows.begin(), rows.end());
    runs.push_back(std::move(k.run));
  }

  // create() leaves nothing behind when it fails; after it, the file is ours to remove.
  auto writer = ResultsWriter::create(out_path, meta, readers.front().hyper_columns());
  try {
    for (const auto& [name, cell] : cells) writer.add_cell(cell);
    for (const auto& [key, row] : candidates) writer.add_candidate(row);
    writer.append_batch(runs, curve_rows, origins);
    std::set<std::int64_t> present;
    for (const auto& r : runs) present.insert(r.run_id);
    for (std::int64_t id = 0; id < report.total_runs; ++id)
      if (!present.count(id)) report.missing_run_ids.push_back(id);
    if (report.missing_run_ids.empty()) writer.set_finished();
    writer.close();
    // Saved parameters (sweep --save-params) of the kept runs go along.
    for (std::size_t k = 0; k < kept_inputs.size(); ++k) {
      const auto from = run_params_path(inputs[kept_inputs[k].first], kept_inputs[k].second);
      if (!std::filesystem::exists(from, ec)) continue;
      const auto to = run_params_path(out_path, kept_inputs[k].second);
      std::filesystem::create_directories(params_dir_for(out_path), ec);
      if (!std::filesystem::copy_file(from, to, ec) || ec)
        throw Error(
            "cannot copy the saved parameters '" + from + "' to '" + to + "': " + ec.message(),
            "check that the disk has space and '" + params_dir_for(out_path) + "' is writable");
      ++report.params_copied;
    }
  } catch (...) {
    { auto doomed = std::move(writer); }
    std::filesystem::remove(out_path, ec);
    if (!params_dir_existed) std::filesystem::remove_all(params_dir_for(out_path), ec);
    throw;
  }
  report.runs_merged = runs.size();
  report.curve_rows = curve_rows.size();
  return report;
}

}  // namespace cellzoo::store
