// Cell plugins (framework/plugins/loader.hpp, framework/cells/plugin.hpp): the example
// plugin, built out of tree against the installed SDK by the plugin_example fixture
// (build_example.cmake), loads, equals its cell-language twin and passes the gradient
// check; every kind of bad plugin is one clear error naming the file and registers
// nothing. The CLI, sweep and results-file side is tests/python/test_plugins.py.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "framework/cells/gradcheck.hpp"
#include "framework/lang/lang_cell.hpp"
#include "framework/plugins/loader.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::cells;
namespace fs = std::filesystem;

namespace {

const std::string kExample = CELLZOO_EXAMPLE_PLUGIN;

std::string bad(const std::string& name) {
  return std::string(CELLZOO_TEST_PLUGINS) + "/bad-" + name + ".so";
}

std::string error_of(const std::string& path) {
  try {
    plugins::load_plugin(path);
  } catch (const Error& e) {
    return std::string(e.what()) + " | hint: " + e.hint();
  }
  return "(no error)";
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(CELLZOO_BINARY_DIR) / "tests" / "plugin-scratch" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("the example plugin loads and says where its cell comes from", "[plugins]") {
  REQUIRE(fs::exists(kExample));
  auto& registry = CellRegistry::instance();
  const auto& p = plugins::load_plugin(kExample);
  CHECK(p.path == fs::canonical(kExample).string());
  CHECK(p.cells == std::vector<std::string>{"mgu"});
  CHECK(p.hash.size() == 32);
  CHECK(p.hash == plugins::file_hash(kExample));
  CHECK(p.identity == plugins::host_identity());
  REQUIRE(registry.contains("mgu"));
  const auto entry = registry.get("mgu");
  REQUIRE(plugins::plugin_of("mgu") != nullptr);
  CHECK(plugins::plugin_of("mgu")->path == p.path);
  CHECK(plugins::plugin_of("lstm") == nullptr);
  // The same file again, by another spelling of its path: nothing new, no clash.
  const auto& again =
      plugins::load_plugin((fs::path(kExample).parent_path() / "." / "libmgu.so").string());
  CHECK(&again == &p);
  CHECK(plugins::loaded_plugins().size() == 1);

  const auto cell = entry.make<float>(3, 4);
  CHECK(cell->name() == "mgu");
  CHECK(cell->parameter_count() == 2 * 4 * (3 + 4 + 1));
}

TEST_CASE("a copy of a loaded plugin clashes with it", "[plugins]") {
  plugins::load_plugin(kExample);
  const fs::path dir = fresh_dir("copy");
  fs::copy_file(kExample, dir / "libmgu-copy.so");
  const auto error = error_of((dir / "libmgu-copy.so").string());
  CHECK_THAT(error, Catch::Contains("libmgu-copy.so' registers cell 'mgu', which is already a "
                                    "cell of plugin '" +
                                    fs::canonical(kExample).string()) &&
                        Catch::Contains("rename the cell"));
}

TEST_CASE("the example plugin's cell equals its cell-language twin", "[plugins][twin]") {
  plugins::load_plugin(kExample);
  const auto plugin = CellRegistry::instance().get("mgu");
  const std::string twin_name =
      "file:" + std::string(CELLZOO_SOURCE_DIR) + "/examples/plugins/mgu/mgu.cell";
  const auto twin = lang::make_entry(lang::load_cell(twin_name), twin_name);
  const Index I = 3, H = 4;
  auto a = plugin.make<double>(I, H);
  auto b = twin.make<double>(I, H);
  REQUIRE(a->parameter_count() == b->parameter_count());

  // Where each tensor of the twin sits in the plugin's theta: (tensor, first row).
  const std::map<std::string, std::pair<std::string, Index>> twin_to_plugin = {
      {"W.f.x", {"W", 0}},     {"W.n.x", {"W", H}}, {"W.f.h", {"R_f", 0}},
      {"W.n.f*h", {"R_n", 0}}, {"b.f", {"b", 0}},   {"b.n", {"b", H}}};
  Rng rng(3);
  Vector<double> theta_a(a->parameter_count()), theta_b(b->parameter_count());
  for (Index i = 0; i < theta_a.size(); ++i) theta_a[i] = rng.uniform(-0.6, 0.6);
  std::vector<Index> index(static_cast<std::size_t>(theta_b.size()));  // twin -> plugin
  REQUIRE(b->layout().tensors().size() == twin_to_plugin.size());
  for (const auto& t : b->layout().tensors()) {
    INFO("twin tensor " << t.name);
    REQUIRE(twin_to_plugin.count(t.name));
    const auto& [name, row0] = twin_to_plugin.at(t.name);
    const auto& p = a->layout().find(name);
    for (Index c = 0; c < t.cols; ++c)
      for (Index r = 0; r < t.rows; ++r)
        index[static_cast<std::size_t>(t.offset + c * t.rows + r)] =
            p.offset + c * p.rows + row0 + r;
  }
  for (Index i = 0; i < theta_b.size(); ++i)
    theta_b[i] = theta_a[index[static_cast<std::size_t>(i)]];

  const auto seq = SequenceLayout::from_lengths({5, 5, 3, 1});
  Matrix<double> x(I, seq.columns()), dh(H, seq.columns());
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(-1, 1);
  for (Index i = 0; i < dh.size(); ++i) dh.data()[i] = rng.uniform(-1, 1);
  CellState<double> initial{Matrix<double>::Constant(H, seq.batch(), 0.25)};
  Matrix<double> ha(H, seq.columns()), hb(H, seq.columns());
  CellState<double> fa, fb;
  a->forward(theta_a, x, seq, &initial, ha, &fa);
  b->forward(theta_b, x, seq, &initial, hb, &fb);
  CHECK(ha.cwiseAbs().maxCoeff() > 1e-2);
  CHECK((ha - hb).cwiseAbs().maxCoeff() < 1e-12);
  REQUIRE(fa.size() == fb.size());
  CHECK((fa[0] - fb[0]).cwiseAbs().maxCoeff() < 1e-12);

  Vector<double> ga(theta_a.size()), gb(theta_b.size());
  Matrix<double> dxa, dxb;
  a->backward(theta_a, x, seq, dh, ga, &dxa);
  b->backward(theta_b, x, seq, dh, gb, &dxb);
  CHECK((dxa - dxb).cwiseAbs().maxCoeff() < 1e-12);
  double worst = 0;
  for (Index i = 0; i < gb.size(); ++i)
    worst = std::max(worst, std::abs(gb[i] - ga[index[static_cast<std::size_t>(i)]]));
  CHECK(worst < 1e-12);

  // The same initialisation rule, forget-gate bias included.
  InitOptions init;
  init.forget_bias = 1.0;
  Rng r1(5);
  a->initialize(theta_a, r1, init);
  for (Index i = 0; i < H; ++i) CHECK(theta_a[a->layout().find("b").offset + i] == 1.0);
  for (Index i = H; i < 2 * H; ++i) CHECK(theta_a[a->layout().find("b").offset + i] == 0.0);
}

TEST_CASE("the example plugin's cell passes the gradient check", "[plugins][gradcheck]") {
  plugins::load_plugin(kExample);
  const auto entry = CellRegistry::instance().get("mgu");
  const auto r = gradcheck(entry, default_gradcheck_problems(entry.info.square_input));
  INFO("worst tensor " << r.worst_tensor << ", error " << r.max_error);
  CHECK(r.max_error < 1e-7);
}

TEST_CASE("bad plugins are refused with one error naming the file", "[plugins]") {
  const auto& registry = CellRegistry::instance();
  const auto names_before = registry.names();

  CHECK_THAT(error_of("/nonexistent/libnothing.so"),
             Catch::Contains("plugin '/nonexistent/libnothing.so' does not exist"));
  CHECK_THAT(error_of(CELLZOO_TEST_PLUGINS), Catch::Contains("is a directory"));

  const fs::path dir = fresh_dir("bad");
  std::ofstream(dir / "text.so") << "not a library\n";
  CHECK_THAT(error_of((dir / "text.so").string()),
             Catch::Contains("cannot load plugin '" + (dir / "text.so").string() + "'") &&
                 Catch::Contains("docs/plugins.md"));

  CHECK_THAT(error_of(bad("no-entry")),
             Catch::Contains("bad-no-entry.so' is a shared library but not a cellzoo plugin") &&
                 Catch::Contains("CELLZOO_PLUGIN"));
  // Both identities, and how to rebuild.
  CHECK_THAT(error_of(bad("other-sdk")),
             Catch::Contains("bad-other-sdk.so' was built against cellzoo 0.0.1 (sdk "
                             "000000000000; Eigen 3.3.9, 16-byte alignment), but this is " +
                             std::string(plugins::host_identity())) &&
                 Catch::Contains("cmake --install"));
  CHECK_THAT(error_of(bad("throws")),
             Catch::Contains("bad-throws.so' failed while registering its cells: no weights "
                             "file for half-registered (hint: set HALF_WEIGHTS)"));
  CHECK_THAT(error_of(bad("clash")),
             Catch::Contains("bad-clash.so' registers cell 'lstm', which is already a built-in "
                             "cell"));
  CHECK_THAT(error_of(bad("empty")), Catch::Contains("bad-empty.so' registered no cells"));
  CHECK_THAT(error_of(bad("bad-name")),
             Catch::Contains("bad-bad-name.so' registers a cell named 'my/cell'"));

  // The real identity check: the plugin's own Eigen alignment, not a hand-written string.
  if (std::string(plugins::host_identity()).find(" 16-byte alignment") == std::string::npos)
    CHECK_THAT(error_of(bad("narrow-simd")),
               Catch::Contains("bad-narrow-simd.so' was built against cellzoo") &&
                   Catch::Contains("16-byte alignment), but this is ") &&
                   Catch::Contains(plugins::host_identity()));
  else
    WARN("this cellzoo is built for SSE2 only: a plugin compiled without -march=native matches it");

  // None of them added a cell or counts as loaded.
  CHECK(registry.names() == names_before);
  CHECK_FALSE(registry.contains("half-registered"));
  for (const auto& p : plugins::loaded_plugins()) CHECK(p.path.find("bad-") == std::string::npos);
  // A failed load can be retried and fails the same way (nothing half-remembered).
  CHECK_THAT(error_of(bad("throws")), Catch::Contains("failed while registering"));
}

TEST_CASE("CELLZOO_PLUGIN_PATH lists files and directories", "[plugins]") {
  const fs::path dir = fresh_dir("env");
  std::ofstream(dir / "b.so") << "x";
  std::ofstream(dir / "a.so") << "x";
  std::ofstream(dir / "notes.txt") << "x";
  const std::string value = "/some/lib.so::" + dir.string();
  ::setenv("CELLZOO_PLUGIN_PATH", value.c_str(), 1);
  const auto paths = plugins::environment_plugins();
  ::unsetenv("CELLZOO_PLUGIN_PATH");
  CHECK(paths ==
        std::vector<std::string>{"/some/lib.so", (dir / "a.so").string(), (dir / "b.so").string()});
  CHECK(plugins::environment_plugins().empty());
  // An error from the environment says so.
  ::setenv("CELLZOO_PLUGIN_PATH", "/nonexistent/x.so", 1);
  std::string error;
  try {
    plugins::load_plugins({});
  } catch (const Error& e) {
    error = e.what();
  }
  ::unsetenv("CELLZOO_PLUGIN_PATH");
  CHECK_THAT(error,
             Catch::Contains("/nonexistent/x.so' does not exist (from CELLZOO_PLUGIN_PATH)"));
}

TEST_CASE("the same cell code computes the same bits as a plugin and built in", "[plugins]") {
  // gru-ra's source compiled into a plugin (fixtures/gru_ra_plugin.cpp): cellzoo::sdk
  // gives it cellzoo's flags, so float results are bit for bit the built-in's.
  plugins::load_plugin(std::string(CELLZOO_TEST_PLUGINS) + "/gru-ra-plugin.so");
  const auto& registry = CellRegistry::instance();
  const Index I = 5, H = 16;
  auto builtin = registry.make<float>("gru-ra", I, H);
  auto plugin = registry.make<float>("gru-ra-plugin", I, H);
  REQUIRE(plugin->parameter_count() == builtin->parameter_count());
  Rng rng(7);
  Vector<float> theta(builtin->parameter_count());
  builtin->initialize(theta, rng, InitOptions{});
  const auto seq = SequenceLayout::from_lengths({9, 9, 6, 2});
  Matrix<float> x(I, seq.columns()), dh(H, seq.columns());
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1, 1));
  for (Index i = 0; i < dh.size(); ++i) dh.data()[i] = static_cast<float>(rng.uniform(-1, 1));
  Matrix<float> ha(H, seq.columns()), hb(H, seq.columns()), dxa, dxb;
  CellState<float> fa, fb;
  Vector<float> ga(theta.size()), gb(theta.size());
  builtin->forward(theta, x, seq, nullptr, ha, &fa);
  plugin->forward(theta, x, seq, nullptr, hb, &fb);
  builtin->backward(theta, x, seq, dh, ga, &dxa);
  plugin->backward(theta, x, seq, dh, gb, &dxb);
  CHECK(ha.cwiseAbs().maxCoeff() > 1e-2f);
  CHECK(ha == hb);
  CHECK(fa[0] == fb[0]);
  CHECK(ga == gb);
  CHECK(dxa == dxb);
}
