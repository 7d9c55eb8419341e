#include "framework/sweep/reuse.hpp"

#include <algorithm>
#include <unordered_map>

#include "framework/sweep/batch.hpp"
#include "framework/util/build_info.hpp"

namespace cellzoo::sweep {

ReusePlan plan_reuse(const std::vector<std::string>& files, const RunEnumerator& runs,
                     const std::vector<std::int64_t>& pending,
                     const std::map<std::string, store::CellText>& cell_texts,
                     const std::function<RunSpec(std::int64_t)>& complete) {
  ReusePlan plan;
  // (run_key, run id) of the pending runs, sorted; `taken` once copied.
  std::vector<std::pair<store::RunKey, std::int64_t>> wanted;
  wanted.reserve(pending.size());
  for (const std::int64_t id : pending)
    wanted.emplace_back(store::make_run_key(runs.run_key(id)), id);
  std::sort(wanted.begin(), wanted.end());
  std::vector<bool> taken(wanted.size());

  for (const auto& path : files) {
    const auto reader = store::ResultsReader::open(path);
    const auto& meta = reader.meta();
    if (meta.git_commit != build_info().git_commit)
      plan.notes.push_back(path + " was written by cellzoo " + meta.cellzoo_version + " (" +
                           meta.git_commit + "), this is " + build_info().version + " (" +
                           build_info().git_commit + "); its runs are reused as they are");
    std::map<std::string, std::string> old_hash;  // language cell name -> text hash there
    for (const auto& cell : reader.cells()) old_hash[cell.name] = cell.hash;

    // Which rows to copy, from the run keys alone.
    std::unordered_map<std::int64_t, std::int64_t> new_id;  // old run_id -> new run_id
    for (const auto& [old_id, key] : reader.run_keys()) {
      const auto it =
          std::lower_bound(wanted.begin(), wanted.end(), std::make_pair(key, std::int64_t{-1}));
      if (it == wanted.end() || it->first != key) continue;
      const auto w = static_cast<std::size_t>(it - wanted.begin());
      if (taken[w]) continue;
      const std::string& cell = runs.cell_of(it->second);
      if (const auto text = cell_texts.find(cell); text != cell_texts.end()) {
        const auto old = old_hash.find(cell);
        if (old == old_hash.end() || old->second != text->second.hash) {
          ++plan.changed_cell_text;
          continue;
        }
      }
      taken[w] = true;
      new_id.emplace(old_id, it->second);
    }
    // Same key: same cell, task, seed and settings; the row keeps its results and takes
    // this sweep's run id and hyper columns (which may be more or fewer).
    std::int64_t copied = 0;
    if (!new_id.empty())
      reader.for_each_run([&](store::RunRow row) {
        const auto it = new_id.find(row.run_id);
        if (it == new_id.end()) return;
        const RunSpec run = complete ? complete(it->second) : runs.describe(it->second);
        row.run_id = run.run_id;
        row.trial = run.trial;
        row.hyper = make_row(run, runs.columns(), train::TrainResult{}).hyper;
        plan.runs.push_back(std::move(row));
        ++copied;
      });
    for (auto& session : reader.sessions()) {
      store::Session origin;
      for (auto id : session.run_ids)
        if (const auto it = new_id.find(id); it != new_id.end())
          origin.run_ids.push_back(it->second);
      if (origin.run_ids.empty()) continue;
      origin.facts = std::move(session.facts);
      if (origin.facts["role"] != "reused") origin.facts["reused_role"] = origin.facts["role"];
      origin.facts["role"] = "reused";
      if (!origin.fact("source").empty()) origin.facts["source_before"] = origin.fact("source");
      origin.facts["source"] = path;
      plan.origins.push_back(std::move(origin));
    }
    if (!new_id.empty())
      reader.for_each_curve([&](store::CurveRow curve) {
        const auto it = new_id.find(curve.run_id);
        if (it == new_id.end()) return;
        curve.run_id = it->second;
        plan.curves.push_back(curve);
      });
    plan.sources.push_back(path + ": " + std::to_string(copied) + " runs (spec_hash " +
                           meta.spec_hash + ", cellzoo " + meta.cellzoo_version + " " +
                           meta.git_commit + ")");
  }
  return plan;
}

}  // namespace cellzoo::sweep
