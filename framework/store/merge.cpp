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

// One run of an input: its run_id, run_key and input (48 bytes a run, read as keys only);
// the rows and curves stay in the files until their block of the output is written.
struct Entry {
  std::int64_t run_id;
  RunKey key;
  std::size_t input;
};

// What the inputs hold besides their runs' rows and curves.
struct InputIndex {
  std::vector<Entry> entries;  // input-major, then file order
  std::map<std::string, CellText> cells;
  // /candidates of evolutionary searches: one row per (shard, generation, index).
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, CandidateRow> candidates;
};

// Opens and checks every input before anything is written: one spec, one column set.
std::vector<ResultsReader> open_inputs(const std::vector<std::string>& inputs) {
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
  return readers;
}

InputIndex index_inputs(std::vector<ResultsReader>& readers,
                        const std::vector<std::string>& inputs) {
  InputIndex index;
  for (std::size_t i = 0; i < readers.size(); ++i) {
    for (auto& c : readers[i].candidates())
      index.candidates.emplace(std::make_tuple(c.shard, c.generation, c.index), std::move(c));
    for (const auto& [id, key] : readers[i].run_keys()) index.entries.push_back({id, key, i});
    for (auto& cell : readers[i].cells()) {
      auto [it, inserted] = index.cells.emplace(cell.name, cell);
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
  return index;
}

// Keeps the first occurrence of each run_key (the first input, then file order) and
// returns how many were dropped.
std::size_t drop_duplicate_keys(std::vector<Entry>& entries) {
  std::vector<std::size_t> order(entries.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return entries[a].key < entries[b].key; });
  std::vector<bool> drop(entries.size());
  for (std::size_t k = 1; k < order.size(); ++k)
    if (entries[order[k]].key == entries[order[k - 1]].key) drop[order[k]] = true;
  std::size_t w = 0;
  for (std::size_t k = 0; k < entries.size(); ++k)
    if (!drop[k]) entries[w++] = entries[k];
  const std::size_t dropped = entries.size() - w;
  entries.resize(w);
  return dropped;
}

// Output order: by run_id; one run_id with two run_keys means the inputs disagree.
void order_by_run_id(std::vector<Entry>& entries, const std::vector<std::string>& inputs) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.run_id != b.run_id ? a.run_id < b.run_id : a.key < b.key;
  });
  for (std::size_t k = 1; k < entries.size(); ++k)
    if (entries[k].run_id == entries[k - 1].run_id)
      throw Error("run_id " + std::to_string(entries[k].run_id) + " has different run_keys in '" +
                      inputs[entries[k - 1].input] + "' and '" + inputs[entries[k].input] + "'",
                  "the inputs disagree about the spec's runs; merge only shards of one sweep");
}

// The first input's metadata, as one unsharded file that records where it came from.
FileMeta merged_meta(const std::vector<ResultsReader>& readers,
                     const std::vector<std::string>& inputs) {
  FileMeta meta = readers.front().meta();
  meta.shard.clear();
  meta.merged_from.clear();
  for (const auto& path : inputs) meta.merged_from += (meta.merged_from.empty() ? "" : "\n") + path;
  meta.reused_from.clear();  // every shard's --reuse sources
  for (const auto& reader : readers)
    if (!reader.meta().reused_from.empty())
      meta.reused_from += (meta.reused_from.empty() ? "" : "\n") + reader.meta().reused_from;
  return meta;
}

// Each input's sessions, keeping only the run ids `taken` (sorted, per input) from it.
std::vector<Session> taken_sessions(std::vector<ResultsReader>& readers,
                                    const std::vector<std::string>& inputs,
                                    const std::vector<std::vector<std::int64_t>>& taken) {
  std::vector<Session> origins;
  for (std::size_t i = 0; i < readers.size(); ++i) {
    for (auto& session : readers[i].sessions()) {
      std::vector<std::int64_t> ids;
      for (auto id : session.run_ids)
        if (std::binary_search(taken[i].begin(), taken[i].end(), id)) ids.push_back(id);
      if (ids.empty()) continue;
      session.run_ids = std::move(ids);
      if (session.fact("source").empty()) session.facts["source"] = inputs[i];
      origins.push_back(std::move(session));
    }
  }
  return origins;
}

// Writes the runs in blocks of `block`: each block reads the rows and curves of its runs
// from the inputs it draws on, so memory is bounded by one block, not by the merge.
void write_blocks(ResultsWriter& writer, std::vector<ResultsReader>& readers,
                  const std::vector<Entry>& entries, std::size_t block, MergeReport& report) {
  for (std::size_t first = 0; first < entries.size(); first += block) {
    const std::size_t last = std::min(entries.size(), first + block);
    std::vector<std::vector<std::int64_t>> wanted(readers.size());  // sorted run ids
    for (std::size_t k = first; k < last; ++k)
      wanted[entries[k].input].push_back(entries[k].run_id);
    std::unordered_map<std::int64_t, RunRow> rows;
    std::unordered_map<std::int64_t, std::vector<CurveRow>> curves;  // stored order
    for (std::size_t i = 0; i < readers.size(); ++i) {
      if (wanted[i].empty()) continue;
      const auto in_block = [&](std::int64_t id) {
        return std::binary_search(wanted[i].begin(), wanted[i].end(), id);
      };
      readers[i].for_each_run([&](RunRow row) {
        if (in_block(row.run_id) && !rows.count(row.run_id))
          rows.emplace(row.run_id, std::move(row));
      });
      readers[i].for_each_curve([&](const CurveRow& c) {
        if (in_block(c.run_id)) curves[c.run_id].push_back(c);
      });
    }
    std::vector<RunRow> block_rows;
    std::vector<CurveRow> block_curves;
    block_rows.reserve(last - first);
    for (std::size_t k = first; k < last; ++k) {
      auto& c = curves[entries[k].run_id];
      block_curves.insert(block_curves.end(), c.begin(), c.end());
      block_rows.push_back(std::move(rows.at(entries[k].run_id)));
    }
    writer.append_unrecorded(block_rows, block_curves);
    report.curve_rows += block_curves.size();
  }
}

// The ids in [0, total) that no entry (sorted by run_id) has.
std::vector<std::int64_t> missing_ids(const std::vector<Entry>& entries, std::int64_t total) {
  std::vector<std::int64_t> missing;
  std::int64_t next = 0;
  for (const auto& e : entries) {
    for (; next < std::min(e.run_id, total); ++next) missing.push_back(next);
    next = std::max(next, e.run_id + 1);
  }
  for (; next < total; ++next) missing.push_back(next);
  return missing;
}

// Saved parameters (sweep --save-params) of the kept runs go along; returns how many.
std::size_t copy_saved_params(const std::vector<Entry>& entries,
                              const std::vector<std::string>& inputs, const std::string& out_path) {
  std::size_t copied = 0;
  std::error_code ec;
  for (const auto& e : entries) {
    const std::string key = run_key_text(e.key);
    const auto from = run_params_path(inputs[e.input], key);
    if (!std::filesystem::exists(from, ec)) continue;
    const auto to = run_params_path(out_path, key);
    std::filesystem::create_directories(params_dir_for(out_path), ec);
    if (!std::filesystem::copy_file(from, to, ec) || ec)
      throw Error(
          "cannot copy the saved parameters '" + from + "' to '" + to + "': " + ec.message(),
          "check that the disk has space and '" + params_dir_for(out_path) + "' is writable");
    ++copied;
  }
  return copied;
}

}  // namespace

MergeReport merge(const std::string& out_path, const std::vector<std::string>& inputs,
                  bool strict_build, std::size_t block_runs) {
  if (inputs.empty())
    throw Error("nothing to merge: no input files", "list the shard files to merge");
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec))
    throw Error("output '" + out_path + "' already exists; merge never overwrites a file",
                "choose another -o, or delete the old file yourself");
  std::vector<ResultsReader> readers = open_inputs(inputs);

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
  InputIndex index = index_inputs(readers, inputs);
  std::vector<Entry>& entries = index.entries;
  report.duplicates_dropped = drop_duplicate_keys(entries);
  order_by_run_id(entries, inputs);

  FileMeta meta = merged_meta(readers, inputs);
  std::vector<std::vector<std::int64_t>> taken(readers.size());  // sorted: entries are
  for (const auto& e : entries) taken[e.input].push_back(e.run_id);
  const std::vector<Session> origins = taken_sessions(readers, inputs, taken);
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

  // Blocks of the output as large as the largest input's share (at least 8192 runs).
  std::size_t block = block_runs;
  if (block == 0) {
    block = 8192;
    for (const auto& t : taken) block = std::max(block, t.size());
  }

  // create() leaves nothing behind when it fails; after it, the file is ours to remove.
  auto writer = ResultsWriter::create(out_path, meta, readers.front().hyper_columns());
  try {
    for (const auto& [name, cell] : index.cells) writer.add_cell(cell);
    for (const auto& [key, row] : index.candidates) writer.add_candidate(row);
    write_blocks(writer, readers, entries, block, report);
    writer.add_sessions(origins);
    report.missing_run_ids = missing_ids(entries, report.total_runs);
    if (report.missing_run_ids.empty()) writer.set_finished();
    writer.close();
    report.params_copied = copy_saved_params(entries, inputs, out_path);
  } catch (...) {
    { auto doomed = std::move(writer); }
    std::filesystem::remove(out_path, ec);
    if (!params_dir_existed) std::filesystem::remove_all(params_dir_for(out_path), ec);
    throw;
  }
  report.runs_merged = entries.size();
  return report;
}

}  // namespace cellzoo::store
