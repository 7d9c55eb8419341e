// The whole model's gradient (input layer, cell, readout, loss) against central finite
// differences in double: every loss, every input layer, variable lengths, masked steps.
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "framework/train/model.hpp"

using namespace cellzoo;
using namespace cellzoo::train;
using datasets::LossKind;

namespace {

// Relative 2-norm error between the analytic and the numeric gradient of one batch.
double model_gradient_error(const std::string& cell, const datasets::TaskData& data,
                            TrainConfig hyper, InputMode expect_mode) {
  const auto entry = cells::CellRegistry::instance().get(cell);
  Model<double> model(entry, data.info, hyper);
  REQUIRE(model.input_mode() == expect_mode);
  Vector<double> theta(model.parameter_count());
  Rng rng(7);
  model.initialize(theta, rng);
  // Random biases too, so no tensor's gradient is trivially structured.
  for (Index i = 0; i < theta.size(); ++i) theta[i] += 0.1 * rng.normal();
  std::vector<Index> members;
  for (Index i = 0; i < static_cast<Index>(data.train.size()); ++i) members.push_back(i);
  const Batch batch = make_batch(data.train, members, data.info);
  REQUIRE_FALSE(batch.layout.all_full());  // variable lengths exercised

  Vector<double> grad(theta.size());
  model.forward(theta, batch, nullptr, nullptr, nullptr, nullptr, 0, hyper.reduction);
  model.backward(theta, batch, grad);
  Vector<double> numeric(theta.size());
  const double eps = 1e-6;
  for (Index i = 0; i < theta.size(); ++i) {
    const double keep = theta[i];
    theta[i] = keep + eps;
    const double up =
        model.forward(theta, batch, nullptr, nullptr, nullptr, nullptr, 0, hyper.reduction);
    theta[i] = keep - eps;
    const double down =
        model.forward(theta, batch, nullptr, nullptr, nullptr, nullptr, 0, hyper.reduction);
    theta[i] = keep;
    numeric[i] = (up - down) / (2 * eps);
  }
  REQUIRE(grad.norm() > 1e-3);
  // Every tensor gets a gradient (nothing silently dropped).
  for (const auto& t : model.tensors()) {
    INFO(t.name);
    CHECK(numeric.segment(t.offset, t.size()).norm() > 0);
  }
  return (grad - numeric).norm() / std::max(grad.norm(), numeric.norm());
}

}  // namespace

TEST_CASE("model gradient: mse with dense inputs", "[train][model][gradient]") {
  const auto data = testing::random_dense_task(4, 3, 2, 2, 6, LossKind::mse, 11);
  auto hyper = resolve({{"hidden", "5"}, {"embed", "0"}});
  CHECK(model_gradient_error("rnn", data, hyper, InputMode::dense) < 1e-7);
  hyper = resolve({{"hidden", "5"}, {"embed", "0"}, {"reduction", "sequence"}});
  CHECK(model_gradient_error("rnn", data, hyper, InputMode::dense) < 1e-7);
}

TEST_CASE("model gradient: Bernoulli cross-entropy through an input projection",
          "[train][model][gradient]") {
  const auto data = testing::random_dense_task(4, 3, 4, 2, 6, LossKind::bernoulli_xent, 12);
  const auto hyper = resolve({{"hidden", "5"}, {"embed", "4"}});
  CHECK(model_gradient_error("rnn", data, hyper, InputMode::projection) < 1e-7);
}

TEST_CASE("model gradient: softmax with one-hot and embedded tokens", "[train][model][gradient]") {
  const auto data = testing::random_token_task(4, 6, 5, 2, 7, 13);
  CHECK(model_gradient_error("rnn", data, resolve({{"hidden", "5"}}), InputMode::one_hot) < 1e-7);
  CHECK(model_gradient_error("rnn", data, resolve({{"hidden", "5"}, {"embed", "3"}}),
                             InputMode::embedding) < 1e-7);
}

TEST_CASE("model gradient: every registered cell, embedded tokens", "[train][model][gradient]") {
  const auto data = testing::random_token_task(3, 6, 4, 2, 5, 14);
  const auto& registry = cells::CellRegistry::instance();
  for (const auto& name : registry.names()) {
    DYNAMIC_SECTION(name) {
      // embed=hidden suits square-input cells too.
      CHECK(model_gradient_error(name, data, resolve({{"hidden", "4"}, {"embed", "4"}}),
                                 InputMode::embedding) < 1e-6);
    }
  }
}

TEST_CASE("embed=auto picks the input layer by the documented rule", "[train][model]") {
  cells::CellInfo plain{"rnn", "rnn", "", "", false}, square{"mut1", "mut", "", "", true};
  datasets::TaskInfo small, large, dense;
  small.input_kind = large.input_kind = datasets::InputKind::one_hot;
  small.input_size = 50;
  large.input_size = 10000;
  dense.input_kind = datasets::InputKind::dense;
  dense.input_size = 88;
  Index in = 0;
  CHECK(choose_input_mode(small, plain, -1, 64, &in) == InputMode::one_hot);
  CHECK(in == 50);
  CHECK(choose_input_mode(large, plain, -1, 64, &in) == InputMode::embedding);
  CHECK(in == 64);
  CHECK(choose_input_mode(small, square, -1, 64, &in) == InputMode::embedding);
  CHECK(choose_input_mode(dense, plain, -1, 64, &in) == InputMode::dense);
  CHECK(in == 88);
  CHECK(choose_input_mode(dense, square, -1, 64, &in) == InputMode::projection);
  CHECK(in == 64);
  CHECK(choose_input_mode(dense, square, -1, 88, &in) == InputMode::dense);
  CHECK(choose_input_mode(small, plain, 16, 64, &in) == InputMode::embedding);
  CHECK(in == 16);
  CHECK_THROWS_WITH(choose_input_mode(dense, square, 0, 64, &in), Catch::Contains("embed=0"));
}
