// arithmetic: Jozefowicz, Zaremba & Sutskever 2015's arithmetic task (papers.md §4.4),
// e.g. "3e36d9-h1h39f94eeh43keg3c=-13991064." for 3369 - 13994433.
//
// Generator, with D = `digits` and p = `distractor_p`:
//   operands = uniform_value (the default): a uniform on [-(10^D - 1), 10^D - 1], b uniform
//   on [0, 10^D - 1] (values, not digit counts, are uniform: most operands have D digits);
//   operands = uniform_digits: each operand's digit count k uniform on 1..D, then its
//   magnitude uniform on the k-digit numbers (0..9 for k = 1), a's sign +/- with 1/2 each;
//   op '+' or '-' (each 1/2), so both signs of either operand's contribution occur;
//   question = decimal(a) op decimal(b), and after EACH question character (the last one
//   included) distractor letters are appended: another one with probability p,
//   repeatedly (a geometric number, mean p/(1-p)), each uniform on a..k (the 11 letters
//   of the paper's example);
//   then '=', the answer decimal(a op b) ('-' sign if negative), and '.'.
// Next-character prediction with one-hot inputs and softmax outputs over the 25
// characters 0-9 + - = . a-k: step t reads character t and predicts t+1, so on the answer
// the input is the previous answer character (teacher forcing). Only the answer
// characters are scored (sign and digits; not the question, not the final '.'). Metric
// accuracy. No closed-form trivial baseline (NaN).
#include <cmath>
#include <limits>

#include "datasets/task_util.hpp"

namespace cellzoo::datasets {

void register_task_arithmetic(TaskRegistry& registry) {
  TaskEntry e;
  e.name = "arithmetic";
  e.description =
      "arithmetic: a+b or a-b with distractor letters, answer char by char (Jozefowicz 2015)";
  e.options = {{"digits", {"8", "operands have up to this many digits (1..17)"}},
               {"distractor_p", {"0.3", "probability of one more distractor letter"}},
               {"operands",
                {"uniform_value",
                 "uniform_value: a and b uniform over their ranges (most have `digits` "
                 "digits); uniform_digits: each operand's number of digits uniform in "
                 "1..digits, then its value uniform among numbers of that many digits (the "
                 "paper's printed example; docs/tasks.md)"}}};
  for (auto& o : size_options(10000, 1000, 1000)) e.options.push_back(o);
  e.build = [](const TaskOptions& options, std::uint64_t seed) {
    TaskData data;
    TaskInfo& info = data.info;
    info.name = "arithmetic";
    const auto D = static_cast<int>(option_int(options, info.name, "digits", 1, 17));
    const double p = option_double(options, info.name, "distractor_p", 0, 0.95);
    const bool by_digits = option_choice(options, info.name, "operands",
                                         {"uniform_value", "uniform_digits"}) == "uniform_digits";
    const CharVocabulary vocab("0123456789+-=.abcdefghijk");
    info.input_kind = InputKind::one_hot;
    info.input_size = vocab.size();
    info.output_size = vocab.size();
    info.loss = LossKind::softmax_xent;
    info.metric = Metric::accuracy;
    info.baseline = std::numeric_limits<double>::quiet_NaN();
    info.description = "arithmetic with up to " + std::to_string(D) + " digits";
    data.vocabulary = vocab.names();
    std::int64_t max_value = 1;
    for (int i = 0; i < D; ++i) max_value *= 10;
    max_value -= 1;
    // uniform_digits: k digits with probability 1/D, then uniform on 0..9 (k = 1) or
    // 10^(k-1)..10^k - 1.
    const auto by_digit_count = [D](Rng& rng) {
      const auto k = rng.between(1, D);
      std::int64_t top = 1;
      for (std::int64_t i = 0; i < k; ++i) top *= 10;
      return rng.between(k == 1 ? 0 : top / 10, top - 1);
    };
    generate_splits(data, options, seed, [=](Rng& rng) {
      std::int64_t a = 0, b = 0;
      if (by_digits) {
        a = by_digit_count(rng);
        if (rng.bernoulli(0.5)) a = -a;
        b = by_digit_count(rng);
      } else {
        a = rng.between(-max_value, max_value);
        b = rng.between(0, max_value);
      }
      const bool plus = rng.bernoulli(0.5);
      const std::string question = std::to_string(a) + (plus ? "+" : "-") + std::to_string(b);
      std::string text;
      for (char c : question) {
        text += c;
        while (rng.bernoulli(p)) text += static_cast<char>('a' + rng.below(11));
      }
      text += '=';
      const std::size_t answer_begin = text.size();
      text += std::to_string(plus ? a + b : a - b);
      const std::size_t answer_end = text.size();
      text += '.';
      return next_char_sequence(vocab, text, answer_begin, answer_end);
    });
    return data;
  };
  registry.add(std::move(e));
}

}  // namespace cellzoo::datasets
