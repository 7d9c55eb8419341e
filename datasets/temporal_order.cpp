// temporal-order: Hochreiter & Schmidhuber 1997, Experiments 6a and 6b (papers.md §4.3).
//
// Inputs are one-hot over 8 symbols, ids 0..7 = a, b, c, d, B, E, X, Y. Per sequence:
//   length L uniform on [100, 110]; step 1 is B, step L is E;
//   6a (variant=a): at t1 uniform on [10, 20] and t2 on [50, 60] the symbol is X or Y
//                   (each 1/2); 4 classes XX, XY, YX, YY = 0..3;
//   6b (variant=b): t1 on [10, 20], t2 on [33, 43], t3 on [66, 76]; 8 classes XXX..YYY
//                   = 0..7 (X = 0, Y = 1, first position most significant);
//   every other step is uniform on {a, b, c, d}.
// Positions are 1-based as in the paper (step t is index t-1). The class is the target at
// the last step only (weight 1 there, target -1 and weight 0 elsewhere). Softmax loss,
// metric accuracy, baseline 1/4 (6a) or 1/8 (6b) for guessing.
#include <array>

#include "datasets/task_util.hpp"

namespace cellzoo::datasets {

void register_task_temporal_order(TaskRegistry& registry) {
  TaskEntry e;
  e.name = "temporal-order";
  e.description = "temporal order: classify the order of X/Y events (Hochreiter 1997, Exp. 6)";
  e.options = {
      {"variant", {"a", "a: two events, 4 classes (6a); b: three events, 8 classes (6b)"}}};
  for (auto& o : size_options(2000, 500, 500)) e.options.push_back(o);
  e.build = [](const TaskOptions& options, std::uint64_t seed) {
    TaskData data;
    TaskInfo& info = data.info;
    info.name = "temporal-order";
    const bool b = option_choice(options, info.name, "variant", {"a", "b"}) == "b";
    info.input_kind = InputKind::one_hot;
    info.input_size = 8;
    info.output_size = b ? 8 : 4;
    info.loss = LossKind::softmax_xent;
    info.metric = Metric::accuracy;
    info.baseline = 1.0 / static_cast<double>(info.output_size);
    info.description = std::string("temporal order, experiment 6") + (b ? "b" : "a");
    data.vocabulary = {"a", "b", "c", "d", "B", "E", "X", "Y"};
    // 1-based ranges [lo, hi] of the relevant positions.
    using Ranges = std::vector<std::array<int, 2>>;
    const Ranges ranges = b ? Ranges{{10, 20}, {33, 43}, {66, 76}} : Ranges{{10, 20}, {50, 60}};
    generate_splits(data, options, seed, [ranges](Rng& rng) {
      const auto L = static_cast<std::size_t>(rng.between(100, 110));
      Sequence s;
      s.input_tokens.resize(L);
      for (auto& tok : s.input_tokens) tok = static_cast<int>(rng.below(4));
      s.input_tokens.front() = 4;  // B
      s.input_tokens.back() = 5;   // E
      int label = 0;
      for (const auto& [lo, hi] : ranges) {
        const auto pos = static_cast<std::size_t>(rng.between(lo, hi)) - 1;
        const int y = static_cast<int>(rng.below(2));
        s.input_tokens[pos] = 6 + y;  // X or Y
        label = 2 * label + y;
      }
      s.target_tokens.assign(L, -1);
      s.target_tokens.back() = label;
      s.weight.assign(L, 0.0f);
      s.weight.back() = 1;
      return s;
    });
    return data;
  };
  registry.add(std::move(e));
}

}  // namespace cellzoo::datasets
