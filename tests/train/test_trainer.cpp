// run_one: determinism, divergence, failure statuses, early stopping and the
// test-at-best-validation-epoch bookkeeping, truncated BPTT.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "fixtures.hpp"
#include "framework/train/trainer.hpp"

using namespace cellzoo;
using namespace cellzoo::train;
using datasets::LossKind;

namespace {

RunConfig config(const std::string& cell, std::map<std::string, std::string> settings,
                 std::uint64_t seed = 1) {
  return {cell, "test", resolve(settings), seed};
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

struct Recorder : TrainObserver {
  std::vector<EpochRecord> epochs;
  void on_epoch(const RunConfig&, const EpochRecord& r) override { epochs.push_back(r); }
};

}  // namespace

TEST_CASE("same seed gives bit-identical results, different seeds differ", "[train][trainer]") {
  const auto data = testing::random_dense_task(12, 3, 2, 3, 8, LossKind::mse, 21);
  const std::map<std::string, std::string> s{{"hidden", "8"},
                                             {"batch_size", "3"},
                                             {"max_epochs", "6"},
                                             {"input_noise", "0.1"},
                                             {"lr", "0.01"}};
  const auto a = run_one(config("rnn", s, 5), data);
  const auto b = run_one(config("rnn", s, 5), data);
  const auto c = run_one(config("rnn", s, 6), data);
  REQUIRE(a.status == "ok");
  REQUIRE(a.curve.size() == 6);
  REQUIRE(b.curve.size() == a.curve.size());
  for (std::size_t i = 0; i < a.curve.size(); ++i) {
    CHECK(same_bits(a.curve[i].train_loss, b.curve[i].train_loss));
    CHECK(same_bits(a.curve[i].valid_loss, b.curve[i].valid_loss));
    CHECK(same_bits(a.curve[i].valid_metric, b.curve[i].valid_metric));
  }
  CHECK(same_bits(a.test_metric, b.test_metric));
  CHECK(a.parameters == b.parameters);
  CHECK(a.best_epoch == b.best_epoch);
  CHECK_FALSE(same_bits(a.curve.back().train_loss, c.curve.back().train_loss));
}

TEST_CASE("a huge learning rate ends the run as diverged, without throwing", "[train][trainer]") {
  const auto data = testing::random_dense_task(8, 3, 2, 3, 6, LossKind::mse, 22);
  TrainResult r;
  REQUIRE_NOTHROW(r = run_one(config("rnn", {{"optimizer", "sgd"},
                                             {"lr", "1e30"},
                                             {"batch_size", "2"},
                                             {"hidden", "8"},
                                             {"max_epochs", "5"}}),
                              data));
  CHECK(r.status == "diverged");
  CHECK_THAT(r.error, Catch::Contains("epoch 1"));
  CHECK(r.epochs == 0);
  CHECK(std::isnan(r.test_metric));
}

TEST_CASE("a finite but huge loss ends the run as diverged (diverge_factor)", "[train][trainer]") {
  // Adam at lr = 1e6 keeps its losses finite (the step is bounded by lr) but enormous: the
  // run used to end ok, and its loss swallowed the report's means.
  const auto data = testing::random_dense_task(16, 3, 2, 3, 6, LossKind::mse, 24);
  const std::map<std::string, std::string> s{{"optimizer", "adam"}, {"lr", "1e6"},
                                             {"batch_size", "4"},   {"hidden", "8"},
                                             {"max_epochs", "3"},   {"patience", "0"}};
  auto off = s;
  off["diverge_factor"] = "0";
  const auto unchecked = run_one(config("rnn", off), data);
  REQUIRE(unchecked.status == "ok");  // what the rule is for: finite, huge
  REQUIRE(unchecked.curve.size() == 3);
  CHECK(unchecked.curve.front().valid_loss > 1e6);
  const auto r = run_one(config("rnn", s), data);
  CHECK(r.status == "diverged");
  CHECK_THAT(r.error, Catch::Contains("diverge_factor 1000") && Catch::Contains("initial loss") &&
                          Catch::Contains("after epoch 1"));
  // An ordinary run is not touched by the default.
  auto fine = s;
  fine["lr"] = "0.01";
  CHECK(run_one(config("rnn", fine), data).status == "ok");
  CHECK(resolve({}).diverge_factor == 1000);
}

TEST_CASE("failures, cancellation and the time budget become statuses", "[train][trainer]") {
  const auto data = testing::random_dense_task(8, 3, 2, 3, 6, LossKind::mse, 23);
  const auto unknown = run_one(config("no-such-cell", {}), data);
  CHECK(unknown.status == "failed");
  CHECK_THAT(unknown.error, Catch::Contains("no-such-cell"));

  auto empty = data;
  empty.valid.clear();
  const auto no_valid = run_one(config("rnn", {{"hidden", "4"}}), empty);
  CHECK(no_valid.status == "failed");
  CHECK_THAT(no_valid.error, Catch::Contains("valid"));

  std::atomic<bool> cancel{true};
  const auto cancelled = run_one(config("rnn", {{"hidden", "4"}}), data, nullptr, &cancel);
  CHECK(cancelled.status == "cancelled");

  const auto timeout = run_one(config("rnn", {{"hidden", "4"}, {"time_budget", "1e-9"}}), data);
  CHECK(timeout.status == "timeout");
  CHECK(std::isnan(timeout.valid_metric));
}

TEST_CASE("early stopping: patience, metric direction, max_epochs", "[train][trainer]") {
  SECTION("lower is better") {
    StoppingRule rule(resolve({{"patience", "3"}}), false);
    const double m[] = {5, 4, 4.5, 3, 3.5, 3.2, 3.1};
    const bool improved[] = {true, true, false, true, false, false, false};
    for (int e = 0; e < 7; ++e) {
      const auto d = rule.after_epoch(e + 1, m[e]);
      CHECK(d.improved == improved[e]);
      CHECK(d.stop == (e == 6));
    }
  }
  SECTION("higher is better") {
    StoppingRule rule(resolve({{"patience", "2"}}), true);
    CHECK(rule.after_epoch(1, 0.2).improved);
    CHECK(rule.after_epoch(2, 0.5).improved);
    CHECK_FALSE(rule.after_epoch(3, 0.4).improved);
    CHECK_FALSE(rule.after_epoch(3, std::nan("")).improved);
  }
  SECTION("max_epochs, patience 0 = never") {
    StoppingRule rule(resolve({{"patience", "0"}, {"max_epochs", "4"}}), false);
    for (int e = 1; e <= 3; ++e) CHECK_FALSE(rule.after_epoch(e, 1.0).stop);
    CHECK(rule.after_epoch(4, 1.0).stop);
  }
}

TEST_CASE("plateau-halve: halve before each of decay_epochs epochs, then stop",
          "[train][trainer]") {
  StoppingRule rule(resolve({{"lr", "1"},
                             {"lr_decay", "plateau-halve"},
                             {"decay_after", "2"},
                             {"decay_epochs", "3"},
                             {"patience", "0"}}),
                    false);
  // Epochs 3 and 4 do not improve -> the rate for epoch 5 is halved; the improvement at
  // epoch 5 does not restart anything; after epochs 5, 6, 7 at 1/2, 1/4, 1/8 it stops.
  const double m[] = {1, 0.5, 0.6, 0.7, 0.1, 0.2, 0.3};
  const double next_lr[] = {1, 1, 1, 0.5, 0.25, 0.125, 0.125};
  for (int e = 0; e < 7; ++e) {
    const auto d = rule.after_epoch(e + 1, m[e]);
    INFO("epoch " << e + 1);
    CHECK(d.lr == next_lr[e]);
    CHECK(d.stop == (e == 6));
  }
}

TEST_CASE("metrics are recorded at the best validation epoch", "[train][trainer]") {
  // Validation and test differ from train, so validation goes up again (overfitting).
  auto data = testing::random_dense_task(10, 3, 2, 3, 6, LossKind::mse, 24);
  const auto other = testing::random_dense_task(10, 3, 2, 3, 6, LossKind::mse, 25);
  data.valid = other.train;
  const auto third = testing::random_dense_task(10, 3, 2, 3, 6, LossKind::mse, 26);
  data.test = third.train;
  Recorder rec;
  const auto cfg = config("rnn", {{"hidden", "16"},
                                  {"lr", "0.03"},
                                  {"max_epochs", "40"},
                                  {"patience", "0"},
                                  {"batch_size", "5"}});
  const auto r = run_one(cfg, data, &rec);
  REQUIRE(r.status == "ok");
  REQUIRE(r.epochs == 40);
  REQUIRE(rec.epochs.size() == 40);
  REQUIRE(r.best_epoch >= 1);
  CHECK(r.best_epoch < 40);  // this data overfits: the best epoch is not the last
  const auto& best = r.curve[static_cast<std::size_t>(r.best_epoch - 1)];
  CHECK(best.valid_metric == r.valid_metric);
  CHECK(best.train_loss == r.train_loss);
  for (const auto& e : r.curve) CHECK(e.valid_metric >= r.valid_metric);
  // The saved parameters are the best epoch's: re-evaluating them reproduces the numbers.
  const auto v = evaluate(cfg, data, datasets::Split::valid, r.parameters);
  const auto t = evaluate(cfg, data, datasets::Split::test, r.parameters);
  CHECK(v.metric == r.valid_metric);
  CHECK(t.metric == r.test_metric);
  CHECK(t.loss == r.test_loss);
  CHECK(r.n_params == r.parameters.size());
}

TEST_CASE("truncated BPTT carries the state: windowed evaluation equals one long pass",
          "[train][trainer][tbptt]") {
  const auto data = testing::periodic_stream_task(400);
  auto short_windows = config("rnn", {{"hidden", "6"}, {"batch_size", "3"}, {"bptt", "4"}});
  auto one_window = config("rnn", {{"hidden", "6"}, {"batch_size", "3"}, {"bptt", "1000"}});
  Model<float> model(cells::CellRegistry::instance().get("rnn"), data.info, short_windows.hyper);
  Vector<float> theta(model.parameter_count());
  Rng rng(3);
  model.initialize(theta, rng);
  theta *= 3.0f;  // strong recurrence, so a dropped state would show
  const auto a = evaluate(short_windows, data, datasets::Split::valid, theta);
  const auto b = evaluate(one_window, data, datasets::Split::valid, theta);
  CHECK(a.stats.scored == b.stats.scored);
  CHECK(a.loss == Approx(b.loss).epsilon(1e-5));
  CHECK(a.metric == b.metric);
}

TEST_CASE("truncated BPTT learns a dependency that crosses window boundaries",
          "[train][trainer][tbptt]") {
  // Windows of 4 over a period of 6 start at a '0' whose successor is set by the token
  // before it: with a cold state at every window the best accuracy is 1 - (1/4)(2/3).
  const auto data = testing::periodic_stream_task(1200);
  const auto r = run_one(config("rnn", {{"hidden", "16"},
                                        {"batch_size", "4"},
                                        {"bptt", "4"},
                                        {"lr", "0.03"},
                                        {"max_epochs", "30"},
                                        {"patience", "0"}}),
                         data);
  REQUIRE(r.status == "ok");
  CHECK(r.valid_metric > 0.97);
}

TEST_CASE("task.fresh trains on a new training set every epoch", "[train][trainer][fresh]") {
  const datasets::TaskOptions base{
      {"length", "6"}, {"n_train", "24"}, {"n_valid", "8"}, {"n_test", "8"}};
  auto with_fresh = base;
  with_fresh["fresh"] = "true";
  const auto plain = datasets::TaskRegistry::instance().build("adding", base, 3);
  const auto fresh = datasets::TaskRegistry::instance().build("adding", with_fresh, 3);
  const std::map<std::string, std::string> s{
      {"hidden", "4"}, {"batch_size", "8"}, {"max_epochs", "3"}, {"patience", "0"}};
  const auto a = run_one(config("gru", s), plain);
  const auto b = run_one(config("gru", s), fresh);
  const auto c = run_one(config("gru", s), fresh);
  REQUIRE(a.curve.size() == 3);
  REQUIRE(b.curve.size() == 3);
  // Epoch 1 is the same data; from epoch 2 on the training sets differ (so do the losses),
  // while the validation set is the same one.
  CHECK(same_bits(a.curve[0].train_loss, b.curve[0].train_loss));
  CHECK(same_bits(a.curve[0].valid_loss, b.curve[0].valid_loss));
  CHECK_FALSE(same_bits(a.curve[1].train_loss, b.curve[1].train_loss));
  for (std::size_t e = 0; e < 3; ++e) {  // deterministic
    CHECK(same_bits(b.curve[e].train_loss, c.curve[e].train_loss));
    CHECK(same_bits(b.curve[e].valid_loss, c.curve[e].valid_loss));
  }
}
