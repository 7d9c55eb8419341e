// The music task and its piano-roll JSON reader: a small file written here, every
// malformed-input error, and (when present) the shared JSB Chorales statistics.
#include "datasets/piano_roll.hpp"
#include "helpers.hpp"
#include "tests/skip.hpp"

using namespace cellzoo;
using namespace cellzoo::datasets;
using namespace cellzoo::datasets::testing;
using Catch::Matchers::Contains;

namespace {

TaskData build_music(const std::filesystem::path& data) {
  return TaskRegistry::instance().build("music", {{"data", data.string()}}, 1);
}

// Writes `json` to a fresh file and returns the error of building the task from it.
std::string music_error(const std::string& test, const std::string& json) {
  const auto file = scratch_dir(test) / "bad.json";
  write_file(file, json);
  return error_of([&] { build_music(file); });
}

const char* kSmall =
    "{\"train\":[\n"
    "[[60,64],[],[62]],\n"
    "[[21,108]],\n"
    "[[108],[21]]\n"
    "],\n"
    "\"meta\": {\"source\": \"test \\\"x\\\"\", \"list\": [1, 2.5, true, null]},\n"
    "\"valid\":[\n"
    "[[64,60],[61],[62]]\n"
    "],\n"
    "\"test\":[\n"
    "[[70],[71]]\n"
    "]}\n";

}  // namespace

TEST_CASE("music: a small piano roll becomes next-step sequences", "[datasets][music]") {
  const auto dir = scratch_dir("music_small");
  write_file(dir / "small.json", kSmall);
  // A directory holding exactly one .json is accepted as well as the file itself.
  for (const auto& path : {dir / "small.json", dir}) {
    const TaskData d = build_music(path);
    CHECK(d.info.input_size == 88);
    CHECK(d.info.output_size == 88);
    CHECK(d.info.loss == LossKind::bernoulli_xent);
    CHECK(d.info.metric == Metric::nll_per_step);
    CHECK(std::isfinite(d.info.baseline));
    CHECK(d.info.baseline > 0);
    // The one-step piece [[21,108]] has nothing to predict and is skipped.
    REQUIRE(d.train.size() == 2);
    REQUIRE(d.valid.size() == 1);
    REQUIRE(d.test.size() == 1);
    const Sequence& s = d.train[0];
    REQUIRE(s.length() == 2);
    CHECK(s.weight == std::vector<float>{1, 1});
    CHECK(s.input_dense.col(0).sum() == 2);
    CHECK(s.input_dense(60 - 21, 0) == 1);
    CHECK(s.input_dense(64 - 21, 0) == 1);
    CHECK(s.input_dense.col(1).sum() == 0);  // the silent step
    CHECK(s.target_dense.col(0).sum() == 0);
    CHECK(s.target_dense.col(1).sum() == 1);
    CHECK(s.target_dense(62 - 21, 1) == 1);
    CHECK(d.train[1].input_dense(87, 0) == 1);       // MIDI 108 is key 87
    CHECK(d.train[1].target_dense(0, 0) == 1);       // MIDI 21 is key 0
    CHECK(d.valid[0].input_dense(60 - 21, 0) == 1);  // unsorted notes are fine
  }
}

TEST_CASE("music: malformed files give located errors", "[datasets][music]") {
  SECTION("truncated JSON") {
    const auto msg = music_error("music_truncated", "{\"train\":[\n[[60,64],[62]");
    CHECK_THAT(msg, Contains("bad.json:2:"));
    CHECK_THAT(msg, Contains("expected ',' or ']' after a time step"));
    CHECK_THAT(msg, Contains("end of the file"));
    CHECK_THAT(msg, Contains("truncated"));
    CHECK_THAT(msg, Contains("train[0]"));
  }
  SECTION("a note outside 21..108") {
    const auto msg = music_error("music_range", "{\"train\":[\n[[60],[61]],\n[[60],[61,200]]\n],");
    CHECK_THAT(msg, Contains("bad.json:3:11: MIDI note 200 is outside the piano range 21..108"));
    CHECK_THAT(msg, Contains("(in train[1][1][1])"));
    CHECK_THAT(music_error("music_low", "{\"train\":[[[20]]]}"), Contains("MIDI note 20"));
    CHECK_THAT(music_error("music_neg", "{\"train\":[[[-60]]]}"), Contains("MIDI note -60"));
  }
  SECTION("a non-integer note") {
    const auto msg = music_error("music_float", "{\"valid\":[[[60.5]]]}");
    CHECK_THAT(msg, Contains("expected an integer MIDI note number, found 60.5"));
    CHECK_THAT(msg, Contains("valid[0][0][0]"));
    CHECK_THAT(music_error("music_string", "{\"test\":[[[\"C4\"]]]}"),
               Contains("expected a MIDI note number (an integer in 21..108), found '\"'"));
  }
  SECTION("an empty split") {
    const auto msg =
        music_error("music_empty", "{\"train\":[[[60],[62]]],\"valid\":[],\"test\":[[[60],[62]]]}");
    CHECK_THAT(msg, Contains("the split \"valid\" is empty"));
  }
  SECTION("a missing split") {
    const auto msg =
        music_error("music_missing_split", "{\"train\":[[[60],[62]]],\"valid\":[[[60],[62]]]}");
    CHECK_THAT(msg, Contains("no \"test\" split"));
    CHECK_THAT(msg, Contains("train, valid and test"));
  }
  SECTION("a duplicated split, trailing garbage, not an object") {
    CHECK_THAT(music_error("music_dup", "{\"train\":[],\"train\":[]}"),
               Contains("the split \"train\" appears twice"));
    CHECK_THAT(music_error("music_trailing",
                           "{\"train\":[[[60],[62]]],\"valid\":[[[60],[62]]],"
                           "\"test\":[[[60],[62]]]} x"),
               Contains("unexpected content after the closing '}'"));
    CHECK_THAT(music_error("music_array", "[1, 2]"),
               Contains("expected '{' opening the top-level object, found '['"));
  }
}

TEST_CASE("music: missing data names --data and the fetch script", "[datasets][music]") {
  auto msg = error_of([] { TaskRegistry::instance().build("music", {}, 1); });
  CHECK_THAT(msg, Contains("task 'music' needs its data"));
  CHECK_THAT(msg, Contains("--data"));
  CHECK_THAT(msg, Contains("scripts/fetch-datasets"));
  const auto dir = scratch_dir("music_missing");
  msg = error_of([&] { build_music(dir / "nope.json"); });
  CHECK_THAT(msg, Contains("nope.json' does not exist"));
  CHECK_THAT(msg, Contains("scripts/fetch-datasets"));
  msg = error_of([&] { build_music(dir); });
  CHECK_THAT(msg, Contains("no .json file in the directory"));
  write_file(dir / "a.json", kSmall);
  write_file(dir / "b.json", kSmall);
  msg = error_of([&] { build_music(dir); });
  CHECK_THAT(msg, Contains("several .json files (a.json, b.json)"));
}

TEST_CASE("music: JSB Chorales split statistics", "[datasets][music][shared]") {
  const auto path = shared_dataset("jsb_chorales/jsb_chorales.json");
  if (!path) CELLZOO_SKIP("no shared JSB Chorales (set CELLZOO_SHARED_DATASETS)");
  const TaskData d = build_music(*path);
  // Expected numbers computed once with /usr/bin/python3 from the same JSON:
  //   d = json.load(open("jsb_chorales.json"))
  //   len(d[k]), sum(len(p) - 1 for p in d[k]), sum(len(s) for p in d[k] for s in p)
  // (pieces, scored steps = time steps minus one per piece, notes); the time steps
  // (13807 / 4602 / 4725) match PROVENANCE.md.
  struct Expect {
    const std::vector<Sequence>* split;
    std::size_t pieces;
    Index scored_steps;
    double notes;
  };
  for (const auto& e : {Expect{&d.train, 229, 13578, 53824}, Expect{&d.valid, 76, 4526, 17811},
                        Expect{&d.test, 77, 4648, 18367}}) {
    CHECK(e.split->size() == e.pieces);
    Index steps = 0;
    double notes = 0;
    for (const Sequence& s : *e.split) {
      steps += s.length();
      notes += s.input_dense.sum() + s.target_dense.col(s.length() - 1).sum();
    }
    CHECK(steps == e.scored_steps);
    CHECK(notes == e.notes);
  }
  CHECK(d.train.front().length() == 128);  // the first piece has 129 time steps
  // The frequency baseline is a real but weak model: between 2 and 88 ln 2 nats.
  CHECK(d.info.baseline > 2);
  CHECK(d.info.baseline < 88 * 0.6932);
}

namespace {

// Pieces and time steps per split from the set's PROVENANCE.md; every piece has >= 2 steps,
// so the scored steps are the time steps minus one per piece.
void check_piano_roll_set(const char* file, const std::size_t (&pieces)[3],
                          const Index (&steps)[3]) {
  const auto path = shared_dataset(file);
  if (!path) CELLZOO_SKIP("no shared " << file << " (set CELLZOO_SHARED_DATASETS)");
  const TaskData d = build_music(*path);
  int k = 0;
  for (Split split : {Split::train, Split::valid, Split::test}) {
    const auto& seqs = d.sequences(split);
    Index total = 0;
    for (const Sequence& s : seqs) total += s.length();
    CHECK(seqs.size() == pieces[k]);
    CHECK(total == steps[k] - static_cast<Index>(pieces[k]));
    ++k;
  }
}

}  // namespace

TEST_CASE("music: the shared Nottingham set loads", "[datasets][music][shared]") {
  check_piano_roll_set("nottingham/nottingham.json", {694, 173, 170}, {176561, 45513, 44463});
}

TEST_CASE("music: the shared Piano-midi set loads", "[datasets][music][shared]") {
  check_piano_roll_set("piano_midi/piano_midi.json", {87, 12, 25}, {75911, 8540, 19036});
}
