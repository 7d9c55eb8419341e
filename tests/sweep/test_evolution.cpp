// search = evolution: the [evolution] section (parsing, defaults, errors, overrides,
// canonical text), the paired hyperparameter draws, and the /candidates table of the store.
// The search itself runs end to end in tests/python/test_evolution.py.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "framework/store/results_file.hpp"
#include "framework/sweep/evolution.hpp"
#include "framework/sweep/spec.hpp"
#include "framework/util/error.hpp"
#include "framework/util/random.hpp"

using namespace cellzoo;
using namespace cellzoo::sweep;

namespace {

const char* kSpec = R"(name = evo
search = evolution
seed = 3

[task]
memorization.n_symbols = 2
arithmetic.digits = 1

[fixed]
max_epochs = 2

[space]
hidden = int_uniform(8, 16)
lr = loguniform(0.01, 0.05)

[evolution]
generations = 4
proposals_per_generation = 5
tasks = arithmetic
settings_per_task = 2
filter_settings = 1
)";

std::string error_of(const std::string& text) {
  try {
    (void)parse_spec(text, "e.ini");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("an evolution spec parses with defaults and round-trips", "[spec][evolution]") {
  const Spec spec = parse_spec(kSpec, "evo.ini");
  CHECK(spec.search == Search::evolution);
  CHECK(spec.cells == std::vector<std::string>{"lstm", "gru"});  // the default seeds
  CHECK(spec.task.empty());
  const EvolutionOptions o = evolution_options(spec);
  CHECK(o.generations == 4);
  CHECK(o.proposals_per_generation == 5);
  CHECK(o.tasks == std::vector<std::string>{"arithmetic"});
  CHECK(o.filter_task == "memorization");
  CHECK(o.population == 100);
  CHECK(o.stage_threshold == 0.9);
  CHECK(o.reference == "gru");

  const std::string text = to_text(spec);
  CHECK(text.find("search = evolution") != std::string::npos);
  CHECK(text.find("\n[evolution]\n") != std::string::npos);
  CHECK(text.find("\ntask = ") == std::string::npos);
  const Spec again = parse_spec(text, "again.ini");
  CHECK(to_text(again) == text);
  CHECK(spec_hash(again) == spec_hash(spec));

  // 2 seeds x 1 task x 2 settings + 4 generations x 5 events x (1 + 1 x 2).
  CHECK(run_count(spec) == 4 + 4 * 5 * 3);
  const auto columns = hyper_columns(spec);
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"hidden", "lr", "max_epochs", "task.arithmetic.digits",
                                          "task.memorization.n_symbols"});
}

TEST_CASE("overrides reach [evolution] and change the hash", "[spec][evolution]") {
  Spec spec = parse_spec(kSpec, "evo.ini");
  const std::string before = spec_hash(spec);
  apply_override(spec, "evolution.generations=7");
  CHECK(evolution_options(spec).generations == 7);
  CHECK(spec_hash(spec) != before);
  apply_override(spec, "task.arithmetic.digits=2");
  CHECK(spec.task_options.at("arithmetic.digits").text == "2");
  CHECK_THROWS_AS(apply_override(spec, "evolution.generations=-1"), Error);
  CHECK(evolution_options(spec).generations == 7);  // a failed override changes nothing
  CHECK_THROWS_WITH(apply_override(spec, "evolution.colour=red"),
                    Catch::Contains("unknown [evolution] key 'colour'"));
}

TEST_CASE("bad evolution specs are reported at their line", "[spec][evolution][errors]") {
  const std::string spec = kSpec;
  CHECK_THAT(error_of(replace(spec, "tasks = arithmetic\n", "")),
             Catch::Contains("needs [evolution] tasks"));
  CHECK_THAT(error_of(replace(spec, "tasks = arithmetic", "tasks = arithmetic, sudoku")),
             Catch::Contains("e.ini:19") && Catch::Contains("sudoku"));
  CHECK_THAT(error_of(replace(spec, "tasks = arithmetic", "tasks = memorization")),
             Catch::Contains("stage twice"));
  CHECK_THAT(error_of(replace(spec, "arithmetic.digits = 1", "digits = 1")),
             Catch::Contains("e.ini:7") && Catch::Contains("NAME.OPTION"));
  CHECK_THAT(error_of(replace(spec, "arithmetic.digits = 1", "arithmetic.colour = 1")),
             Catch::Contains("has no option 'colour'"));
  CHECK_THAT(error_of(replace(spec, "seed = 3", "seed = 3\ntask = adding")),
             Catch::Contains("not used by search = evolution"));
  CHECK_THAT(error_of(replace(spec, "seed = 3", "seed = 3\ncells = lstm, rnn")),
             Catch::Contains("reference 'gru' is not one of the seed cells"));
  CHECK_THAT(error_of(replace(spec, "seed = 3", "seed = 3\ncells = gru, file:/nonexistent.cell")),
             Catch::Contains("seed cell 'file:/nonexistent.cell'"));
  CHECK_THAT(error_of(replace(spec, "generations = 4", "generations = 1.5")),
             Catch::Contains("e.ini:17") && Catch::Contains("whole number"));
  CHECK_THAT(error_of(replace(spec, "search = evolution", "search = random\ntask = adding")),
             Catch::Contains("[evolution] needs search = evolution"));
}

TEST_CASE("draw_settings gives random search's paired trial values", "[spec][evolution]") {
  const Spec spec = parse_spec(R"(name = r
task = adding
cells = rnn, lstm
trials = 3
seed = 11
[space]
hidden = int_loguniform(4, 64)
lr = loguniform(0.001, 0.1)
optimizer = [adam, sgd]
)");
  const auto runs = expand(spec);
  for (std::int64_t t = 0; t < 3; ++t) {
    const auto drawn = draw_settings(spec, derive_seed(spec.seed, "trial/" + std::to_string(t)));
    for (const auto& [k, v] : drawn) CHECK(runs[static_cast<std::size_t>(t)].settings.at(k) == v);
  }
  CHECK(draw_settings(spec, 1) != draw_settings(spec, 2));
}

TEST_CASE("/candidates rows round-trip through the store", "[store][evolution]") {
  namespace fs = std::filesystem;
  const fs::path path = fs::temp_directory_path() / "cellzoo-test-candidates.h5";
  fs::remove(path);
  store::FileMeta meta;
  meta.spec_text = "x";
  meta.spec_hash = "h";
  store::CandidateRow a;
  a.shard = 1;
  a.generation = 2;
  a.index = 0;
  a.kind = "proposal";
  a.name = "cand:0123456789abcdef0123456789abcdef";
  a.hash = "0123456789abcdef0123456789abcdef";
  a.parent_hash = "fedcba9876543210fedcba9876543210";
  a.stage = 1;
  a.stage_task = "arithmetic";
  a.status = "accepted";
  a.fitness = 1.25;
  store::CandidateRow b = a;
  b.index = 1;
  b.status = "rejected";
  b.fitness = store::kNaN;
  b.stage = 0;
  {
    auto w =
        store::ResultsWriter::create(path.string(), meta, {{"lr", store::HyperColumn::number}});
    CHECK(w.candidates().empty());
    w.add_candidate(a);
    w.add_candidate(b);
    CHECK_THROWS_WITH(w.add_candidate(a), Catch::Contains("already in"));
    store::CandidateRow long_kind = a;
    long_kind.index = 9;
    long_kind.kind = std::string(40, 'k');
    CHECK_THROWS_AS(w.add_candidate(long_kind), Error);
    w.close();
  }
  {
    const auto r = store::ResultsReader::open(path.string());
    const auto rows = r.candidates();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == a);
    CHECK(rows[1] == b);
    CHECK(std::isnan(rows[1].fitness));
  }
  {
    // A resumed writer knows the rows already there.
    auto w = store::ResultsWriter::open_for_resume(path.string(), "h");
    CHECK(w.candidates().size() == 2);
    CHECK_THROWS_AS(w.add_candidate(b), Error);
    store::CandidateRow c = a;
    c.generation = 3;
    w.add_candidate(c);
    w.close();
    CHECK(store::ResultsReader::open(path.string()).candidates().size() == 3);
  }
  fs::remove(path);
}
