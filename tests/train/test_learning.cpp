// Learning tests with fixed seeds and epoch budgets: every cell can overfit a tiny data
// set, and an LSTM solves the adding problem where a tanh RNN stays near the baseline.
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "framework/train/trainer.hpp"

using namespace cellzoo;
using namespace cellzoo::train;

TEST_CASE("every registered cell drives a tiny data set's training loss towards zero",
          "[train][learning]") {
  const auto data = testing::random_dense_task(6, 3, 2, 3, 6, datasets::LossKind::mse, 31);
  const auto& registry = cells::CellRegistry::instance();
  for (const auto& name : registry.names()) {
    DYNAMIC_SECTION(name) {
      const RunConfig cfg{name, "tiny",
                          resolve({{"hidden", "16"},
                                   {"lr", "0.02"},
                                   {"batch_size", "6"},
                                   {"max_epochs", "400"},
                                   {"patience", "0"}}),
                          1};
      const auto r = run_one(cfg, data);
      REQUIRE(r.status == "ok");
      const double first = r.curve.front().train_loss;
      INFO(name << ": first-epoch loss " << first << ", best " << r.train_loss);
      CHECK(r.valid_loss < 0.02 * first);
      CHECK(r.valid_loss < 0.02);
    }
  }
}

TEST_CASE("lstm solves the adding problem where rnn stays near the baseline",
          "[train][learning][adding]") {
  const auto data = testing::adding_task(2000, 50, 41);
  // T = 50, 20 epochs of 63 Adam steps: the LSTM (forget bias 1) leaves the plateau
  // around epoch 10 for seeds 1-4 and reaches an mse of about 5e-4; the RNN stays at ~0.16.
  const auto settings = std::map<std::string, std::string>{
      {"hidden", "32"},     {"lr", "0.01"},    {"batch_size", "32"},
      {"max_epochs", "20"}, {"patience", "0"}, {"forget_bias", "1"}};
  const auto lstm = run_one({"lstm", "adding", resolve(settings), 1}, data);
  const auto rnn = run_one({"rnn", "adding", resolve(settings), 1}, data);
  INFO("lstm test mse " << lstm.test_metric << " in " << lstm.wall_seconds << " s; rnn "
                        << rnn.test_metric << " in " << rnn.wall_seconds << " s");
  REQUIRE(lstm.status == "ok");
  REQUIRE(rnn.status == "ok");
  CHECK(lstm.test_metric < 0.1 * data.info.baseline);
  CHECK(rnn.test_metric > 0.5 * data.info.baseline);
}
