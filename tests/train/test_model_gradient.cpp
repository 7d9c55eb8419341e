// The whole model's gradient (input layer, cell, readout, loss) against central finite
// differences in double: every loss, every input layer, variable lengths, masked steps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include "fixtures.hpp"
#include "framework/train/model.hpp"

using namespace cellzoo;
using namespace cellzoo::train;
using datasets::LossKind;

namespace {

// Relative 2-norm error between the analytic and the numeric gradient of one batch.
// With a dropout seed, every forward draws the same training masks (a fresh Rng of that
// seed), so the loss is a fixed function of theta.
double model_gradient_error(const std::string& cell, const datasets::TaskData& data,
                            TrainConfig hyper, InputMode expect_mode,
                            std::optional<std::uint64_t> dropout_seed = std::nullopt) {
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

  auto forward = [&](const Vector<double>& th) {
    std::optional<Rng> masks;
    if (dropout_seed) masks.emplace(*dropout_seed);
    return model.forward(th, batch, nullptr, nullptr, nullptr,
                         {.reduction = hyper.reduction, .dropout_rng = masks ? &*masks : nullptr});
  };
  Vector<double> grad(theta.size());
  forward(theta);
  model.backward(theta, batch, grad);
  Vector<double> numeric(theta.size());
  const double eps = 1e-6;
  for (Index i = 0; i < theta.size(); ++i) {
    const double keep = theta[i];
    theta[i] = keep + eps;
    const double up = forward(theta);
    theta[i] = keep - eps;
    const double down = forward(theta);
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

TEST_CASE("model gradient: stacked layers with training dropout masks",
          "[train][model][gradient][stack]") {
  const auto data = testing::random_token_task(3, 6, 4, 2, 5, 15);
  for (const std::string cell : {"lstm", "gru", "mut1", "rnn"}) {
    DYNAMIC_SECTION(cell) {
      const auto hyper = resolve({{"hidden", "4"}, {"embed", "4"}, {"layers", "2"}});
      CHECK(model_gradient_error(cell, data, hyper, InputMode::embedding) < 1e-6);
      const auto dropped =
          resolve({{"hidden", "4"}, {"embed", "4"}, {"layers", "3"}, {"dropout", "0.3"}});
      CHECK(model_gradient_error(cell, data, dropped, InputMode::embedding, 5) < 1e-6);
    }
  }
}

TEST_CASE("model: layers name the parameter groups, dropout only with a mask stream",
          "[train][model][stack]") {
  const auto data = testing::random_token_task(3, 6, 4, 2, 5, 16);
  const auto& lstm = cells::CellRegistry::instance().get("lstm");
  const auto one = resolve({{"hidden", "4"}});
  const auto three = resolve({{"hidden", "4"}, {"layers", "3"}, {"dropout", "0.5"}});
  Model<double> m1(lstm, data.info, one), m3(lstm, data.info, three);
  std::vector<std::string> groups1, groups3;
  for (const auto& t : m1.tensors()) groups1.push_back(t.group + "/" + t.name);
  for (const auto& t : m3.tensors()) groups3.push_back(t.group + "/" + t.name);
  CHECK(groups1.front() == "cell/W");
  CHECK(std::count(groups3.begin(), groups3.end(), "cell_0/W") == 1);
  CHECK(std::count(groups3.begin(), groups3.end(), "cell_2/p_o") == 1);
  CHECK(std::count(groups3.begin(), groups3.end(), "cell/W") == 0);
  // lstm: 4H(I+H+1) + 3H per layer; layers 2 and 3 read I = H = 4.
  const Index layer1 = 4 * 4 * (m1.cell_input_size() + 4 + 1) + 3 * 4;
  const Index upper = 4 * 4 * (4 + 4 + 1) + 3 * 4;
  CHECK(m3.parameter_count() == m1.parameter_count() + 2 * upper);
  CHECK(m3.cell().layer(0).parameter_count() == layer1);
  CHECK(m3.state_count() == 6);

  // Evaluation passes (no mask stream) are deterministic and equal with or without
  // dropout set; a training pass with masks differs.
  Vector<double> theta(m3.parameter_count());
  Rng rng(3);
  m3.initialize(theta, rng);
  std::vector<Index> members;
  for (Index i = 0; i < static_cast<Index>(data.train.size()); ++i) members.push_back(i);
  const Batch batch = make_batch(data.train, members, data.info);
  Model<double> m3_plain(lstm, data.info, resolve({{"hidden", "4"}, {"layers", "3"}}));
  const double eval = m3.forward(theta, batch, nullptr, nullptr, nullptr);
  CHECK(eval == m3_plain.forward(theta, batch, nullptr, nullptr, nullptr));
  Rng masks(9);
  const double train = m3.forward(theta, batch, nullptr, nullptr, nullptr, {.dropout_rng = &masks});
  CHECK(train != eval);
  Rng same(9);
  CHECK(train == m3.forward(theta, batch, nullptr, nullptr, nullptr, {.dropout_rng = &same}));
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
