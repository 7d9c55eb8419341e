// /provenance: every file records, per session (process), its build, host, numerical
// path, SLURM job and run ids; merge keeps every shard's session and notices (or, strict,
// refuses) inputs of different numerical paths.
#include <hdf5.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "framework/store/merge.hpp"
#include "framework/store/results_file.hpp"
#include "framework/util/build_info.hpp"
#include "framework/util/error.hpp"
#include "tests/store/store_test_util.hpp"

using namespace cellzoo::store;
using namespace cellzoo::store::testing;

namespace {

// Sets one string attribute of session `index` in `path` (as another build would have
// written it), with plain HDF5 calls.
void set_session_fact(const fs::path& path, int index, const std::string& name,
                      const std::string& value) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const std::string group_name = "/provenance/" + std::to_string(index);
  const hid_t group = H5Gopen2(file, group_name.c_str(), H5P_DEFAULT);
  REQUIRE(group >= 0);
  if (H5Aexists(group, name.c_str()) > 0) H5Adelete(group, name.c_str());
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, value.size());
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(group, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(attr >= 0);
  H5Awrite(attr, type, value.data());
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  H5Gclose(group);
  H5Fclose(file);
}

struct ScopedEnv {
  std::string name;
  ScopedEnv(const std::string& n, const std::string& value) : name(n) {
    setenv(n.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("a new file records its session: build, host, numerical path, run ids", "[store]") {
  const fs::path dir = fresh_dir("provenance-new");
  const auto path = dir / "a.h5";
  write_file(path, {3, 1, 2});
  const auto reader = ResultsReader::open(path.string());
  const auto& meta = reader.meta();
  CHECK(meta.numerical_path == cellzoo::numerical_path());
  CHECK(meta.compile_flags == cellzoo::build_info().compile_flags);
  CHECK_THAT(meta.compile_flags, Catch::Contains("-std=c++20"));
  CHECK_THAT(meta.isa, Catch::Contains("SSE2"));
  CHECK(meta.cpu_model == cellzoo::host_info().cpu_model);
  CHECK_FALSE(meta.os.empty());
  CHECK((meta.git_dirty == "yes" || meta.git_dirty == "no" || meta.git_dirty == "unknown"));
  CHECK(meta.git_diff_hash.size() == (meta.git_dirty == "yes" ? 64u : 0u));
  CHECK(meta.slurm_job_id.empty());

  const auto sessions = reader.sessions();
  REQUIRE(sessions.size() == 1);
  const auto& s = sessions[0];
  CHECK(s.fact("role") == "sweep");
  CHECK(s.run_ids == std::vector<std::int64_t>{3, 1, 2});
  CHECK(s.fact("numerical_path") == cellzoo::numerical_path());
  CHECK(s.fact("host") == meta.host);
  CHECK(s.fact("command_line") == meta.command_line);
  CHECK_FALSE(s.fact("started_utc").empty());
  CHECK_FALSE(s.fact("finished_utc").empty());  // closed
  CHECK(s.fact("slurm_job_id").empty());
  CHECK(describe_mixed_paths(sessions).empty());
}

TEST_CASE("a resume is a session of its own; SLURM facts are recorded", "[store]") {
  const fs::path dir = fresh_dir("provenance-resume");
  const auto path = dir / "a.h5";
  {
    const ScopedEnv job("SLURM_JOB_ID", "4242"), task("SLURM_ARRAY_TASK_ID", "7");
    write_file(path, {0, 1});
  }
  {
    auto writer = ResultsWriter::open_for_resume(path.string(), sample_meta().spec_hash);
    writer.append(sample_run(2), sample_curves(2, 3));
    writer.close();
  }
  const auto reader = ResultsReader::open(path.string());
  CHECK(reader.meta().slurm_job_id == "4242");
  CHECK(reader.meta().slurm_array_task_id == "7");
  const auto sessions = reader.sessions();
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0].fact("slurm_job_id") == "4242");
  CHECK(sessions[0].fact("slurm_array_task_id") == "7");
  CHECK(sessions[0].run_ids == std::vector<std::int64_t>{0, 1});
  CHECK(sessions[1].fact("role") == "resume");
  CHECK(sessions[1].fact("slurm_job_id").empty());
  CHECK(sessions[1].run_ids == std::vector<std::int64_t>{2});
}

TEST_CASE("merge keeps every shard's session; mixed numerical paths are noted or refused",
          "[store]") {
  const fs::path dir = fresh_dir("provenance-merge");
  std::vector<std::string> shards;
  for (int k = 0; k < 3; ++k) {
    const ScopedEnv job("SLURM_JOB_ID", "100"), task("SLURM_ARRAY_TASK_ID", std::to_string(k));
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 4 * k; i < 4 * k + 4; ++i) ids.push_back(i);
    shards.push_back((dir / ("shard" + std::to_string(k) + ".h5")).string());
    FileMeta meta = sample_meta();
    meta.shard = std::to_string(k) + "/3";
    meta.command_line = "cellzoo sweep spec.ini --shard " + meta.shard;
    write_file(shards.back(), ids, meta);
  }
  const auto report = merge((dir / "merged.h5").string(), shards);
  CHECK(report.mixed_paths.empty());
  {
    const auto merged = ResultsReader::open((dir / "merged.h5").string());
    CHECK(merged.meta().numerical_path == cellzoo::numerical_path());
    auto sessions = merged.sessions();
    REQUIRE(sessions.size() == 4);  // the merge process's own (no runs), then the 3 shards'
    CHECK(sessions[0].fact("role") == "merge");
    CHECK(sessions[0].run_ids.empty());
    for (int k = 0; k < 3; ++k) {
      const auto& s = sessions[static_cast<std::size_t>(k + 1)];
      CHECK(s.fact("role") == "sweep");
      CHECK(s.fact("source") == shards[static_cast<std::size_t>(k)]);
      CHECK(s.fact("slurm_job_id") == "100");
      CHECK(s.fact("slurm_array_task_id") == std::to_string(k));
      CHECK(s.fact("shard") == std::to_string(k) + "/3");
      CHECK(s.fact("command_line") == "cellzoo sweep spec.ini --shard " + std::to_string(k) + "/3");
      CHECK_FALSE(s.fact("finished_utc").empty());
      CHECK(s.run_ids.size() == 4);
      CHECK(s.run_ids.front() == 4 * k);
    }
  }

  // Shard 1 as if computed by another build: the merge says so and records which runs.
  set_session_fact(shards[1], 0, "numerical_path", "x86-64 SSE2; g++ 12; -O3; other");
  const auto mixed = merge((dir / "mixed.h5").string(), shards);
  CHECK_THAT(mixed.mixed_paths, Catch::Contains("8 runs: " + cellzoo::numerical_path()));
  CHECK_THAT(mixed.mixed_paths, Catch::Contains("4 runs: x86-64 SSE2; g++ 12; -O3; other"));
  {
    const auto merged = ResultsReader::open((dir / "mixed.h5").string());
    CHECK_THAT(merged.meta().numerical_path, Catch::StartsWith("mixed: 2 numerical paths"));
    const auto sessions = merged.sessions();
    CHECK(describe_mixed_paths(sessions) == mixed.mixed_paths);
    REQUIRE(sessions.size() == 4);
    CHECK(sessions[2].fact("numerical_path") == "x86-64 SSE2; g++ 12; -O3; other");
    CHECK(sessions[2].run_ids == std::vector<std::int64_t>{4, 5, 6, 7});
  }
  // --strict-build: refused before anything is written.
  try {
    merge((dir / "strict.h5").string(), shards, true);
    FAIL("a strict merge of mixed paths was not refused");
  } catch (const cellzoo::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("different numerical paths"));
    CHECK_THAT(e.hint(), Catch::Contains("without --strict-build"));
  }
  CHECK_FALSE(fs::exists(dir / "strict.h5"));

  // A merged file merged again keeps the shard sessions (and their sources).
  const auto again = merge((dir / "again.h5").string(), {(dir / "mixed.h5").string()});
  CHECK(again.mixed_paths == mixed.mixed_paths);
  const auto sessions = ResultsReader::open((dir / "again.h5").string()).sessions();
  REQUIRE(sessions.size() == 4);  // its own merge session + the 3 shards' (not the old merge's)
  CHECK(sessions[1].fact("source") == shards[0]);
}

TEST_CASE("runs no session lists (older files) read as one 'unrecorded' session", "[store]") {
  const fs::path dir = fresh_dir("provenance-old");
  const auto path = dir / "old.h5";
  write_file(path, {0, 1, 2});
  {  // what a cellzoo before /provenance wrote: no such group, no numerical_path
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    CHECK(H5Ldelete(file, "provenance", H5P_DEFAULT) >= 0);
    CHECK(H5Adelete(file, "numerical_path") >= 0);
    H5Fclose(file);
  }
  const auto sessions = ResultsReader::open(path.string()).sessions();
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0].fact("role") == "unrecorded");
  CHECK(sessions[0].run_ids == std::vector<std::int64_t>{0, 1, 2});
  CHECK(sessions[0].fact("numerical_path").empty());
  const auto paths = paths_of(sessions);
  REQUIRE(paths.size() == 1);
  CHECK(paths[0] == std::pair<std::string, std::int64_t>{"unknown", 3});
  CHECK(describe_mixed_paths(sessions).empty());  // one path, even if unknown
}
