// adding: the adding problem, modern variant (Le, Jaitly & Hinton 2015; Arjovsky, Shah &
// Bengio 2016; papers.md §4.1), not Hochreiter & Schmidhuber's 1997 original.
//
// Generator, per sequence of T = `length` steps (every sequence has the same length):
//   channel 0: T values i.i.d. U[0, 1)
//   channel 1: zero except two 1s, one at a position uniform in the first half
//              [0, floor(T/2)) and one uniform in the second half [floor(T/2), T)
//   target:    the sum of the two marked values, at the LAST step only (weight 1 there,
//              0 at every other step; the other target entries are 0 and unscored)
// Loss MSE, metric mse. Baseline: always predicting the mean E[U1 + U2] = 1 scores
// Var(U1 + U2) = 2/12 = 1/6 ~ 0.1667 exactly (papers quote ~0.167-0.177 empirically).
// mse_tolerance 0.04 is H&S's "solved" threshold, for an accuracy view of the task.
#include "datasets/task_util.hpp"

namespace cellzoo::datasets {

void register_task_adding(TaskRegistry& registry) {
  TaskEntry e;
  e.name = "adding";
  e.description =
      "adding problem: sum the two marked U[0,1] values, one per half (Le 2015, Arjovsky 2016)";
  e.options = {{"length", {"50", "sequence length T (>= 2)"}}};
  for (auto& o : size_options(2000, 500, 500)) e.options.push_back(o);
  e.build = [](const TaskOptions& options, std::uint64_t seed) {
    TaskData data;
    TaskInfo& info = data.info;
    info.name = "adding";
    info.input_kind = InputKind::dense;
    info.input_size = 2;
    info.output_size = 1;
    info.loss = LossKind::mse;
    info.metric = Metric::mse;
    info.baseline = 1.0 / 6.0;
    const Index T = option_int(options, info.name, "length", 2, 1'000'000);
    info.description = "adding problem, T = " + std::to_string(T);
    generate_splits(data, options, seed, [T](Rng& rng) {
      Sequence s;
      s.input_dense = Matrix<float>::Zero(2, T);
      for (Index t = 0; t < T; ++t) s.input_dense(0, t) = static_cast<float>(rng.uniform());
      const Index half = T / 2;
      const Index first = static_cast<Index>(rng.below(static_cast<std::uint64_t>(half)));
      const Index second =
          half + static_cast<Index>(rng.below(static_cast<std::uint64_t>(T - half)));
      s.input_dense(1, first) = 1;
      s.input_dense(1, second) = 1;
      s.target_dense = Matrix<float>::Zero(1, T);
      s.target_dense(0, T - 1) = s.input_dense(0, first) + s.input_dense(0, second);
      s.weight.assign(static_cast<std::size_t>(T), 0.0f);
      s.weight.back() = 1;
      return s;
    });
    return data;
  };
  registry.add(std::move(e));
}

}  // namespace cellzoo::datasets
