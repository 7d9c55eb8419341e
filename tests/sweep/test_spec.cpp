// Spec parsing, overrides, canonical text and hash, expansion, sharding (pure, fast), and
// the SLURM scripts (run with a stand-in cellzoo binary; no SLURM needed).
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "framework/sweep/slurm.hpp"
#include "framework/sweep/spec.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo::sweep;
using cellzoo::Error;

namespace {

const char* kRandomSpec = R"(# a small random search
name = demo
task = adding
cells = rnn, lstm, gru
trials = 6
seed = 7

[task]
length = 30

[fixed]
optimizer = adam
max_epochs = 8

[space]
hidden = int_loguniform(16, 48)
lr = loguniform(3e-3, 3e-2)
momentum = 1 - loguniform(0.01, 1)
batch_size = [16, 32]
)";

const char* kGridSpec = R"(
name = grid
task = adding
cells = rnn, lstm
search = grid
trials = 2
[space]
hidden = [16, 32, 64]
lr = [0.01, 0.1]
optimizer = [adam, sgd]
clip = 1
)";

// The message of the cellzoo::Error that `f` throws ("" if none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string parse_error(const std::string& text) {
  return error_of([&] { parse_spec(text, "bad.ini"); });
}

double number(const RunSpec& run, const std::string& name) {
  return std::get<double>(run.hyper.at(name));
}

}  // namespace

TEST_CASE("a spec parses into its parts", "[spec]") {
  const auto spec = parse_spec(kRandomSpec, "demo.ini");
  CHECK(spec.name == "demo");
  CHECK(spec.task == "adding");
  CHECK(spec.cells == std::vector<std::string>{"rnn", "lstm", "gru"});
  CHECK(spec.trials == 6);
  CHECK(spec.seed == 7);
  CHECK(spec.search == Search::random);
  CHECK(output_path(spec) == "results/demo.h5");
  CHECK(spec.task_options.at("length").text == "30");
  CHECK(spec.fixed.at("optimizer").text == "adam");
  CHECK(spec.space.at("lr").kind == Dimension::Kind::loguniform);
  CHECK(spec.space.at("lr").text() == "loguniform(0.003, 0.03)");
  CHECK(spec.space.at("momentum").text() == "1 - loguniform(0.01, 1)");
  CHECK(spec.space.at("batch_size").kind == Dimension::Kind::grid);
  CHECK(spec.space.at("lr").origin == "demo.ini:17");
}

TEST_CASE("the name defaults to the file's stem", "[spec]") {
  const auto spec = parse_spec("task = adding\ncells = rnn\n", "experiments/quick.ini");
  CHECK(spec.name == "quick");
  CHECK(output_path(spec) == "results/quick.h5");
}

TEST_CASE("random search expands cell-major with paired trials", "[spec][expand]") {
  const auto spec = parse_spec(kRandomSpec, "demo.ini");
  const auto runs = expand(spec);
  REQUIRE(runs.size() == 18);
  REQUIRE(run_count(spec) == 18);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    CHECK(runs[i].run_id == static_cast<std::int64_t>(i));
    CHECK(runs[i].cell == spec.cells[i / 6]);
    CHECK(runs[i].trial == static_cast<std::int64_t>(i % 6));
    CHECK(runs[i].task == "adding");
    CHECK(runs[i].settings.at("task.length") == "30");
    CHECK(runs[i].task_options.at("length") == "30");
    CHECK(runs[i].settings.at("max_epochs") == "8");
  }
  // Paired: trial t has the same hyperparameters for every cell, but its own seed.
  for (std::size_t t = 0; t < 6; ++t) {
    for (std::size_t c = 1; c < 3; ++c) {
      const auto& a = runs[t];
      const auto& b = runs[c * 6 + t];
      CHECK(a.hyper == b.hyper);
      auto sa = a.settings, sb = b.settings;
      CHECK(sa == sb);
      CHECK(a.seed != b.seed);
      CHECK(a.run_key != b.run_key);
    }
  }
  // Different trials differ (real-valued draws essentially never collide).
  std::set<double> lrs;
  for (std::size_t t = 0; t < 6; ++t) lrs.insert(number(runs[t], "lr"));
  CHECK(lrs.size() == 6);
  std::set<std::string> keys;
  for (const auto& r : runs) keys.insert(r.run_key);
  CHECK(keys.size() == runs.size());
}

TEST_CASE("sampled values stay in range and round-trip", "[spec][expand]") {
  auto spec = parse_spec(kRandomSpec, "demo.ini");
  apply_override(spec, "trials=300");
  apply_override(spec, "cells=rnn");
  const auto runs = expand(spec);
  std::set<double> hidden;
  double min_m = 1, max_m = 0;
  for (const auto& r : runs) {
    const double h = number(r, "hidden"), lr = number(r, "lr"), m = number(r, "momentum");
    CHECK(h == std::floor(h));
    CHECK(h >= 16);
    CHECK(h <= 48);
    hidden.insert(h);
    CHECK(lr >= 3e-3);
    CHECK(lr <= 3e-2);
    // 1 - loguniform(0.01, 1): momentum in [0, 0.99].
    CHECK(m >= 0);
    CHECK(m <= 0.99 + 1e-12);
    min_m = std::min(min_m, m);
    max_m = std::max(max_m, m);
    const double bs = number(r, "batch_size");
    CHECK((bs == 16 || bs == 32));
    // Settings text parses back to exactly the value in `hyper`.
    CHECK(std::stod(r.settings.at("lr")) == lr);
    CHECK(r.label.rfind("rnn/batch_size:", 0) == 0);
  }
  CHECK(hidden.count(16) == 1);  // both bounds reachable
  CHECK(hidden.count(48) == 1);
  // Most of the mass of 1 - loguniform(0.01, 1) is near 0.99, some near 0.
  CHECK(max_m > 0.95);
  CHECK(min_m < 0.5);
}

TEST_CASE("expansion is deterministic and follows the seed", "[spec][expand]") {
  const auto a = expand(parse_spec(kRandomSpec, "demo.ini"));
  const auto b = expand(parse_spec(kRandomSpec, "demo.ini"));
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].settings == b[i].settings);
    CHECK(a[i].seed == b[i].seed);
    CHECK(a[i].run_key == b[i].run_key);
    CHECK(a[i].label == b[i].label);
  }
  auto spec = parse_spec(kRandomSpec, "demo.ini");
  apply_override(spec, "seed=8");
  const auto c = expand(spec);
  CHECK(c[0].seed != a[0].seed);
  CHECK(c[0].settings.at("lr") != a[0].settings.at("lr"));
}

TEST_CASE("adding a dimension leaves the others' draws alone", "[spec][expand]") {
  auto spec = parse_spec(kRandomSpec, "demo.ini");
  const auto before = expand(spec);
  apply_override(spec, "space.input_noise=uniform(0, 1)");
  const auto after = expand(spec);
  for (std::size_t i = 0; i < before.size(); ++i) {
    CHECK(before[i].settings.at("lr") == after[i].settings.at("lr"));
    CHECK(before[i].settings.at("hidden") == after[i].settings.at("hidden"));
    CHECK(after[i].settings.count("input_noise") == 1);
  }
}

TEST_CASE("grid search takes the product, repeated trials times", "[spec][expand]") {
  const auto spec = parse_spec(kGridSpec, "grid.ini");
  CHECK(runs_per_cell(spec) == 3 * 2 * 2 * 1 * 2);
  const auto runs = expand(spec);
  REQUIRE(runs.size() == 2 * 24);
  // The first 12 trials of a cell are one full pass over the grid, the next 12 repeat it.
  std::set<std::map<std::string, std::string>> points;
  for (std::size_t t = 0; t < 12; ++t) points.insert(runs[t].settings);
  CHECK(points.size() == 12);
  for (std::size_t t = 0; t < 12; ++t) {
    CHECK(runs[t + 12].settings == runs[t].settings);
    CHECK(runs[t + 12].seed != runs[t].seed);
  }
  CHECK(runs[0].settings.at("clip") == "1");
  CHECK(std::get<std::string>(runs[0].hyper.at("optimizer")) == "adam");
  // Paired across cells as in random search.
  CHECK(runs[5].settings == runs[24 + 5].settings);
}

TEST_CASE("grid search draws distributions per run, paired across cells", "[spec][expand]") {
  const auto spec = parse_spec(
      "name = g\ntask = adding\ncells = rnn, lstm\nsearch = grid\ntrials = 3\n"
      "[space]\nhidden = [8, 16]\nlr = loguniform(0.001, 0.1)\n",
      "g.ini");
  CHECK(runs_per_cell(spec) == 2 * 3);
  const auto runs = expand(spec);
  REQUIRE(runs.size() == 12);
  std::set<std::string> rates;
  for (std::size_t t = 0; t < 6; ++t) {
    CHECK(runs[t].settings.at("hidden") == (t % 2 == 0 ? "8" : "16"));
    const double lr = std::stod(runs[t].settings.at("lr"));
    CHECK(lr >= 0.001);
    CHECK(lr <= 0.1);
    rates.insert(runs[t].settings.at("lr"));
    CHECK(runs[t].settings == runs[6 + t].settings);  // paired: same draw for lstm
  }
  CHECK(rates.size() == 6);  // a new draw at every run index
  // Drawn like random search's trial t, so a grid point's draw is reproducible.
  const auto random = parse_spec(
      "name = g\ntask = adding\ncells = rnn, lstm\ntrials = 6\n"
      "[space]\nlr = loguniform(0.001, 0.1)\n",
      "r.ini");
  const auto random_runs = expand(random);
  for (std::size_t t = 0; t < 6; ++t)
    CHECK(random_runs[t].settings.at("lr") == runs[t].settings.at("lr"));
}

TEST_CASE("task options can be searched in [space]", "[spec][expand]") {
  auto spec = parse_spec(
      "name = lr\ntask = adding\ncells = rnn, lstm\nsearch = grid\ntrials = 2\n"
      "[task]\nn_train = 100\n[space]\ntask.length = [10, 20, 40]\n",
      "lr.ini");
  const auto runs = expand(spec);
  REQUIRE(runs.size() == 2 * 3 * 2);
  for (const auto& run : runs) {
    CHECK(run.task_options.at("n_train") == "100");
    CHECK(run.task_options.at("length") == run.settings.at("task.length"));
  }
  CHECK(runs[0].task_options.at("length") == "10");
  CHECK(runs[2].task_options.at("length") == "40");
  CHECK(runs[0].label.find("task.length:10") != std::string::npos);
  std::vector<std::string> names;
  for (const auto& c : hyper_columns(spec)) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"task.length", "task.n_train"});
  // --set moves an option between [task] and [space], like fixed <-> space.
  apply_override(spec, "task.length=15");
  CHECK(spec.space.count("task.length") == 0);
  CHECK(spec.task_options.at("length").text == "15");
  apply_override(spec, "space.task.length=[5, 15]");
  CHECK(spec.task_options.count("length") == 0);
  CHECK(expand(spec).size() == 2 * 2 * 2);
  // Not in an evolutionary search: its stages name their own task options.
  CHECK_THROWS_WITH(parse_spec("name = e\ncells = lstm, gru\nsearch = evolution\n"
                               "[evolution]\ntasks = adding\n[space]\ntask.length = [5, 10]\n",
                               "e.ini"),
                    Catch::Contains("e.ini:") && Catch::Contains("evolutionary"));
}

TEST_CASE("hyper columns: space, then fixed, then task options", "[spec][expand]") {
  const auto columns = hyper_columns(parse_spec(kRandomSpec, "demo.ini"));
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"batch_size", "hidden", "lr", "momentum", "max_epochs",
                                          "optimizer", "task.length"});
  CHECK(columns[0].kind == HyperColumn::Kind::number);
  CHECK(columns[5].kind == HyperColumn::Kind::text);
  CHECK(columns[6].kind == HyperColumn::Kind::number);
}

TEST_CASE("shards cover every run exactly once", "[spec][shard]") {
  for (std::int64_t total : {0, 1, 7, 100, 1001, 5400}) {
    for (std::int64_t n : {1, 2, 3, 7, 16, 1000, 1500}) {
      std::int64_t next = 0, smallest = total, largest = 0;
      for (std::int64_t k = 0; k < n; ++k) {
        const auto [b, e] = shard_range(total, k, n);
        REQUIRE(b == next);
        REQUIRE(e >= b);
        smallest = std::min(smallest, e - b);
        largest = std::max(largest, e - b);
        next = e;
      }
      CHECK(next == total);
      CHECK(largest - smallest <= 1);
    }
  }
  CHECK(parse_shard("3/8").index == 3);
  CHECK(parse_shard("3/8").count == 8);
  CHECK_THROWS_AS(parse_shard("8/8"), Error);
  CHECK_THROWS_AS(parse_shard("-1/8"), Error);
  CHECK_THROWS_AS(parse_shard("0/0"), Error);
  CHECK_THROWS_AS(parse_shard("3"), Error);
  CHECK_THROWS_AS(parse_shard("a/b"), Error);
  CHECK_THROWS_AS(shard_range(10, 2, 2), Error);
}

TEST_CASE("bad specs are reported with their line", "[spec][errors]") {
  const std::string head = "name = x\ntask = adding\ncells = rnn\n";
  CHECK_THAT(parse_error(head + "[space]\nhidden 64\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("key = value"));
  CHECK_THAT(parse_error(head + "colour = red\n"),
             Catch::Contains("bad.ini:4:") && Catch::Contains("unknown key 'colour'"));
  CHECK_THAT(parse_error(head + "[space]\nlr = lognormal(1, 2)\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("unknown distribution 'lognormal'"));
  CHECK_THAT(parse_error(head + "[space]\nhidden = []\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("empty grid"));
  CHECK_THAT(parse_error(head + "\n[space]\nlr = uniform(0.1, 0.01)\n"),
             Catch::Contains("bad.ini:6:") && Catch::Contains("low bound is above"));
  CHECK_THAT(parse_error(head + "[space]\nlr = loguniform(0, 1)\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("must be positive"));
  CHECK_THAT(parse_error(head + "[space]\nhidden = int_uniform(1.5, 8)\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("whole numbers"));
  CHECK_THAT(parse_error(head + "[space]\nlr = uniform(1)\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("two bounds"));
  CHECK_THAT(parse_error(head + "[space]\nlr = uniform(a, b)\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("must be numbers"));
  CHECK_THAT(parse_error(head + "[space]\nlr = 1 - uniform(0.1, 1)\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("1 - loguniform"));
  CHECK_THAT(parse_error(head + "trials = 3\ntrials = 4\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("duplicate key 'trials'") &&
                 Catch::Contains("bad.ini:4"));
  CHECK_THAT(parse_error(head + "[fixed]\nlr = 0.1\n[space]\nlr = [0.1, 0.2]\n"),
             Catch::Contains("bad.ini:7:") && Catch::Contains("duplicate key 'lr'"));
  CHECK_THAT(parse_error("name = x\ncells = rnn\n\n[fixed]\nlr = 0.1\n"),
             Catch::Contains("bad.ini:4:") && Catch::Contains("missing 'task"));
  CHECK_THAT(parse_error("name = x\ntask = adding\n"),
             Catch::Contains("bad.ini:2:") && Catch::Contains("missing 'cells"));
  CHECK_THAT(parse_error(head + "trials = 0\n"),
             Catch::Contains("bad.ini:4:") && Catch::Contains("at least 1"));
  CHECK_THAT(parse_error(head + "trials = many\n"), Catch::Contains("bad.ini:4:"));
  CHECK_THAT(parse_error(head + "seed = -1\n"), Catch::Contains("bad.ini:4:"));
  CHECK_THAT(parse_error(head + "search = bayes\n"), Catch::Contains("bad.ini:4:"));
  CHECK_THAT(parse_error(head + "[other]\n"),
             Catch::Contains("bad.ini:4:") && Catch::Contains("unknown section"));
  CHECK_THAT(parse_error(head + "[space\n"), Catch::Contains("bad.ini:4:"));
  CHECK_THAT(parse_error("name = x\ntask = adding\ncells = rnn, , lstm\n"),
             Catch::Contains("bad.ini:3:") && Catch::Contains("empty item"));
  CHECK_THAT(parse_error("name = x\ntask = adding\ncells = rnn, rnn\n"),
             Catch::Contains("bad.ini:3:") && Catch::Contains("twice"));
  // Searched task options: not in [task] and [space] at once.
  CHECK_THAT(parse_error(head + "[task]\nlength = 10\n[space]\ntask.length = [10, 20]\n"),
             Catch::Contains("bad.ini:7:") && Catch::Contains("both in [task]") &&
                 Catch::Contains("bad.ini:5"));
  CHECK_THAT(parse_error(head + "lr = 0.1\n"),
             Catch::Contains("bad.ini:4:") && Catch::Contains("unknown key 'lr'"));
  // Hyperparameter names come from the training engine's table.
  CHECK_THAT(parse_error(head + "[space]\nhiden = [32, 64]\n"),
             Catch::Contains("bad.ini:5:") && Catch::Contains("unknown hyperparameter 'hiden'") &&
                 Catch::Contains("hidden"));
  CHECK_THAT(parse_error(head + "[fixed]\n\nlearning_rate = 0.1\n"),
             Catch::Contains("bad.ini:6:") && Catch::Contains("learning_rate"));
  CHECK(parse_error(head + "# comment\n; another\n[space]\nlr = [0.1, 0.2]  # inline\n").empty());
}

TEST_CASE("bad sampled values are reported with their line", "[spec][errors]") {
  const std::string head = "name = x\ntask = adding\ncells = rnn\n";
  // momentum is capped below 1 by the training table; the range here reaches 1.5.
  const auto spec =
      parse_spec(head + "trials = 50\n[space]\nmomentum = uniform(0.5, 1.5)\n", "bad.ini");
  const auto message = error_of([&] { expand(spec); });
  CHECK_THAT(message, Catch::Contains("bad.ini:6:") && Catch::Contains("momentum"));
  const auto fixed = parse_spec(head + "[fixed]\noptimizer = rmsprop\n", "bad.ini");
  CHECK_THAT(error_of([&] { expand(fixed); }),
             Catch::Contains("bad.ini:5:") && Catch::Contains("optimizer"));
}

TEST_CASE("overrides replace values and keep the rest", "[spec][override]") {
  auto spec = parse_spec(kRandomSpec, "demo.ini");
  apply_override(spec, "trials=5");
  CHECK(spec.trials == 5);
  apply_override(spec, "cells=rnn,lstm");
  CHECK(spec.cells == std::vector<std::string>{"rnn", "lstm"});
  apply_override(spec, "seed=3");
  CHECK(spec.seed == 3);
  apply_override(spec, "space.hidden=64");
  CHECK(spec.space.at("hidden").kind == Dimension::Kind::constant);
  apply_override(spec, "space.lr=loguniform(1e-3,1e-1)");
  CHECK(spec.space.at("lr").text() == "loguniform(0.001, 0.1)");
  apply_override(spec, "fixed.max_epochs=3");
  CHECK(spec.fixed.at("max_epochs").text == "3");
  apply_override(spec, "task.length=200");
  CHECK(spec.task_options.at("length").text == "200");
  apply_override(spec, "out=elsewhere.h5");
  CHECK(output_path(spec) == "elsewhere.h5");
  // A name moves between [fixed] and [space].
  apply_override(spec, "space.optimizer=[adam, sgd]");
  CHECK(spec.fixed.count("optimizer") == 0);
  CHECK(spec.space.at("optimizer").values.size() == 2);
  apply_override(spec, "fixed.lr=0.01");
  CHECK(spec.space.count("lr") == 0);
  const auto runs = expand(spec);
  REQUIRE(runs.size() == 10);
  CHECK(runs[0].settings.at("hidden") == "64");
  CHECK(runs[0].settings.at("lr") == "0.01");
  CHECK(runs[0].settings.at("max_epochs") == "3");
  CHECK(runs[0].settings.at("task.length") == "200");

  CHECK_THAT(error_of([&] { apply_override(spec, "colour=red"); }),
             Catch::Contains("unknown key 'colour'"));
  CHECK_THAT(error_of([&] { apply_override(spec, "trials"); }), Catch::Contains("key=value"));
  CHECK_THAT(error_of([&] { apply_override(spec, "trials=0"); }),
             Catch::Contains("--set trials=0") && Catch::Contains("at least 1"));
  CHECK_THAT(error_of([&] { apply_override(spec, "space.lr=uniform(2, 1)"); }),
             Catch::Contains("--set space.lr=uniform(2, 1)"));
  CHECK_THAT(error_of([&] { apply_override(spec, "space.hiddn=3"); }),
             Catch::Contains("unknown hyperparameter 'hiddn'"));
}

TEST_CASE("the canonical text round-trips and defines the hash", "[spec][hash]") {
  const auto spec = parse_spec(kRandomSpec, "demo.ini");
  const auto text = to_text(spec);
  const auto again = parse_spec(text, "canonical.ini");
  CHECK(to_text(again) == text);
  CHECK(spec_hash(again) == spec_hash(spec));
  CHECK(spec_hash(spec).size() == 32);
  CHECK(spec_hash(spec).find_first_not_of("0123456789abcdef") == std::string::npos);

  // Whitespace, comments, key order and number spelling do not change the hash.
  const char* reordered = R"(
seed=7   # the seed
trials = 6
cells =   rnn,lstm ,gru
task = adding
name = demo
; comment
[space]
batch_size = [ 16,32 ]
momentum = 1-loguniform(1e-2, 1.0)
lr = loguniform(0.003, 0.030)
hidden = int_loguniform(16, 48)
[fixed]
max_epochs = 8.0
optimizer = adam
[task]
length = 30
)";
  CHECK(spec_hash(parse_spec(reordered, "other.ini")) == spec_hash(spec));

  // `out` does not; every other value does.
  auto moved = spec;
  apply_override(moved, "out=somewhere/else.h5");
  CHECK(spec_hash(moved) == spec_hash(spec));
  CHECK(to_text(moved) != to_text(spec));
  for (const char* change : {"trials=7", "seed=8", "cells=rnn,lstm", "cells=lstm,rnn,gru",
                             "task.length=31", "fixed.max_epochs=9", "space.lr=0.01",
                             "space.hidden=int_loguniform(16, 49)", "task=copy", "name=demo2"}) {
    auto changed = spec;
    apply_override(changed, change);
    INFO(change);
    CHECK(spec_hash(changed) != spec_hash(spec));
  }
}

TEST_CASE("run keys identify the configuration", "[spec][hash]") {
  auto spec = parse_spec(kRandomSpec, "demo.ini");
  const auto a = expand(spec);
  apply_override(spec, "out=x.h5");
  apply_override(spec, "description=moved");
  const auto b = expand(spec);
  CHECK(a[4].run_key == b[4].run_key);
  apply_override(spec, "task.length=31");
  const auto c = expand(spec);
  CHECK(a[4].run_key != c[4].run_key);
  CHECK(a[4].run_key.size() == 32);
}

// ---- cellzoo slurm -------------------------------------------------------------------

namespace {

// A scratch directory under /tmp, removed at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/cellzoo-slurm-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

SlurmOptions slurm_options(const std::string& dir, std::int64_t shards) {
  SlurmOptions o;
  o.cellzoo_exe = dir + "/fake-cellzoo";
  o.spec_path = "/abs/experiments/demo.ini";
  o.work_dir = dir;
  o.sets = {"trials=6", "space.lr=loguniform(1e-3, 1e-1)"};
  o.shards = shards;
  o.partition = "short";
  o.time = "01:00:00";
  o.cpus_per_task = 2;
  o.out_dir = dir + "/out";
  o.merged_out = dir + "/results/demo.h5";
  o.max_array_size = 4;
  return o;
}

// Writes a stand-in for the cellzoo binary that logs its arguments, one call per line.
void write_fake_cellzoo(const std::string& path) {
  std::ofstream out(path);
  out << "#!/bin/bash\necho \"$*\" >> \"$FAKE_LOG\"\n";
  out.close();
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Runs a script as array task `task` and returns the fake binary's calls.
std::vector<std::string> run_script(const std::string& dir, const std::string& script, int task) {
  const auto log = dir + "/calls-" + std::to_string(task) + ".log";
  std::filesystem::remove(log);
  const auto command = "cd " + dir + " && FAKE_LOG=" + log + " SLURM_CPUS_PER_TASK=2 " +
                       "SLURM_ARRAY_TASK_ID=" + std::to_string(task) + " bash " + script +
                       " > /dev/null 2>&1";
  const int status = std::system(command.c_str());
  CHECK(status == 0);
  return read_lines(log);
}

}  // namespace

TEST_CASE("slurm: one shard per array task below MaxArraySize", "[slurm]") {
  TempDir dir;
  const auto spec = parse_spec(kRandomSpec, "demo.ini");  // 18 runs
  auto o = slurm_options(dir.path, 3);
  o.reuse = {"/abs/results/old run.h5"};  // forwarded to every shard, quoted
  const auto plan = plan_slurm(spec, o);
  CHECK(plan.array_tasks == 3);
  CHECK(plan.shards_per_task == 1);
  CHECK(plan.dependency == "afterok");
  REQUIRE(plan.shard_files.size() == 3);
  CHECK(plan.shard_files[2] == dir.path + "/out/demo.shard-2-of-3.h5");
  const auto& a = plan.array_script;
  CHECK_THAT(a, Catch::StartsWith("#!/bin/bash\n"));
  CHECK_THAT(a, Catch::Contains("#SBATCH --array=0-2\n"));
  CHECK_THAT(a, Catch::Contains("#SBATCH --cpus-per-task=2\n"));
  CHECK_THAT(a, Catch::Contains("#SBATCH --time=01:00:00\n"));
  CHECK_THAT(a, Catch::Contains("#SBATCH --partition=short\n"));
  CHECK_THAT(a, Catch::Contains("#SBATCH --output=" + dir.path + "/out/logs/demo-%A_%a.out"));
  CHECK_THAT(a, Catch::Contains(spec_hash(spec)));
  CHECK_THAT(plan.merge_script, Catch::Contains("merge -o " + dir.path + "/results/demo.h5"));
  const auto commands = slurm_commands(plan);
  REQUIRE(commands.size() == 2);
  CHECK_THAT(commands[0], Catch::Contains("sbatch --parsable " + plan.array_path));
  CHECK_THAT(commands[1], Catch::Contains("--dependency=afterok:"));

  // Run the scripts with a stand-in binary: task K runs shard K with the --set options.
  write_fake_cellzoo(o.cellzoo_exe);
  write_slurm_scripts(plan, o);
  CHECK(std::filesystem::is_directory(o.out_dir + "/logs"));
  for (int k = 0; k < 3; ++k) {
    const auto calls = run_script(dir.path, plan.array_path, k);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0] == "sweep /abs/experiments/demo.ini --shard " + std::to_string(k) + "/3 --out " +
                          plan.shard_files[static_cast<std::size_t>(k)] +
                          " --jobs 2 --set trials=6 --set space.lr=loguniform(1e-3, 1e-1)"
                          " --reuse /abs/results/old run.h5");
  }
  const auto merge = run_script(dir.path, plan.merge_path, 0);
  REQUIRE(merge.size() == 1);
  CHECK(merge[0] == "merge -o " + o.merged_out + " " + plan.shard_files[0] + " " +
                        plan.shard_files[1] + " " + plan.shard_files[2]);
}

TEST_CASE("slurm: blocks of shards per task above MaxArraySize", "[slurm]") {
  TempDir dir;
  const auto spec = parse_spec(kRandomSpec, "demo.ini");
  auto o = slurm_options(dir.path, 10);  // MaxArraySize 4: 3 shards per task, 4 tasks
  o.merge_anyway = true;
  const auto plan = plan_slurm(spec, o);
  CHECK(plan.shards_per_task == 3);
  CHECK(plan.array_tasks == 4);
  CHECK_THAT(plan.array_script, Catch::Contains("#SBATCH --array=0-3\n"));
  CHECK(plan.dependency == "afterany");
  CHECK_THAT(slurm_commands(plan)[1], Catch::Contains("--dependency=afterany:"));

  write_fake_cellzoo(o.cellzoo_exe);
  write_slurm_scripts(plan, o);
  std::vector<int> shards_run;
  for (int t = 0; t < 4; ++t) {
    for (const auto& call : run_script(dir.path, plan.array_path, t)) {
      const auto at = call.find("--shard ") + 8;
      shards_run.push_back(std::stoi(call.substr(at)));
      CHECK_THAT(call, Catch::Contains("/10 --out "));
    }
  }
  // Every shard exactly once, in order.
  CHECK(shards_run == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

  // afterany: the merge takes the shard files that exist.
  std::filesystem::create_directories(o.out_dir);
  std::ofstream(plan.shard_files[1]) << "x";
  std::ofstream(plan.shard_files[7]) << "x";
  const auto merge = run_script(dir.path, plan.merge_path, 0);
  REQUIRE(merge.size() == 1);
  CHECK(merge[0] ==
        "merge -o " + o.merged_out + " " + plan.shard_files[1] + " " + plan.shard_files[7]);
}

TEST_CASE("slurm: bad shard counts and quoting", "[slurm]") {
  const auto spec = parse_spec(kRandomSpec, "demo.ini");  // 18 runs
  auto o = slurm_options("/tmp/x", 19);
  CHECK_THAT(error_of([&] { plan_slurm(spec, o); }), Catch::Contains("more than the 18 runs"));
  o.shards = 0;
  CHECK_THAT(error_of([&] { plan_slurm(spec, o); }), Catch::Contains("at least 1"));
  o.shards = 18;
  o.max_array_size = 1001;
  CHECK(plan_slurm(spec, o).array_tasks == 18);
  CHECK(shell_quote("/a/b-c.h5") == "/a/b-c.h5");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("") == "''");
}

TEST_CASE("slurm: --mem, --account, --qos, --array-parallelism and --sbatch lines", "[slurm]") {
  TempDir dir;
  const auto spec = parse_spec(kRandomSpec, "demo.ini");  // 18 runs
  auto o = slurm_options(dir.path, 3);
  o.mem = "4G";
  o.account = "proj-42";
  o.qos = "long";
  o.array_parallelism = 2;
  o.sbatch_lines = {"--gres=gpu:1", "#SBATCH --constraint=avx512", "  --mail-type=END  "};
  const auto plan = plan_slurm(spec, o);
  for (const auto* script : {&plan.array_script, &plan.merge_script}) {
    CHECK_THAT(*script, Catch::Contains("#SBATCH --mem=4G\n"));
    CHECK_THAT(*script, Catch::Contains("#SBATCH --account=proj-42\n"));
    CHECK_THAT(*script, Catch::Contains("#SBATCH --qos=long\n"));
    CHECK_THAT(*script, Catch::Contains("#SBATCH --gres=gpu:1\n"));
    CHECK_THAT(*script, Catch::Contains("#SBATCH --constraint=avx512\n"));
    CHECK_THAT(*script, Catch::Contains("#SBATCH --mail-type=END\n"));
  }
  // The throttle is the array's, not the merge's.
  CHECK_THAT(plan.array_script, Catch::Contains("#SBATCH --array=0-2%2\n"));
  CHECK_THAT(plan.merge_script, !Catch::Contains("--array"));
  // #SBATCH lines must come before the first command, or sbatch ignores them.
  const auto first_command = plan.array_script.find("\nset ");
  CHECK(plan.array_script.rfind("#SBATCH", first_command) != std::string::npos);
  CHECK(plan.array_script.find("#SBATCH", first_command) == std::string::npos);
  // Without the options the lines are absent.
  const auto plain = plan_slurm(spec, slurm_options(dir.path, 3));
  CHECK_THAT(plain.array_script, !Catch::Contains("--mem"));
  CHECK_THAT(plain.array_script, !Catch::Contains("--qos"));
  CHECK_THAT(plain.array_script, Catch::Contains("#SBATCH --array=0-2\n"));

  auto bad = slurm_options(dir.path, 3);
  bad.mem = "4 GB";
  CHECK_THAT(error_of([&] { plan_slurm(spec, bad); }), Catch::Contains("--mem '4 GB'"));
  bad.mem = "16000";  // plain megabytes are fine
  CHECK_NOTHROW(plan_slurm(spec, bad));
  bad.array_parallelism = -1;
  CHECK_THAT(error_of([&] { plan_slurm(spec, bad); }), Catch::Contains("--array-parallelism"));
  bad.array_parallelism = 0;
  bad.account = "a b";
  CHECK_THAT(error_of([&] { plan_slurm(spec, bad); }), Catch::Contains("not a single word"));
  bad.account.clear();
  bad.sbatch_lines = {"gres=gpu:1"};
  CHECK_THAT(error_of([&] { plan_slurm(spec, bad); }), Catch::Contains("is not an sbatch option"));
  bad.sbatch_lines = {"--array=0-99"};
  CHECK_THAT(error_of([&] { plan_slurm(spec, bad); }), Catch::Contains("sets --array itself"));
}

TEST_CASE("slurm: an existing merge output is refused at slurm time; the merge job says what to do",
          "[slurm]") {
  TempDir dir;
  const auto spec = parse_spec(kRandomSpec, "demo.ini");
  auto o = slurm_options(dir.path, 3);
  CHECK_NOTHROW(check_merge_output(o));
  std::filesystem::create_directories(dir.path + "/results");
  std::ofstream(o.merged_out) << "old results";
  try {
    check_merge_output(o);
    FAIL("an existing merge output was not refused");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains(o.merged_out + "' already exists"));
    CHECK_THAT(e.hint(), Catch::Contains("--out NEW.h5"));
  }

  // A file that appears after `cellzoo slurm` ran: the merge job stops before merging and
  // says how to merge the kept shard files by hand.
  const auto plan = plan_slurm(spec, o);
  write_fake_cellzoo(o.cellzoo_exe);
  write_slurm_scripts(plan, o);
  const auto log = dir.path + "/merge.log";
  const auto command = "cd " + dir.path + " && FAKE_LOG=" + dir.path + "/calls.log bash " +
                       plan.merge_path + " > " + log + " 2>&1";
  CHECK(std::system(command.c_str()) != 0);
  CHECK_FALSE(std::filesystem::exists(dir.path + "/calls.log"));  // merge never called
  const auto lines = read_lines(log);
  REQUIRE_FALSE(lines.empty());
  CHECK_THAT(lines[0], Catch::Contains("already exists"));
  CHECK_THAT(lines[0],
             Catch::Contains("cellzoo merge -o NEW.h5 " + o.out_dir + "/demo.shard-*-of-3.h5"));

  // A failing merge: its exit status is kept and the hint printed.
  std::filesystem::remove(o.merged_out);
  {
    std::ofstream fail(o.cellzoo_exe);
    fail << "#!/bin/bash\necho 'merge: broken shard' >&2\nexit 2\n";
  }
  const auto status = std::system(command.c_str());
  CHECK(WEXITSTATUS(status) == 2);
  const auto failed = read_lines(log);
  REQUIRE(failed.size() == 2);
  CHECK(failed[0] == "merge: broken shard");
  CHECK_THAT(failed[1], Catch::Contains("the merge failed"));
}
