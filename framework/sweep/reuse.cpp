#include "framework/sweep/reuse.hpp"

#include <unordered_map>

#include "framework/sweep/batch.hpp"
#include "framework/util/build_info.hpp"

namespace cellzoo::sweep {

ReusePlan plan_reuse(const std::vector<std::string>& files,
                     const std::vector<const RunSpec*>& pending,
                     const std::vector<HyperColumn>& columns,
                     const std::map<std::string, store::CellText>& cell_texts) {
  ReusePlan plan;
  std::unordered_map<std::string, const RunSpec*> wanted;  // run_key -> run, until copied
  for (const RunSpec* run : pending) wanted.emplace(run->run_key, run);

  for (const auto& path : files) {
    const auto reader = store::ResultsReader::open(path);
    const auto& meta = reader.meta();
    if (meta.git_commit != build_info().git_commit)
      plan.notes.push_back(path + " was written by cellzoo " + meta.cellzoo_version + " (" +
                           meta.git_commit + "), this is " + build_info().version + " (" +
                           build_info().git_commit + "); its runs are reused as they are");
    std::map<std::string, std::string> old_hash;  // language cell name -> text hash there
    for (const auto& cell : reader.cells()) old_hash[cell.name] = cell.hash;

    std::unordered_map<std::int64_t, std::int64_t> new_id;  // old run_id -> new run_id
    std::int64_t copied = 0;
    for (const auto& row : reader.runs()) {
      const auto it = wanted.find(row.run_key);
      if (it == wanted.end()) continue;
      const RunSpec& run = *it->second;
      if (const auto text = cell_texts.find(run.cell); text != cell_texts.end()) {
        const auto old = old_hash.find(run.cell);
        if (old == old_hash.end() || old->second != text->second.hash) {
          ++plan.changed_cell_text;
          continue;
        }
      }
      // Same key: same cell, task, seed and settings; the row keeps its results and takes
      // this sweep's run id and hyper columns (which may be more or fewer).
      store::RunRow copy = row;
      copy.run_id = run.run_id;
      copy.trial = run.trial;
      copy.hyper = make_row(run, columns, train::TrainResult{}).hyper;
      new_id.emplace(row.run_id, run.run_id);
      plan.runs.push_back(std::move(copy));
      wanted.erase(it);
      ++copied;
    }
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
    for (auto curve : reader.curves()) {
      const auto it = new_id.find(curve.run_id);
      if (it == new_id.end()) continue;
      curve.run_id = it->second;
      plan.curves.push_back(curve);
    }
    plan.sources.push_back(path + ": " + std::to_string(copied) + " runs (spec_hash " +
                           meta.spec_hash + ", cellzoo " + meta.cellzoo_version + " " +
                           meta.git_commit + ")");
  }
  return plan;
}

}  // namespace cellzoo::sweep
