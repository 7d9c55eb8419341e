// Parameter files: round trips in float64 and float32, the math shape on disk, and clear
// errors when names or shapes do not match.
#include <hdf5.h>

#include <catch2/catch.hpp>

#include "framework/store/parameters.hpp"
#include "framework/util/error.hpp"
#include "tests/store/store_test_util.hpp"

using namespace cellzoo::store;
using namespace cellzoo::store::testing;
using cellzoo::cells::ParamKind;
using cellzoo::cells::ParamLayout;

namespace {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const cellzoo::Error& e) {
    return std::string(e.what()) + " | hint: " + e.hint();
  }
  return "";
}

ParamLayout cell_layout(int input, int hidden) {
  ParamLayout layout;
  layout.add("W", 4 * hidden, input, ParamKind::input_weight);
  layout.add("R", 4 * hidden, hidden, ParamKind::recurrent_weight);
  layout.add("b", 4 * hidden, 1, ParamKind::bias);
  return layout;
}

ParamLayout readout_layout(int input, int hidden) {
  ParamLayout layout;
  layout.add("W", input, hidden, ParamKind::input_weight);
  layout.add("b", input, 1, ParamKind::bias);
  return layout;
}

template <typename S>
std::vector<S> random_values(std::size_t n, std::uint64_t seed) {
  cellzoo::Rng rng(seed);
  std::vector<S> values(n);
  for (auto& v : values) v = static_cast<S>(rng.normal());
  return values;
}

}  // namespace

TEST_CASE("parameters round-trip by name, in float64 and float32", "[store]") {
  const fs::path dir = fresh_dir("parameters");
  const auto cell = cell_layout(3, 5), readout = readout_layout(3, 5);
  const auto cell_values = random_values<double>(static_cast<std::size_t>(cell.size()), 1);
  const auto readout_values = random_values<double>(static_cast<std::size_t>(readout.size()), 2);
  ParameterInfo info{"lstm", 3, 5, {{"run_key", hex32(5, 6)}, {"task", "adding"}}};
  save_parameters<double>(
      (dir / "p64.h5").string(), info,
      {{"cell", cell.tensors(), cell_values}, {"readout", readout.tensors(), readout_values}});

  const auto file = inspect_parameters((dir / "p64.h5").string());
  CHECK(file.info.cell == "lstm");
  CHECK(file.info.input_size == 3);
  CHECK(file.info.hidden_size == 5);
  CHECK(file.info.extra == info.extra);
  REQUIRE(file.groups.size() == 2);
  CHECK(file.groups[0].group == "cell");
  CHECK(file.groups[1].group == "readout");
  REQUIRE(file.groups[0].tensors.size() == 3);
  CHECK(file.groups[0].tensors[1].name == "R");  // saved order, not alphabetical
  CHECK(file.groups[0].tensors[1].rows == 20);
  CHECK(file.groups[0].tensors[1].cols == 5);
  CHECK(file.groups[0].tensors[1].kind == "recurrent_weight");

  std::vector<double> cell_back(static_cast<std::size_t>(cell.size()), 0),
      readout_back(static_cast<std::size_t>(readout.size()), 0);
  const auto loaded = load_parameters<double>(
      (dir / "p64.h5").string(),
      {{"cell", cell.tensors(), cell_back}, {"readout", readout.tensors(), readout_back}});
  CHECK(loaded.cell == "lstm");
  CHECK(cell_back == cell_values);
  CHECK(readout_back == readout_values);

  // float32 on disk, loaded as float and as double.
  std::vector<float> cell_f(cell_values.begin(), cell_values.end());
  save_parameters<float>((dir / "p32.h5").string(), info, {{"cell", cell.tensors(), cell_f}});
  std::vector<float> back_f(static_cast<std::size_t>(cell.size()), 0);
  load_parameters<float>((dir / "p32.h5").string(), {{"cell", cell.tensors(), back_f}});
  CHECK(back_f == cell_f);
  std::vector<double> back_d(static_cast<std::size_t>(cell.size()), 0);
  load_parameters<double>((dir / "p32.h5").string(), {{"cell", cell.tensors(), back_d}});
  for (std::size_t i = 0; i < back_d.size(); ++i) CHECK(back_d[i] == double(cell_f[i]));
}

TEST_CASE("parameters are stored in their mathematical shape", "[store]") {
  // W = [[1 2 3], [4 5 6]] held column-major in the flat vector as 1 4 2 5 3 6.
  ParamLayout layout;
  layout.add("W", 2, 3, ParamKind::input_weight);
  layout.add("b", 2, 1, ParamKind::bias);
  const std::vector<double> values = {1, 4, 2, 5, 3, 6, 7, 8};
  // Also the fixture of tests/python/test_results_h5py.py.
  const fs::path shared = fixture_path("store_parameters.h5");
  fs::remove(shared);
  save_parameters<double>(shared.string(), {"rnn", 3, 2, {}}, {{"cell", layout.tensors(), values}});

  const hid_t file = H5Fopen(shared.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hid_t ds = H5Dopen2(file, "/parameters/cell/W", H5P_DEFAULT);
  REQUIRE(ds >= 0);
  const hid_t space = H5Dget_space(ds);
  hsize_t dims[2] = {0, 0};
  REQUIRE(H5Sget_simple_extent_ndims(space) == 2);
  H5Sget_simple_extent_dims(space, dims, nullptr);
  CHECK(dims[0] == 2);
  CHECK(dims[1] == 3);
  double raw[6] = {};
  H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw);
  CHECK(std::vector<double>(raw, raw + 6) == std::vector<double>{1, 2, 3, 4, 5, 6});
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(file);
}

TEST_CASE("loading parameters checks groups, names and shapes", "[store]") {
  const fs::path dir = fresh_dir("parameters-errors");
  const auto path = (dir / "p.h5").string();
  const auto cell = cell_layout(3, 5);
  const auto values = random_values<double>(static_cast<std::size_t>(cell.size()), 3);
  save_parameters<double>(path, {"lstm", 3, 5, {}}, {{"cell", cell.tensors(), values}});

  const auto bigger = cell_layout(3, 6);
  std::vector<double> target(static_cast<std::size_t>(bigger.size()));
  CHECK_THAT(error_of([&] {
               load_parameters<double>(path, {{"cell", bigger.tensors(), target}});
             }),
             Catch::Contains("tensor cell/W is 20x3") && Catch::Contains("model's is 24x3") &&
                 Catch::Contains("cell 'lstm', input 3, hidden 5"));
  ParamLayout fewer;
  fewer.add("W", 20, 3, ParamKind::input_weight);
  fewer.add("R", 20, 5, ParamKind::recurrent_weight);
  CHECK_THAT(error_of([&] {
               load_parameters<double>(path, {{"cell", fewer.tensors(), target}});
             }),
             Catch::Contains("has tensor cell/b, which the model lacks"));
  ParamLayout renamed = cell_layout(3, 5);
  renamed.add("p", 5, 1, ParamKind::peephole);
  std::vector<double> room(static_cast<std::size_t>(renamed.size()));
  CHECK_THAT(error_of([&] {
               load_parameters<double>(path, {{"cell", renamed.tensors(), room}});
             }),
             Catch::Contains("has no tensor cell/p (it has: W, R, b)"));
  CHECK_THAT(error_of([&] {
               load_parameters<double>(path, {{"readout", cell.tensors(), target}});
             }),
             Catch::Contains("has no group 'readout' (it has: cell)"));
  CHECK_THAT(
      error_of([&] {
        save_parameters<double>(path, {"lstm", 3, 5, {}}, {{"cell", cell.tensors(), values}});
      }),
      Catch::Contains("already exists"));
  std::vector<double> short_values(3);
  CHECK_THAT(error_of([&] {
               save_parameters<double>((dir / "q.h5").string(), {"lstm", 3, 5, {}},
                                       {{"cell", cell.tensors(), short_values}});
             }),
             Catch::Contains("lies outside its 3 values"));
  CHECK_FALSE(fs::exists(dir / "q.h5"));

  write_file(dir / "results.h5", {0});
  CHECK_THAT(error_of([&] { inspect_parameters((dir / "results.h5").string()); }),
             Catch::Contains("not a cellzoo parameter file"));
  CHECK_THAT(error_of([&] { inspect_parameters((dir / "none.h5").string()); }),
             Catch::Contains("parameter file '") && Catch::Contains("does not exist"));
}
