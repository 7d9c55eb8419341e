// The evolutionary architecture search (see evolution.hpp): the generation loop with
// replay-based resume. Its [evolution] options are read in evolution_options.cpp.
#include "framework/sweep/evolution.hpp"

#include <tbb/info.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

#include "datasets/task.hpp"
#include "framework/cells/registry.hpp"
#include "framework/lang/lang_cell.hpp"
#include "framework/lang/mutate.hpp"
#include "framework/store/results_file.hpp"
#include "framework/sweep/batch.hpp"
#include "framework/sweep/progress.hpp"
#include "framework/sweep/spec_text.hpp"
#include "framework/train/trainer.hpp"
#include "framework/util/error.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::sweep {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- Candidate cells in the registry -------------------------------------------------

// Texts of the proposed cells of this process, by hash, behind the "cand:" resolver.
struct CandidateTexts {
  std::mutex mutex;
  std::map<std::string, lang::CellText> texts;
};
CandidateTexts& candidate_texts() {
  static CandidateTexts t;
  return t;
}

void register_candidate(const std::string& hash, const lang::CellText& text) {
  auto& t = candidate_texts();
  std::lock_guard lock(t.mutex);
  t.texts.emplace(hash, text);
}

// Installed once, before any worker runs (CellRegistry::add_resolver is not thread-safe).
void install_candidate_resolver() {
  static std::once_flag once;
  std::call_once(once, [] {
    cells::CellRegistry::instance().add_resolver("cand:", [](std::string_view name) {
      const std::string hash(name.substr(5));
      auto& t = candidate_texts();
      std::lock_guard lock(t.mutex);
      const auto it = t.texts.find(hash);
      if (it == t.texts.end())
        throw Error("unknown candidate cell '" + std::string(name) + "'",
                    "cand: names exist only inside an evolutionary search; 'cellzoo top FILE.h5' "
                    "prints a candidate's text, which runs anywhere as file:PATH or cell:TEXT");
      return lang::make_entry(it->second, std::string(name));
    });
  });
}

// ---- The search ----------------------------------------------------------------------

struct Candidate {
  std::string hash, name, parent_hash;
  lang::CellText text;
  std::vector<double> best;                // per stage (0 = filter): best valid metric, NaN = none
  std::vector<std::int64_t> next_setting;  // per stage: settings evaluated or planned
  bool complete = false;                   // passed every stage (or is a seed)
  double fitness = kNaN;
};

struct Event {
  std::string kind;  // seed | proposal | reevaluation
  std::int64_t cand = -1;
  std::string name, hash, parent_hash;
  std::int64_t stage = -1;
  std::string status;  // set when decided: rejected | duplicate | invalid; else by rank
  bool alive = false;  // still going through the stages
};

struct Planned {
  std::size_t cand;
  std::size_t stage;
  RunSpec run;
  train::TrainConfig config;
};

class EvolutionSearch {
 public:
  EvolutionSearch(const Spec& spec, const SweepOptions& options, const std::atomic<bool>& stop,
                  std::ostream& log)
      : spec_(spec), o_(evolution_options(spec)), options_(options), stop_(stop), log_(log) {
    shard_ = options.shard.value_or(Shard{});
    shard_seed_ = derive_seed(spec.seed, "shard/" + std::to_string(shard_.index));
    columns_ = hyper_columns(spec);
    stages_.push_back(o_.filter_task);
    for (const auto& t : o_.tasks) stages_.push_back(t);
  }

  SweepSummary run() {
    if (options_.jobs < 0) throw Error("--jobs must be at least 1 (or 0 for every core)");
    install_candidate_resolver();
    summary_.out = options_.out.empty() ? output_path(spec_) : options_.out;
    jobs_ = options_.jobs > 0 ? options_.jobs : tbb::info::default_concurrency();

    // Everything checkable is checked before the file is touched: the seeds, the task
    // data of every stage (options, files) and the settings.
    check_cells(spec_);  // at the spec line that names them
    for (const auto& cell : spec_.cells) {
      lang::CellText text = lang::load_cell(cell);
      const std::string hash = lang::cell_hash(text);
      if (by_hash_.count(hash))
        throw Error("seed cells '" + cell + "' and '" + cands_[by_hash_[hash]].name +
                        "' are the same cell (hash " + hash + ")",
                    "list each seed once");
      (void)cells::CellRegistry::instance().get(cell);
      add_candidate(hash, cell, "", std::move(text));
    }
    for (std::size_t s = 0; s < stages_.size(); ++s) {
      const RunSpec probe = make_run(0, s, 0);
      const auto data = task_data_.get(probe.task, train::resolve(probe.settings));
      higher_.push_back(train::metric_higher_is_better(data->info.metric));
      metrics_.push_back(train::metric_name(data->info.metric));
    }
    open_file();
    progress_.emplace(log_, evolution_run_bound(spec_), 0, options_.terminal, "metric", higher_[1],
                      options_.log_interval);
    log_ << "[evolution] " << summary_.out << (options_.shard ? " shard " + shard_text() : "")
         << ": " << o_.generations << " generations of " << o_.proposals_per_generation
         << " proposals, population " << o_.population << ", stages " << join(stages_, " -> ")
         << "; " << done_.size() << " runs already in the file" << std::endl;

    bool finished = seed_generation();
    for (std::int64_t g = 1; finished && g <= o_.generations; ++g) finished = generation(g);

    summary_.interrupted = !finished;
    summary_.total = finished ? summary_.already_done + summary_.recorded
                              : std::max(evolution_run_bound(spec_),
                                         summary_.already_done + summary_.recorded + 1);
    // A finished file that this command did not add to keeps its finished_utc (and bytes).
    if (finished && (summary_.recorded > 0 || writer_->meta().finished_utc.empty()))
      writer_->set_finished();
    writer_->close();
    progress_->close(finished ? "done: " + std::to_string(summary_.recorded) + " runs recorded (" +
                                    std::to_string(summary_.already_done) + " read back); best " +
                                    describe_best() + " in " + summary_.out
                              : "interrupted: " + std::to_string(summary_.recorded) +
                                    " runs recorded; re-run the same command to resume");
    return summary_;
  }

 private:
  std::string shard_text() const {
    return std::to_string(shard_.index) + "/" + std::to_string(shard_.count);
  }

  std::size_t add_candidate(const std::string& hash, const std::string& name,
                            const std::string& parent, lang::CellText text) {
    Candidate c;
    c.hash = hash;
    c.name = name;
    c.parent_hash = parent;
    c.text = std::move(text);
    c.best.assign(stages_.size(), kNaN);
    c.next_setting.assign(stages_.size(), 0);
    by_hash_[hash] = cands_.size();
    cands_.push_back(std::move(c));
    return cands_.size() - 1;
  }

  void open_file() {
    const std::string hash = spec_hash(spec_);
    const auto file_columns = store_columns(columns_);
    if (store::results_file_present(summary_.out)) {
      {
        // Read what is there (the writer and a reader cannot share the file).
        auto reader = store::ResultsReader::open(summary_.out);
        if (reader.meta().spec_hash == hash) {
          for (auto& r : reader.runs()) done_.emplace(r.run_key, std::move(r));
          for (auto& c : reader.candidates())
            if (c.shard == shard_.index) existing_.push_back(std::move(c));
        }
      }
      writer_.emplace(store::ResultsWriter::open_for_resume(
          summary_.out, hash, options_.shard ? shard_text() : std::string()));
      if (writer_->hyper_columns() != file_columns)
        throw Error(summary_.out + " has other hyperparameter columns than this spec",
                    "use another --out file");
    } else {
      const auto parent = std::filesystem::path(summary_.out).parent_path();
      std::error_code ec;
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      store::FileMeta meta;
      meta.spec_text = to_text(spec_);
      meta.spec_hash = hash;
      meta.total_runs = 0;  // not known in advance
      meta.shard = options_.shard ? shard_text() : "";
      meta.task = join(stages_, ",");
      meta.metric = metrics_[1];
      meta.metric_higher_is_better = higher_[1];
      meta.command_line = options_.command_line;
      writer_.emplace(store::ResultsWriter::create(summary_.out, meta, file_columns));
    }
  }

  // Run of candidate `c` on stage `s` with hyperparameter setting `setting`. Setting i of
  // a task is the same draw for every candidate (paired, as in a random-search sweep).
  RunSpec make_run(std::size_t c, std::size_t s, std::int64_t setting) const {
    const Candidate& cand = cands_[c];
    const std::string& task = stages_[s];
    RunSpec run;
    run.cell = cand.name;
    run.task = task;
    run.trial = setting;
    run.seed =
        derive_seed(shard_seed_, cand.hash + "/" + task + "/setting/" + std::to_string(setting));
    for (const auto& [k, v] : spec_.fixed) run.settings[k] = v.text;
    for (const auto& [k, v] : draw_settings(
             spec_,
             derive_seed(shard_seed_, "task/" + task + "/setting/" + std::to_string(setting))))
      run.settings[k] = v;
    const std::string prefix = task + ".";
    for (const auto& [k, v] : spec_.task_options)
      if (k.starts_with(prefix)) {
        run.settings["task." + k.substr(prefix.size())] = v.text;
        run.task_options[k.substr(prefix.size())] = v.text;
      }
    // Columns of other tasks' options hold NaN (numbers) or "" (text).
    for (const auto& col : columns_) {
      std::optional<std::string> text;
      if (col.name.starts_with("task.")) {
        const std::string key = col.name.substr(5);
        if (key.starts_with(prefix)) text = spec_.task_options.at(key).text;
      } else {
        text = run.settings.at(col.name);
      }
      if (col.kind == HyperColumn::Kind::number)
        run.hyper[col.name] = text ? *parse_number(*text) : kNaN;
      else
        run.hyper[col.name] = text ? *text : std::string();
    }
    run.run_key = make_run_key(run.cell, task, run.seed, run.settings);
    run.label = run.cell + "/" + task + "/setting:" + std::to_string(setting);
    return run;
  }

  void plan(std::vector<Planned>& out, std::size_t c, std::size_t s, std::int64_t settings) {
    for (std::int64_t i = 0; i < settings; ++i) {
      Planned p{c, s, make_run(c, s, cands_[c].next_setting[s]++), {}};
      // Ids follow the deterministic order of planning; shards interleave.
      p.run.run_id = next_run_ * shard_.count + shard_.index;
      ++next_run_;
      try {
        p.config = train::resolve(p.run.settings);
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + " (run " + p.run.label + ")", e.hint());
      }
      out.push_back(std::move(p));
    }
  }

  // Executes the runs not yet in the file and folds every result into its candidate's
  // best. Returns false when interrupted (nothing is decided then).
  bool execute(const std::vector<Planned>& plan) {
    if (stop_.load()) return false;
    std::set<std::size_t> with_text;
    for (const auto& p : plan)
      if (with_text.insert(p.cand).second) record_cell(cands_[p.cand]);
    std::vector<const RunSpec*> pending;
    std::vector<train::TrainConfig> configs;
    for (const auto& p : plan) {
      if (done_.count(p.run.run_key)) {
        ++summary_.already_done;
      } else {
        pending.push_back(&p.run);
        configs.push_back(p.config);
      }
    }
    const BatchSummary b = execute_batch(
        pending, configs, columns_, *writer_, task_data_, jobs_, *progress_, stop_,
        options_.terminal,
        [&](const RunSpec& run, const store::RunRow& row) { done_.emplace(run.run_key, row); });
    summary_.recorded += b.recorded;
    summary_.ok += b.ok;
    summary_.diverged += b.diverged;
    summary_.failed += b.failed;
    summary_.timeout += b.timeout;
    summary_.cancelled += b.cancelled;
    for (const auto& p : plan)
      if (!done_.count(p.run.run_key)) return false;  // cancelled or never started: stopped
    for (const auto& p : plan) {
      const double v = done_.at(p.run.run_key).valid_metric;
      double& best = cands_[p.cand].best[p.stage];
      if (std::isfinite(v) && (std::isnan(best) || (higher_[p.stage] ? v > best : v < best)))
        best = v;
    }
    return true;
  }

  // /cells: the seeds under their own names, proposals as cand:<hash> (text without a
  // description, so the same cell has the same row in every shard).
  void record_cell(const Candidate& c) {
    writer_->add_cell(
        {c.name, c.hash, lang::canonical_text(c.text, c.name.starts_with("cand:") ? false : true)});
  }

  bool passes(std::size_t s, double best) const {
    if (std::isnan(best)) return false;
    if (s == 0) return higher_[0] ? best >= o_.filter_threshold : best <= o_.filter_threshold;
    const double ref = reference_best_[s];
    return higher_[s] ? best >= o_.stage_threshold * ref : best * o_.stage_threshold <= ref;
  }

  // min over tasks of best / reference (accuracy-like) or reference / best (losses).
  double fitness(const Candidate& c) const {
    double f = std::numeric_limits<double>::infinity();
    for (std::size_t s = 1; s < stages_.size(); ++s) {
      const double b = c.best[s], r = reference_best_[s];
      if (std::isnan(b)) return kNaN;
      f = std::min(f, higher_[s] ? b / r : (b > 0 ? r / b : std::numeric_limits<double>::max()));
    }
    return f;
  }

  // The population: the `population` fittest complete candidates; ties keep the older.
  void rank() {
    std::vector<std::size_t> all;
    for (std::size_t c = 0; c < cands_.size(); ++c)
      if (cands_[c].complete && !std::isnan(cands_[c].fitness)) all.push_back(c);
    std::stable_sort(all.begin(), all.end(), [&](std::size_t a, std::size_t b) {
      return cands_[a].fitness > cands_[b].fitness;
    });
    if (static_cast<std::int64_t>(all.size()) > o_.population)
      all.resize(static_cast<std::size_t>(o_.population));
    population_ = all;
  }

  bool in_population(std::size_t c) const {
    return std::find(population_.begin(), population_.end(), c) != population_.end();
  }

  // Writes the generation's /candidates rows; rows already in the file (a resume) must
  // be exactly what the replay produced.
  void write_rows(std::int64_t g, std::vector<Event>& events) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      Event& e = events[i];
      store::CandidateRow row;
      row.shard = shard_.index;
      row.generation = g;
      row.index = static_cast<std::int64_t>(i);
      row.kind = e.kind;
      row.name = e.name;
      row.hash = e.hash;
      row.parent_hash = e.parent_hash;
      row.stage = e.stage;
      row.stage_task = e.stage >= 0 ? stages_[static_cast<std::size_t>(e.stage)] : "";
      if (e.status.empty())
        e.status = in_population(static_cast<std::size_t>(e.cand)) ? "accepted" : "outranked";
      row.status = e.status;
      if (e.cand >= 0 && cands_[static_cast<std::size_t>(e.cand)].complete)
        row.fitness = cands_[static_cast<std::size_t>(e.cand)].fitness;
      if (next_row_ < existing_.size()) {
        if (!(existing_[next_row_] == row))
          throw Error(
              "replaying the search gave another candidate than " + summary_.out +
                  " holds (generation " + std::to_string(g) + ", event " + std::to_string(i) + ")",
              "resume with the cellzoo build that wrote the file, or start a new --out file");
      } else {
        writer_->add_candidate(row);
      }
      ++next_row_;
    }
  }

  bool seed_generation() {
    std::vector<Planned> runs;
    std::vector<Event> events;
    for (std::size_t c = 0; c < cands_.size(); ++c) {
      for (std::size_t s = 1; s < stages_.size(); ++s) plan(runs, c, s, o_.settings_per_task);
      events.push_back({"seed", static_cast<std::int64_t>(c), cands_[c].name, cands_[c].hash, "",
                        static_cast<std::int64_t>(stages_.size() - 1), "", false});
    }
    if (!execute(runs)) return false;
    const Candidate& ref = cands_[reference_index()];
    reference_best_ = ref.best;
    for (std::size_t s = 1; s < stages_.size(); ++s)
      if (!std::isfinite(ref.best[s]) || ref.best[s] <= 0)
        throw Error("the reference '" + o_.reference + "' reached no usable " + metrics_[s] +
                        " on " + stages_[s] + " (best " + format_number(ref.best[s]) +
                        "), so no fitness can be computed",
                    "make the task easier or train longer ([fixed] max_epochs), then start a new "
                    "--out file");
    for (auto& c : cands_) {
      c.complete = true;
      c.fitness = fitness(c);
    }
    rank();
    write_rows(0, events);
    log_generation(0, events);
    return true;
  }

  bool generation(std::int64_t g) {
    Rng rng(derive_seed(shard_seed_, "generation/" + std::to_string(g)));
    std::vector<Event> events;
    const std::size_t ref = reference_index();
    for (std::int64_t i = 0; i < o_.proposals_per_generation; ++i) {
      // The reference is never re-evaluated: it is the fixed yardstick of every fitness.
      std::vector<std::size_t> members;
      for (std::size_t c : population_)
        if (c != ref) members.push_back(c);
      const bool reevaluate = rng.uniform() < o_.reevaluate_probability && !members.empty();
      Event e;
      if (reevaluate) {
        const std::size_t c = members[rng.below(members.size())];
        e = {"reevaluation",
             static_cast<std::int64_t>(c),
             cands_[c].name,
             cands_[c].hash,
             "",
             static_cast<std::int64_t>(stages_.size() - 1),
             "",
             false};
        events.push_back(e);
        continue;
      }
      const std::size_t parent = population_[rng.below(population_.size())];
      const auto steps =
          static_cast<int>(1 + rng.below(static_cast<std::uint64_t>(o_.mutation_steps)));
      e.kind = "proposal";
      e.parent_hash = cands_[parent].hash;
      lang::CellText child;
      try {
        child = lang::mutate(cands_[parent].text, rng, steps);
      } catch (const Error&) {
        e.status = "invalid";  // no valid mutant of a degenerate parent
        events.push_back(e);
        continue;
      }
      child.description.clear();
      child.source = "<candidate>";
      e.hash = lang::cell_hash(child);
      if (auto it = by_hash_.find(e.hash); it != by_hash_.end()) {
        e.cand = static_cast<std::int64_t>(it->second);
        e.name = cands_[it->second].name;
        e.status = "duplicate";  // already evaluated: the paper's search skips it too
        events.push_back(e);
        continue;
      }
      e.name = candidate_name(e.hash);
      register_candidate(e.hash, child);
      e.cand = static_cast<std::int64_t>(add_candidate(e.hash, e.name, e.parent_hash, child));
      e.alive = true;
      e.stage = 0;
      events.push_back(e);
    }

    // Stage 0: the filter for proposals; re-evaluations run every task at once.
    std::vector<Planned> runs;
    for (const auto& e : events) {
      const auto c = static_cast<std::size_t>(e.cand);
      if (e.alive) plan(runs, c, 0, o_.filter_settings);
      if (e.kind == "reevaluation")
        for (std::size_t s = 1; s < stages_.size(); ++s) plan(runs, c, s, o_.settings_per_task);
    }
    if (!execute(runs)) return false;
    for (std::size_t s = 0; s < stages_.size(); ++s) {
      if (s > 0) {
        runs.clear();
        for (auto& e : events)
          if (e.alive) {
            e.stage = static_cast<std::int64_t>(s);
            plan(runs, static_cast<std::size_t>(e.cand), s, o_.settings_per_task);
          }
        if (!execute(runs)) return false;
      }
      for (auto& e : events)
        if (e.alive && !passes(s, cands_[static_cast<std::size_t>(e.cand)].best[s])) {
          e.alive = false;
          e.status = "rejected";
        }
    }
    for (auto& e : events) {
      if (e.alive || e.kind == "reevaluation") {
        Candidate& c = cands_[static_cast<std::size_t>(e.cand)];
        c.complete = true;
        c.fitness = fitness(c);
      }
    }
    rank();
    write_rows(g, events);
    log_generation(g, events);
    return true;
  }

  std::size_t reference_index() const {
    for (std::size_t c = 0; c < cands_.size(); ++c)
      if (cands_[c].name == o_.reference) return c;
    throw Error("internal: the reference is not a seed");
  }

  void log_generation(std::int64_t g, const std::vector<Event>& events) {
    std::map<std::string, int> counts;
    for (const auto& e : events) ++counts[e.kind == "reevaluation" ? "re-evaluated" : e.status];
    std::ostringstream s;
    s << "[evolution] generation " << g << "/" << o_.generations << ":";
    for (const auto& [k, n] : counts) s << " " << n << " " << k;
    s << "; best " << describe_best();
    log_ << s.str() << std::endl;
  }

  std::string describe_best() const {
    if (population_.empty()) return "none";
    const Candidate& c = cands_[population_.front()];
    return c.name + " (fitness " + format_number(std::round(c.fitness * 1e4) / 1e4) + ")";
  }

  const Spec& spec_;
  EvolutionOptions o_;
  const SweepOptions& options_;
  const std::atomic<bool>& stop_;
  std::ostream& log_;
  Shard shard_;
  std::uint64_t shard_seed_ = 0;
  std::vector<HyperColumn> columns_;
  std::vector<std::string> stages_, metrics_;
  std::vector<bool> higher_;
  int jobs_ = 1;
  SweepSummary summary_;
  std::optional<store::ResultsWriter> writer_;
  std::optional<Progress> progress_;
  TaskDataCache task_data_;
  std::map<std::string, store::RunRow> done_;  // by run_key: read back or recorded
  std::vector<store::CandidateRow> existing_;  // this shard's /candidates rows at start
  std::size_t next_row_ = 0;
  std::int64_t next_run_ = 0;
  std::vector<Candidate> cands_;
  std::map<std::string, std::size_t> by_hash_;
  std::vector<std::size_t> population_;  // best first
  std::vector<double> reference_best_;
};

}  // namespace

std::string candidate_name(const std::string& hash) {
  return "cand:" + hash;
}

SweepSummary run_evolution(const Spec& spec, const SweepOptions& options,
                           const std::atomic<bool>& stop, std::ostream& log) {
  return EvolutionSearch(spec, options, stop, log).run();
}

}  // namespace cellzoo::sweep
