// words: word-level language modelling on a corpus directory (Mikolov's PTB,
// ptb.{train,valid,test}.txt, or any train.txt/valid.txt/test.txt), as in Jozefowicz et
// al. 2015 and Zaremba et al. 2014.
//
// Tokens are the whitespace-separated words of each line, followed by one "<eos>" per
// line (a last line without a line break gets one too; an empty line gives a lone
// "<eos>"). The vocabulary is every training token plus "<eos>", sorted; for PTB that is
// 9,999 words (with "<unk>") + "<eos>" = 10,000. A valid/test word outside it becomes
// "<unk>" when the vocabulary has one, and is an error naming the word, file and line
// otherwise. Stream task (truncated BPTT over one token stream per split): one-hot
// inputs, softmax over the vocabulary, metric perplexity = exp(cross-entropy). Baseline:
// the perplexity of the validation stream under the add-one smoothed unigram
// frequencies of the training one. The seed is unused (the data are fixed).
//
// train_tokens = N > 0 trains on the first N tokens of the training stream only, for
// studies of regularisation at a cost a workstation can pay: a model large for its data
// overfits within a few cheap epochs. The vocabulary stays the whole training file's, so
// the model and its output layer are the full corpus's and no valid/test word turns into
// <unk>; the baseline uses the truncated stream.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "datasets/task_util.hpp"
#include "datasets/text_corpus.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::datasets {
namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using WordIds = std::unordered_map<std::string, int, StringHash, std::equal_to<>>;

constexpr std::string_view kEos = "<eos>";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

// Calls emit(token, byte position) for every token of `text`, "<eos>" at each line end.
template <typename Emit>
void for_each_word(std::string_view text, Emit&& emit) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t line_end = std::min(text.find('\n', i), text.size());
    bool any = false;
    while (i < line_end) {
      while (i < line_end && is_space(text[i])) ++i;
      const std::size_t start = i;
      while (i < line_end && !is_space(text[i])) ++i;
      if (i > start) emit(text.substr(start, i - start), start), any = true;
    }
    // Trailing blanks after the last line break are not a line.
    if (any || line_end < text.size()) emit(kEos, line_end);
    i = line_end + 1;
  }
}

}  // namespace

void register_task_words(TaskRegistry& registry) {
  TaskEntry e;
  e.name = "words";
  e.description = "word-level language modelling (Penn Treebank, Mikolov's 10k version)";
  e.options = {{"data",
                {"",
                 "directory with ptb.{train,valid,test}.txt or "
                 "{train,valid,test}.txt (required)"}},
               {"train_tokens",
                {"0",
                 "train on the first N tokens of the training stream only (0: all of it); "
                 "the vocabulary is still the whole training file's"}}};
  e.build = [](const TaskOptions& options, std::uint64_t /*seed: the data are fixed*/) {
    const SplitFiles files = find_split_files(options, "words", {"ptb.{}.txt", "{}.txt"});
    // Read before the corpus, so that a malformed value is reported without reading it.
    const auto train_tokens = option_int(options, "words", "train_tokens", 0, 1'000'000'000'000);
    const std::string train_text = read_text_file(files.train, "words");
    WordIds ids;
    ids.emplace(kEos, 0);
    for_each_word(train_text, [&](std::string_view w, std::size_t) {
      if (ids.find(w) == ids.end()) ids.emplace(std::string(w), 0);
    });
    TaskData data;
    data.vocabulary.reserve(ids.size());
    for (const auto& [w, _] : ids) data.vocabulary.push_back(w);
    std::sort(data.vocabulary.begin(), data.vocabulary.end());
    for (std::size_t i = 0; i < data.vocabulary.size(); ++i)
      ids.find(data.vocabulary[i])->second = static_cast<int>(i);
    const auto unk = ids.find(std::string_view("<unk>"));
    const int unk_id = unk == ids.end() ? -1 : unk->second;
    const auto encode = [&](const std::filesystem::path& path, const std::string& text,
                            std::vector<int>& out) {
      out.reserve(text.size() / 4);
      for_each_word(text, [&](std::string_view w, std::size_t pos) {
        const auto it = ids.find(w);
        if (it != ids.end()) {
          out.push_back(it->second);
        } else if (unk_id >= 0) {
          out.push_back(unk_id);
        } else {
          throw Error("words: the word '" + std::string(w) + "' in " + path.string() + " line " +
                          std::to_string(line_of(text, pos)) +
                          " does not occur in the training file and there is no <unk>",
                      "add the word to " + files.train.string() +
                          ", or replace rare words by <unk> in every split");
        }
      });
      if (out.empty()) throw Error("words: the file '" + path.string() + "' has no words");
    };
    encode(files.train, train_text, data.train_stream);
    if (train_tokens > static_cast<std::int64_t>(data.train_stream.size()))
      throw Error("words: train_tokens = " + std::to_string(train_tokens) + " exceeds the " +
                      std::to_string(data.train_stream.size()) + " tokens of " +
                      files.train.string(),
                  "set task.train_tokens to at most " + std::to_string(data.train_stream.size()) +
                      ", or 0 for all of them");
    if (train_tokens > 0) data.train_stream.resize(static_cast<std::size_t>(train_tokens));
    encode(files.valid, read_text_file(files.valid, "words"), data.valid_stream);
    encode(files.test, read_text_file(files.test, "words"), data.test_stream);
    TaskInfo& info = data.info;
    info.name = "words";
    info.input_kind = InputKind::one_hot;
    info.input_size = static_cast<Index>(data.vocabulary.size());
    info.output_size = info.input_size;
    info.loss = LossKind::softmax_xent;
    info.metric = Metric::perplexity;
    info.stream = true;
    info.baseline = std::exp(
        unigram_cross_entropy(data.train_stream, data.valid_stream, data.vocabulary.size()));
    info.description = "words of " + files.train.parent_path().string() + ", vocabulary " +
                       std::to_string(data.vocabulary.size());
    if (train_tokens > 0)
      info.description += ", training on its first " + std::to_string(train_tokens) + " tokens";
    return data;
  };
  registry.add(std::move(e));
}

}  // namespace cellzoo::datasets
