// memorization: Jozefowicz, Zaremba & Sutskever 2015's search filter (papers.md §2.2,
// §4.4): read 5 symbols out of 26, then reproduce them, e.g. "kqzfa=kqzfa.".
//
// Generator: K = `n_symbols` letters i.i.d. uniform over the first `alphabet` letters of
// a..z, then '=', the same K letters, then '.'. Next-character prediction with one-hot
// inputs and softmax outputs over the vocabulary (the letters, '=', '.'): step t reads
// character t and predicts character t+1, so during the reproduction the input is the
// previous reproduced letter (teacher forcing). Only the K reproduced letters are scored
// (not the letters read, which are unpredictable, nor the final '.'). Metric accuracy;
// memoryless baseline 1 / alphabet (1/26).
#include "datasets/task_util.hpp"

namespace cellzoo::datasets {

void register_task_memorization(TaskRegistry& registry) {
  TaskEntry e;
  e.name = "memorization";
  e.description = "memorization: read 5 letters of 26, reproduce them (Jozefowicz 2015 filter)";
  e.options = {{"n_symbols", {"5", "letters to read and reproduce"}},
               {"alphabet", {"26", "letters drawn from (the first N of a..z)"}}};
  for (auto& o : size_options(2000, 500, 500)) e.options.push_back(o);
  e.build = [](const TaskOptions& options, std::uint64_t seed) {
    TaskData data;
    TaskInfo& info = data.info;
    info.name = "memorization";
    const auto K = static_cast<std::size_t>(option_int(options, info.name, "n_symbols", 1, 10'000));
    const auto A = static_cast<int>(option_int(options, info.name, "alphabet", 2, 26));
    const std::string letters =
        std::string("abcdefghijklmnopqrstuvwxyz").substr(0, static_cast<std::size_t>(A));
    const CharVocabulary vocab(letters + "=.");
    info.input_kind = InputKind::one_hot;
    info.input_size = vocab.size();
    info.output_size = vocab.size();
    info.loss = LossKind::softmax_xent;
    info.metric = Metric::accuracy;
    info.baseline = 1.0 / A;
    info.description =
        "memorization of " + std::to_string(K) + " of " + std::to_string(A) + " letters";
    data.vocabulary = vocab.names();
    generate_splits(data, options, seed, [K, A, letters, vocab](Rng& rng) {
      std::string word(K, ' ');
      for (auto& c : word) c = letters[rng.below(static_cast<std::uint64_t>(A))];
      const std::string text = word + "=" + word + ".";
      return next_char_sequence(vocab, text, K + 1, 2 * K + 1);
    });
    return data;
  };
  registry.add(std::move(e));
}

}  // namespace cellzoo::datasets
