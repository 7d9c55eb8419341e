// The hyperparameter table: defaults, validation errors, task options.
#include <catch2/catch.hpp>

#include "framework/train/hyperparameters.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::train;

namespace {
std::string error_of(const std::map<std::string, std::string>& settings) {
  try {
    resolve(settings);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("defaults resolve and every table entry has a value", "[train][hyper]") {
  const auto c = resolve({});
  CHECK(c.hidden == 64);
  CHECK(c.embed == -1);
  CHECK(c.bptt == 35);
  CHECK(c.data_seed == 1);
  CHECK(c.lr_decay == LrDecay::none);
  CHECK(c.values.size() == hyperparameter_table().size());
  for (const auto& spec : hyperparameter_table()) {
    INFO(spec.name);
    CHECK(!spec.meaning.empty());
    CHECK(c.values.count(spec.name) == 1);
  }
}

TEST_CASE("settings override defaults and are canonicalised", "[train][hyper]") {
  const auto c = resolve({{"hidden", "128.0"},
                          {"lr", "0.10"},
                          {"nesterov", "no"},
                          {"optimizer", "sgd"},
                          {"embed", "32"},
                          {"lr_decay", "plateau-halve"}});
  CHECK(c.hidden == 128);
  CHECK(c.lr == 0.1);
  CHECK(c.values.at("lr") == "0.1");
  CHECK(c.values.at("hidden") == "128");
  CHECK_FALSE(c.nesterov);
  CHECK(c.values.at("nesterov") == "false");
  CHECK(c.optimizer == OptimizerKind::sgd);
  CHECK(c.embed == 32);
  CHECK(c.lr_decay == LrDecay::plateau_halve);
}

TEST_CASE("unknown hyperparameter lists the valid keys", "[train][hyper]") {
  const auto msg = error_of({{"learning_rate", "0.1"}});
  CHECK_THAT(msg, Catch::Contains("learning_rate"));
  for (const auto& spec : hyperparameter_table()) CHECK_THAT(msg, Catch::Contains(spec.name));
}

TEST_CASE("bad values name the key, the value and what is allowed", "[train][hyper]") {
  CHECK_THAT(error_of({{"hidden", "0"}}),
             Catch::Contains("hidden=0") && Catch::Contains("integer in [1"));
  CHECK_THAT(error_of({{"hidden", "12.5"}}), Catch::Contains("hidden=12.5"));
  CHECK_THAT(error_of({{"lr", "fast"}}), Catch::Contains("lr=fast") && Catch::Contains("real"));
  CHECK_THAT(error_of({{"optimizer", "rmsprop"}}), Catch::Contains("sgd|adam"));
  CHECK_THAT(error_of({{"nesterov", "maybe"}}), Catch::Contains("true|false"));
  CHECK_THAT(error_of({{"momentum", "1.5"}}), Catch::Contains("momentum=1.5"));
  CHECK_THAT(error_of({{"embed", "big"}}), Catch::Contains("auto"));
  CHECK(error_of({{"lr", "nan"}}) != "");
}

TEST_CASE("task.* keys pass through as task options", "[train][hyper]") {
  const auto c = resolve({{"task.length", "100"}, {"task.data", "/x/y.json"}});
  CHECK(c.task_options.at("length") == "100");
  CHECK(c.task_options.at("data") == "/x/y.json");
  CHECK(c.values.count("task.length") == 0);
}

TEST_CASE("help lists every hyperparameter with its default", "[train][hyper]") {
  const auto help = hyperparameter_help();
  for (const auto& spec : hyperparameter_table())
    CHECK_THAT(help, Catch::Contains(spec.name + "=" + spec.default_value));
}
