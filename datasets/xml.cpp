// xml: Jozefowicz, Zaremba & Sutskever 2015's XML modelling task (papers.md §4.4).
//
// Generator of one document, step by step (step 0 always opens, see below):
//   at each step, with probability `close_p` (1/2), or always once `max_steps` steps
//   have been taken: close the most recently opened tag ("</name>"), or stop if no tag
//   is open; otherwise open a new tag "<name>", name = 2..10 letters (length uniform,
//   letters uniform on a..z).
// Taken literally the first step could "close" with nothing open and give an empty
// document half of the time; the first step is forced to open instead. Documents can
// hold several top-level elements (a later step may open after everything closed).
// Next-character prediction over the whole document with one-hot inputs and softmax
// outputs over a..z < > / (29 symbols): step t reads character t and predicts t+1; every
// step is scored. Metric accuracy; only closing tags are predictable, so the reachable
// accuracy is well below 1. No closed-form trivial baseline (NaN).
#include <limits>
#include <vector>

#include "datasets/task_util.hpp"

namespace cellzoo::datasets {

void register_task_xml(TaskRegistry& registry) {
  TaskEntry e;
  e.name = "xml";
  e.description = "xml: next-character prediction on random nested tags (Jozefowicz 2015)";
  e.options = {{"max_steps", {"50", "steps after which every step closes a tag"}},
               {"close_p", {"0.5", "probability that a step closes the innermost tag"}}};
  for (auto& o : size_options(5000, 500, 500)) e.options.push_back(o);
  e.build = [](const TaskOptions& options, std::uint64_t seed) {
    TaskData data;
    TaskInfo& info = data.info;
    info.name = "xml";
    const auto max_steps = option_int(options, info.name, "max_steps", 1, 100'000);
    const double close_p = option_double(options, info.name, "close_p", 0, 1);
    const CharVocabulary vocab("abcdefghijklmnopqrstuvwxyz</>");
    info.input_kind = InputKind::one_hot;
    info.input_size = vocab.size();
    info.output_size = vocab.size();
    info.loss = LossKind::softmax_xent;
    info.metric = Metric::accuracy;
    info.baseline = std::numeric_limits<double>::quiet_NaN();
    info.description = "xml modelling, max_steps " + std::to_string(max_steps);
    data.vocabulary = vocab.names();
    generate_splits(data, options, seed, [=](Rng& rng) {
      std::string doc;
      std::vector<std::string> open;
      for (std::int64_t step = 0;; ++step) {
        const bool close = step > 0 && (step >= max_steps || rng.bernoulli(close_p));
        if (close) {
          if (open.empty()) break;
          doc += "</" + open.back() + ">";
          open.pop_back();
        } else {
          std::string name(static_cast<std::size_t>(rng.between(2, 10)), ' ');
          for (auto& c : name) c = static_cast<char>('a' + rng.below(26));
          doc += "<" + name + ">";
          open.push_back(std::move(name));
        }
      }
      return next_char_sequence(vocab, doc, 0, doc.size());
    });
    return data;
  };
  registry.add(std::move(e));
}

}  // namespace cellzoo::datasets
