// TaskRegistry: the registered names, unknown tasks and options, bad option values,
// duplicate registration, and the shape/determinism contract of every synthetic task.
#include <cmath>

#include "helpers.hpp"

using namespace cellzoo;
using namespace cellzoo::datasets;
using namespace cellzoo::datasets::testing;
using Catch::Matchers::Contains;

namespace {

// Small sizes keep the contract tests fast.
TaskOptions small(TaskOptions o = {}) {
  o.emplace("n_train", "40");
  o.emplace("n_valid", "10");
  o.emplace("n_test", "10");
  return o;
}

const std::vector<std::string> kSynthetic = {"adding",       "arithmetic",     "copy",
                                             "memorization", "temporal-order", "xml"};

}  // namespace

TEST_CASE("the built-in tasks are registered", "[datasets][registry]") {
  // Tripwire: a task added or dropped must update this list (and docs/tasks.md).
  const std::vector<std::string> expected = {"adding",         "arithmetic",   "chars",
                                             "copy",           "memorization", "music",
                                             "temporal-order", "words",        "xml"};
  CHECK(TaskRegistry::instance().names() == expected);
  for (const auto& name : expected) {
    const auto& e = TaskRegistry::instance().get(name);
    CHECK(e.name == name);
    CHECK(!e.description.empty());
    CHECK(!describe_options(e).empty());
  }
}

TEST_CASE("an unknown task lists the registered ones, sorted", "[datasets][registry]") {
  const auto msg = error_of([] { TaskRegistry::instance().get("addding"); });
  CHECK_THAT(msg, Contains("unknown task 'addding'"));
  CHECK_THAT(msg, Contains("adding, arithmetic, chars, copy, memorization, music, "
                           "temporal-order, words, xml"));
}

TEST_CASE("an unknown option lists the valid ones with defaults", "[datasets][registry]") {
  const auto msg = error_of([] {
    TaskRegistry::instance().build("adding", {{"lenght", "10"}}, 1);
  });
  CHECK_THAT(msg, Contains("task 'adding' has no option 'lenght'"));
  CHECK_THAT(msg, Contains("length (default 50)"));
  CHECK_THAT(msg, Contains("n_train (default 2000)"));
}

TEST_CASE("bad option values name the option", "[datasets][registry]") {
  auto& r = TaskRegistry::instance();
  auto msg = error_of([&] { r.build("adding", small({{"length", "ten"}}), 1); });
  CHECK_THAT(msg, Contains("option length='ten' is not an integer"));
  msg = error_of([&] { r.build("adding", small({{"length", "12x"}}), 1); });
  CHECK_THAT(msg, Contains("length='12x' is not an integer"));
  msg = error_of([&] { r.build("adding", small({{"length", "1"}}), 1); });
  CHECK_THAT(msg, Contains("option length=1 is out of range"));
  CHECK_THAT(msg, Contains("[2, 1000000]"));
  msg = error_of([&] { r.build("copy", small({{"n_train", "0"}}), 1); });
  CHECK_THAT(msg, Contains("n_train=0 is out of range"));
  msg = error_of([&] { r.build("temporal-order", small({{"variant", "c"}}), 1); });
  CHECK_THAT(msg, Contains("variant='c' is not one of a, b"));
  msg = error_of([&] { r.build("xml", small({{"close_p", "often"}}), 1); });
  CHECK_THAT(msg, Contains("close_p='often' is not a number"));
  msg = error_of([&] { r.build("arithmetic", small({{"distractor_p", "1.5"}}), 1); });
  CHECK_THAT(msg, Contains("distractor_p=1.5 is out of range"));
}

TEST_CASE("registering a task twice is an error", "[datasets][registry]") {
  TaskRegistry r;
  register_builtin_tasks(r);
  TaskEntry again = r.get("adding");
  CHECK_THAT(error_of([&] { r.add(again); }), Contains("task 'adding' is registered twice"));
}

TEST_CASE("every synthetic task builds with consistent shapes", "[datasets][contract]") {
  for (const auto& name : kSynthetic) {
    DYNAMIC_SECTION(name) {
      const TaskData d = TaskRegistry::instance().build(name, small(), 7);
      const TaskInfo& info = d.info;
      CHECK(info.name == name);
      CHECK(!info.stream);
      CHECK(d.train.size() == 40);
      CHECK(d.valid.size() == 10);
      CHECK(d.test.size() == 10);
      CHECK(info.input_size > 0);
      CHECK(info.output_size > 0);
      if (info.input_kind == InputKind::one_hot)
        CHECK(d.vocabulary.size() == static_cast<std::size_t>(info.input_size));
      for (Split split : {Split::train, Split::valid, Split::test})
        for (const Sequence& s : d.sequences(split)) {
          REQUIRE(s.length() > 0);
          double scored = 0;
          for (float w : s.weight) scored += w;
          CHECK(scored > 0);  // every sequence contributes to the loss
          if (info.input_kind == InputKind::one_hot) {
            CHECK(static_cast<Index>(s.input_tokens.size()) == s.length());
          } else {
            CHECK(s.input_dense.rows() == info.input_size);
            CHECK(s.input_dense.cols() == s.length());
          }
          if (info.loss == LossKind::softmax_xent) {
            CHECK(static_cast<Index>(s.target_tokens.size()) == s.length());
          } else {
            CHECK(s.target_dense.rows() == info.output_size);
            CHECK(s.target_dense.cols() == s.length());
          }
        }
      CHECK_NOTHROW(check_task_data(d));
    }
  }
}

TEST_CASE("synthetic tasks are deterministic in the seed", "[datasets][contract]") {
  for (const auto& name : kSynthetic) {
    DYNAMIC_SECTION(name) {
      const auto& r = TaskRegistry::instance();
      const TaskData a = r.build(name, small(), 11);
      const TaskData b = r.build(name, small(), 11);
      const TaskData c = r.build(name, small(), 12);
      CHECK(same(a.train, b.train));
      CHECK(same(a.valid, b.valid));
      CHECK(same(a.test, b.test));
      CHECK(!same(a.train, c.train));
      CHECK(!same(a.test, c.test));
      // Splits are independent streams: no split repeats another's first sequence.
      CHECK(!same(a.train.front(), a.valid.front()));
      CHECK(!same(a.valid.front(), a.test.front()));
      // ... and a split's size does not change the other splits' data.
      auto bigger = small();
      bigger["n_train"] = "55";
      const TaskData e = r.build(name, bigger, 11);
      CHECK(same(a.valid, e.valid));
      CHECK(same(a.test, e.test));
    }
  }
}

TEST_CASE("check_task_data rejects inconsistent data", "[datasets][contract]") {
  TaskData d = TaskRegistry::instance().build("copy", small(), 3);
  d.train[2].target_tokens[0] = 10;  // class out of range
  CHECK_THAT(error_of([&] { check_task_data(d); }), Contains("train[2] target class out of range"));
  d = TaskRegistry::instance().build("adding", small(), 3);
  d.valid[1].weight.pop_back();
  CHECK_THAT(error_of([&] { check_task_data(d); }), Contains("valid[1] dense input shape"));
}

TEST_CASE("the metric option every task takes", "[datasets][registry]") {
  auto& r = TaskRegistry::instance();
  const auto own = r.build("arithmetic", small(), 3);
  CHECK(own.info.metric == Metric::accuracy);
  const auto seq = r.build("arithmetic", small({{"metric", "sequence_accuracy"}}), 3);
  CHECK(seq.info.metric == Metric::sequence_accuracy);
  CHECK(std::isnan(seq.info.baseline));
  CHECK(seq.train.size() == own.train.size());  // the same data
  CHECK(seq.train[0].input_tokens == own.train[0].input_tokens);
  CHECK(r.build("xml", small({{"metric", "default"}}), 3).info.metric == Metric::accuracy);
  auto msg = error_of([&] { r.build("adding", small({{"metric", "accuracy"}}), 1); });
  CHECK_THAT(msg, Contains("option metric=accuracy"));
  CHECK_THAT(msg, Contains("classification"));
  msg = error_of([&] { r.build("copy", small({{"metric", "bleu"}}), 1); });
  CHECK_THAT(msg, Contains("metric=bleu is not one of default, accuracy, sequence_accuracy"));
  msg = error_of([&] { r.build("adding", small({{"metrics", "accuracy"}}), 1); });
  CHECK_THAT(msg, Contains("has no option 'metrics'"));
  CHECK_THAT(msg, Contains("of every task: metric"));
}
