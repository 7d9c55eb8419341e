// ResultsWriter / ResultsReader: round trips, never overwriting, resume checks, clear
// errors for missing, corrupt and foreign files.
#include <hdf5.h>

#include <catch2/catch.hpp>

#include "framework/store/results_file.hpp"
#include "framework/util/error.hpp"
#include "tests/store/store_test_util.hpp"

using namespace cellzoo::store;
using namespace cellzoo::store::testing;

namespace {

// The message and hint of the cellzoo::Error thrown by f ("" when none is thrown).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const cellzoo::Error& e) {
    return std::string(e.what()) + " | hint: " + e.hint();
  }
  return "";
}

// A valid HDF5 file that is not a cellzoo results file.
void write_foreign_hdf5(const fs::path& path) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(file >= 0);
  hsize_t dims[1] = {4};
  const hid_t space = H5Screate_simple(1, dims, nullptr);
  const hid_t ds =
      H5Dcreate2(file, "data", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const double values[4] = {1, 2, 3, 4};
  H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  H5Dclose(ds);
  H5Sclose(space);
  H5Fclose(file);
}

}  // namespace

TEST_CASE("results file round-trips runs, curves, cells, hyper columns, strings and NaNs",
          "[store]") {
  const fs::path dir = fresh_dir("roundtrip");
  const std::vector<std::int64_t> ids = {0, 1, 2, 3, 4, 5};
  std::vector<RunRow> written;
  std::vector<CurveRow> written_curves;
  // Also the fixture of tests/python/test_results_h5py.py.
  const fs::path shared = fixture_path("store_roundtrip.h5");
  fs::remove(shared);
  for (const fs::path& path : {dir / "r.h5", shared}) {
    auto writer = ResultsWriter::create(path.string(), sample_meta(), sample_columns());
    writer.add_cell({"file:experiments/cells/mut1.cell", hex32(1, 2), "cell mut1 {\n  z = x\n}\n"});
    written.clear();
    written_curves.clear();
    for (auto id : ids) {
      const auto curves = sample_curves(id, 1 + int(id % 3));
      writer.append(sample_run(id), curves);
      written.push_back(sample_run(id));
      written_curves.insert(written_curves.end(), curves.begin(), curves.end());
    }
    CHECK(writer.meta().finished_utc.empty());
    writer.set_finished();
    CHECK(writer.run_count() == ids.size());
  }

  const auto reader = ResultsReader::open((dir / "r.h5").string());
  const FileMeta& m = reader.meta();
  const FileMeta expected = sample_meta();
  CHECK(m.schema_version == 1);
  CHECK(m.spec_text == expected.spec_text);
  CHECK(m.spec_hash == expected.spec_hash);
  CHECK(m.total_runs == 12);
  CHECK(m.shard.empty());
  CHECK(m.task == "adding");
  CHECK(m.metric == "mse");
  CHECK_FALSE(m.metric_higher_is_better);
  CHECK(m.command_line == expected.command_line);
  CHECK_FALSE(m.cellzoo_version.empty());
  CHECK_FALSE(m.compiler.empty());
  CHECK(m.eigen_version.rfind("3.", 0) == 0);
  CHECK(m.hdf5_version.rfind("1.", 0) == 0);
  CHECK(m.tbb_version.size() >= 4);
  CHECK_FALSE(m.host.empty());
  CHECK(m.created_utc.size() == 20);
  CHECK(m.created_utc.back() == 'Z');
  CHECK(m.finished_utc.size() == 20);
  CHECK(reader.hyper_columns() == sample_columns());

  const auto runs = reader.runs();
  REQUIRE(runs.size() == written.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    INFO("run " << i);
    CHECK(same_run(runs[i], written[i]));
  }
  CHECK(runs[3].status == "diverged");
  CHECK(std::isnan(runs[3].valid_loss));
  CHECK(runs[0].seed == 0xF000000000000000ULL);
  const auto curves = reader.curves();
  REQUIRE(curves.size() == written_curves.size());
  for (std::size_t i = 0; i < curves.size(); ++i) CHECK(same_curve(curves[i], written_curves[i]));
  const auto cells = reader.cells();
  REQUIRE(cells.size() == 1);
  CHECK(cells[0].text == "cell mut1 {\n  z = x\n}\n");
}

TEST_CASE("long error messages are truncated, long keys are refused", "[store]") {
  const fs::path dir = fresh_dir("widths");
  const auto path = (dir / "w.h5").string();
  auto writer = ResultsWriter::create(path, sample_meta(), sample_columns());
  RunRow run = sample_run(0);
  run.status = "failed";
  run.error = std::string(250, 'x') + "\xc3\xa9\xc3\xa9\xc3\xa9 tail";  // UTF-8 at the cut
  writer.append(run, {});

  RunRow long_cell = sample_run(1);
  long_cell.cell = std::string(257, 'c');
  CHECK_THAT(error_of([&] { writer.append(long_cell, {}); }),
             Catch::Contains("column 'cell' is 257 bytes") && Catch::Contains("at most 256"));
  RunRow long_text = sample_run(2);
  long_text.hyper[2] = std::string(513, 'o');
  CHECK_THAT(error_of([&] { writer.append(long_text, {}); }),
             Catch::Contains("column 'optimizer'"));
  // Paths (task.data, file: cells) longer than the old 64-byte columns fit; a CI checkout's
  // absolute dataset path did not.
  RunRow long_path = sample_run(3);
  long_path.cell = "file:" + std::string(200, 'd') + "/mut1.cell";
  long_path.hyper[2] = "/" + std::string(480, 'p') + "/jsb_chorales.json";
  writer.append(long_path, {});
  writer.close();

  const auto runs = ResultsReader::open(path).runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[1].cell == long_path.cell);
  CHECK(std::get<std::string>(runs[1].hyper[2]) == std::get<std::string>(long_path.hyper[2]));
  const std::string& error = runs[0].error;
  CHECK(error.size() <= kErrorWidth);
  CHECK(error.size() >= kErrorWidth - 4);
  CHECK(error.substr(error.size() - 3) == "...");
  CHECK(error.rfind(std::string(250, 'x'), 0) == 0);
  // Never half of a two-byte character before the dots.
  const unsigned char before = static_cast<unsigned char>(error[error.size() - 4]);
  CHECK((before == 'x' || before == 0xA9));
}

TEST_CASE("append refuses duplicates and malformed rows and leaves the file as it was", "[store]") {
  const fs::path dir = fresh_dir("append-checks");
  const auto path = (dir / "a.h5").string();
  auto writer = ResultsWriter::create(path, sample_meta(), sample_columns());
  writer.append(sample_run(0), sample_curves(0, 2));

  CHECK_THAT(error_of([&] { writer.append(sample_run(0), {}); }), Catch::Contains("already in"));
  RunRow same_id = sample_run(1);
  same_id.run_id = 0;
  CHECK_THAT(error_of([&] { writer.append(same_id, {}); }), Catch::Contains("run_id 0"));
  RunRow wrong_kind = sample_run(2);
  wrong_kind.hyper[0] = std::string("big");
  CHECK_THAT(error_of([&] { writer.append(wrong_kind, {}); }),
             Catch::Contains("'hidden'") && Catch::Contains("numeric"));
  RunRow too_few = sample_run(3);
  too_few.hyper.pop_back();
  CHECK_THAT(error_of([&] { writer.append(too_few, {}); }), Catch::Contains("hidden,lr,optimizer"));
  CHECK_THAT(error_of([&] { writer.append(sample_run(4), sample_curves(9, 1)); }),
             Catch::Contains("curve row of run 9"));
  RunRow no_key = sample_run(5);
  no_key.run_key.clear();
  CHECK_THAT(error_of([&] { writer.append(no_key, {}); }), Catch::Contains("empty run_key"));
  CHECK(writer.run_keys() == std::set<std::string>{sample_run(0).run_key});
  writer.close();

  const auto reader = ResultsReader::open(path);
  CHECK(reader.runs().size() == 1);
  CHECK(reader.curves().size() == 2);
}

TEST_CASE("invalid hyper columns are refused at create", "[store]") {
  const fs::path dir = fresh_dir("columns");
  const auto path = (dir / "c.h5").string();
  CHECK_THAT(error_of([&] {
               ResultsWriter::create(path, sample_meta(),
                                     {{"lr", HyperColumn::number}, {"lr", HyperColumn::number}});
             }),
             Catch::Contains("listed twice"));
  CHECK_THAT(error_of([&] {
               ResultsWriter::create(path, sample_meta(), {{"valid_loss", HyperColumn::number}});
             }),
             Catch::Contains("clashes"));
  CHECK_THAT(error_of([&] {
               ResultsWriter::create(path, sample_meta(), {{"a,b", HyperColumn::number}});
             }),
             Catch::Contains("'a,b'"));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("create never overwrites an existing file", "[store]") {
  const fs::path dir = fresh_dir("excl");
  const fs::path results = dir / "results.h5";
  write_file(results, {0, 1, 2});
  const std::string before = read_bytes(results);
  const auto message = error_of(
      [&] { ResultsWriter::create(results.string(), sample_meta("other"), sample_columns()); });
  CHECK_THAT(message, Catch::Contains("already exists") && Catch::Contains("never overwrites"));
  CHECK(read_bytes(results) == before);
  CHECK(ResultsReader::open(results.string()).runs().size() == 3);

  const fs::path text = dir / "notes.txt";
  write_bytes(text, "precious notes\n");
  CHECK_THAT(
      error_of([&] { ResultsWriter::create(text.string(), sample_meta(), sample_columns()); }),
      Catch::Contains("already exists"));
  CHECK(read_bytes(text) == "precious notes\n");
}

TEST_CASE("create replaces an empty file and a dead creator's temporary, nothing else", "[store]") {
  const fs::path dir = fresh_dir("empty");
  const fs::path results = dir / "results.h5";
  const fs::path temp = dir / "results.h5.creating";
  write_bytes(results, "");                 // 0 bytes: holds no runs
  write_bytes(temp, std::string(96, 'x'));  // a creator killed before its first flush
  CHECK_FALSE(cellzoo::store::results_file_present(results.string()));
  {
    auto w = ResultsWriter::create(results.string(), sample_meta(), sample_columns());
    w.close();
  }
  CHECK(cellzoo::store::results_file_present(results.string()));
  CHECK_FALSE(fs::exists(temp));
  CHECK(ResultsReader::open(results.string()).runs().empty());
  // One byte is enough to be left alone.
  const fs::path one = dir / "one.h5";
  write_bytes(one, "x");
  CHECK(cellzoo::store::results_file_present(one.string()));
  CHECK_THAT(
      error_of([&] { ResultsWriter::create(one.string(), sample_meta(), sample_columns()); }),
      Catch::Contains("already exists"));
  CHECK(read_bytes(one) == "x");
}

TEST_CASE("create in a place that cannot hold a file fails clearly", "[store]") {
  // Tests run as root, for whom permissions do not stop writes: use a path below a
  // regular file instead, and a directory that does not exist.
  const fs::path dir = fresh_dir("unwritable");
  write_bytes(dir / "file.txt", "x");
  const auto under_file = (dir / "file.txt" / "out.h5").string();
  CHECK_THAT(error_of([&] { ResultsWriter::create(under_file, sample_meta(), sample_columns()); }),
             Catch::Contains("cannot create results file '" + under_file + "'") &&
                 Catch::Contains("is not a directory") && Catch::Contains("hint: write to"));
  const auto missing = (dir / "nope" / "out.h5").string();
  CHECK_THAT(error_of([&] { ResultsWriter::create(missing, sample_meta(), sample_columns()); }),
             Catch::Contains("does not exist") && Catch::Contains("mkdir -p"));
  CHECK_THAT(
      error_of([&] { ResultsWriter::create("/proc/cellzoo.h5", sample_meta(), sample_columns()); }),
      Catch::Contains("cannot create results file '/proc/cellzoo.h5'"));
}

TEST_CASE("resume continues the same spec's file and refuses anything else untouched", "[store]") {
  const fs::path dir = fresh_dir("resume");
  const fs::path path = dir / "r.h5";
  write_file(path, {0, 1, 2});
  const std::string before = read_bytes(path);

  const auto other = sample_meta("spec-b");
  const auto message =
      error_of([&] { ResultsWriter::open_for_resume(path.string(), other.spec_hash); });
  CHECK_THAT(message, Catch::Contains("written by another spec") &&
                          Catch::Contains(sample_meta().spec_hash) &&
                          Catch::Contains(other.spec_hash) && Catch::Contains("--out"));
  CHECK(read_bytes(path) == before);

  const fs::path foreign = dir / "foreign.h5";
  write_foreign_hdf5(foreign);
  const std::string foreign_before = read_bytes(foreign);
  CHECK_THAT(error_of([&] { ResultsWriter::open_for_resume(foreign.string(), other.spec_hash); }),
             Catch::Contains("not a cellzoo results file"));
  CHECK(read_bytes(foreign) == foreign_before);

  {
    auto writer = ResultsWriter::open_for_resume(path.string(), sample_meta().spec_hash);
    CHECK(writer.run_keys() == std::set<std::string>{sample_run(0).run_key, sample_run(1).run_key,
                                                     sample_run(2).run_key});
    CHECK(writer.hyper_columns() == sample_columns());
    CHECK_THAT(error_of([&] { writer.append(sample_run(1), {}); }), Catch::Contains("already in"));
    writer.append(sample_run(3), sample_curves(3, 3));
  }
  const auto reader = ResultsReader::open(path.string());
  const auto runs = reader.runs();
  REQUIRE(runs.size() == 4);
  for (std::int64_t i = 0; i < 4; ++i)
    CHECK(same_run(runs[static_cast<std::size_t>(i)], sample_run(i)));
  CHECK(reader.curves().size() == 12);
}

TEST_CASE("resume drops rows a killed writer reserved but never wrote", "[store]") {
  const fs::path dir = fresh_dir("resume-tail");
  const fs::path path = dir / "r.h5";
  write_file(path, {0, 1});
  {
    // What a kill inside append() can leave: extents grown, rows still fill values.
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    for (const char* name : {"runs", "curves"}) {
      const hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
      const hid_t space = H5Dget_space(ds);
      hsize_t n = 0;
      H5Sget_simple_extent_dims(space, &n, nullptr);
      n += 2;
      REQUIRE(H5Dset_extent(ds, &n) >= 0);
      H5Sclose(space);
      H5Dclose(ds);
    }
    H5Fclose(file);
  }
  CHECK(ResultsReader::open(path.string()).runs().size() == 2);  // empty keys are skipped
  CHECK(ResultsReader::open(path.string()).curves().size() == 8);
  {
    auto writer = ResultsWriter::open_for_resume(path.string(), sample_meta().spec_hash);
    writer.append(sample_run(2), sample_curves(2, 3));
  }
  const auto reader = ResultsReader::open(path.string());
  CHECK(reader.runs().size() == 3);
  const auto curves = reader.curves();
  REQUIRE(curves.size() == 9);
  CHECK(curves[6].run_id == 2);
  CHECK(curves[6].epoch == 1);
}

TEST_CASE("reader reports missing, corrupt and foreign files clearly", "[store]") {
  const fs::path dir = fresh_dir("corrupt");

  CHECK_THAT(error_of([&] { ResultsReader::open((dir / "missing.h5").string()); }),
             Catch::Contains("does not exist"));
  CHECK_THAT(error_of([&] { ResultsReader::open(dir.string()); }),
             Catch::Contains("is a directory"));

  cellzoo::Rng rng(42);
  std::string noise(4096, '\0');
  for (auto& c : noise) c = static_cast<char>(rng.below(256));
  write_bytes(dir / "noise.h5", noise);
  CHECK_THAT(error_of([&] { ResultsReader::open((dir / "noise.h5").string()); }),
             Catch::Contains("is not a readable HDF5 file (truncated or corrupt?)"));
  write_bytes(dir / "empty.h5", "");  // a process killed as it created the file
  CHECK_THAT(error_of([&] { ResultsReader::open((dir / "empty.h5").string()); }),
             Catch::Contains("is empty (0 bytes): it holds no runs"));

  // A real file cut short (a partial copy): the superblock is there, the rest is not.
  const fs::path real = dir / "real.h5";
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < 40; ++i) ids.push_back(i);
  write_file(real, ids, sample_meta(), 20);
  const std::string bytes = read_bytes(real);
  for (double fraction : {0.3, 0.6, 0.9}) {
    INFO("truncated to " << fraction);
    const fs::path cut = dir / "cut.h5";
    write_bytes(cut, bytes.substr(0, static_cast<std::size_t>(double(bytes.size()) * fraction)));
    CHECK_THAT(error_of([&] {
                 const auto reader = ResultsReader::open(cut.string());
                 reader.runs();
                 reader.curves();
               }),
               Catch::Contains("is not a readable HDF5 file (truncated or corrupt?)"));
  }

  write_foreign_hdf5(dir / "foreign.h5");
  CHECK_THAT(error_of([&] { ResultsReader::open((dir / "foreign.h5").string()); }),
             Catch::Contains("is an HDF5 file but not a cellzoo results file"));
}
