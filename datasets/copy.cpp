// copy: the copying-memory task in Arjovsky, Shah & Bengio's form (2016; papers.md §4.2),
// with blank filler after the delimiter (not the TCN code's 9s).
//
// Alphabet of 10 symbols: 0 = blank, 1..8 = data, 9 = delimiter; one-hot inputs, softmax
// over the same 10 classes. With K = `n_symbols` and T = `delay`, a sequence has T + 2K
// steps (T + 20 in the paper, K = 10):
//   input:  K data symbols i.i.d. uniform on 1..8, T - 1 blanks, the delimiter, K blanks
//   target: T + K blanks, then the K data symbols (recalled right after the delimiter)
// Scoring (`score`): the trainer has one weight vector for loss and metric alike, so
//   recall (default): weight 1 on the K recall steps only. Metric accuracy over them;
//                     memoryless baseline 1/8 (cross-entropy ln 8 per scored step).
//   all:              weight 1 on every step, the paper's loss. Accuracy then counts the
//                     blanks too; the memoryless baseline (blanks, then a guess) scores
//                     (T + K + K/8) / (T + 2K), and its cross-entropy is K ln 8 / (T + 2K).
#include "datasets/task_util.hpp"

namespace cellzoo::datasets {

void register_task_copy(TaskRegistry& registry) {
  TaskEntry e;
  e.name = "copy";
  e.description = "copying memory: recall 10 symbols after a delay T (Arjovsky et al. 2016)";
  e.options = {{"delay", {"20", "delay T: blanks between the data and the recall, plus 1"}},
               {"n_symbols", {"10", "number K of data symbols to copy"}},
               {"score", {"recall", "scored steps: recall (the K recall steps) or all"}}};
  for (auto& o : size_options(2000, 500, 500)) e.options.push_back(o);
  e.build = [](const TaskOptions& options, std::uint64_t seed) {
    TaskData data;
    TaskInfo& info = data.info;
    info.name = "copy";
    info.input_kind = InputKind::one_hot;
    info.input_size = 10;
    info.output_size = 10;
    info.loss = LossKind::softmax_xent;
    info.metric = Metric::accuracy;
    const Index T = option_int(options, info.name, "delay", 1, 1'000'000);
    const Index K = option_int(options, info.name, "n_symbols", 1, 100'000);
    const bool all = option_choice(options, info.name, "score", {"recall", "all"}) == "all";
    const double delay = static_cast<double>(T), symbols = static_cast<double>(K);
    info.baseline = all ? (delay + symbols + symbols / 8) / (delay + 2 * symbols) : 1.0 / 8;
    info.description = "copying memory, T = " + std::to_string(T) + ", K = " + std::to_string(K) +
                       (all ? ", every step scored" : ", recall steps scored");
    data.vocabulary = {"blank", "1", "2", "3", "4", "5", "6", "7", "8", "delimiter"};
    generate_splits(data, options, seed, [T, K, all](Rng& rng) {
      const auto L = static_cast<std::size_t>(T + 2 * K);
      const auto k = static_cast<std::size_t>(K), delimiter = static_cast<std::size_t>(K + T - 1);
      Sequence s;
      s.input_tokens.assign(L, 0);
      s.target_tokens.assign(L, 0);
      s.weight.assign(L, all ? 1.0f : 0.0f);
      for (std::size_t i = 0; i < k; ++i) {
        const int symbol = 1 + static_cast<int>(rng.below(8));
        s.input_tokens[i] = symbol;
        s.target_tokens[L - k + i] = symbol;
        s.weight[L - k + i] = 1;
      }
      s.input_tokens[delimiter] = 9;
      return s;
    });
    return data;
  };
  registry.add(std::move(e));
}

}  // namespace cellzoo::datasets
