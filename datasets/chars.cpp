// chars: character-level language modelling on a corpus directory (PTB's character
// files, ptb.char.{train,valid,test}.txt, or any plain train.txt/valid.txt/test.txt).
//
// Two formats (option format):
//   ptb:   Mikolov's character files (see shared/datasets/ptb/PROVENANCE.md): the
//          symbols are separated by single spaces, '_' marks a word boundary (kept as a
//          symbol), and every line break is one more symbol "\n". PTB gives 49
//          characters + "\n" = 50 symbols.
//   plain: every byte is a symbol, spaces and line breaks included.
//   auto (default): ptb if the training file is named ptb.char.*, or if its first
//          non-empty line is single characters separated by single spaces; else plain.
// The vocabulary is the set of training symbols, in byte order; a symbol of valid/test
// not seen in training is an error naming it, the file and the line. Stream task (one
// token stream per split, truncated BPTT): one-hot inputs, softmax over the vocabulary,
// metric bits_per_char (cross-entropy / ln 2). Baseline: bits per character of the
// validation stream under the add-one smoothed unigram frequencies of the training one.
// The seed is unused (the data are fixed).
#include <array>
#include <numbers>

#include "datasets/task_util.hpp"
#include "datasets/text_corpus.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::datasets {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// PTB-style if the first non-empty line alternates symbol, space, symbol, ...
bool looks_like_ptb_chars(std::string_view text) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == text.npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (!line.empty()) {
      if (line.size() < 3) return false;
      for (std::size_t i = 0; i < line.size(); ++i)
        if ((i % 2 == 1) != (line[i] == ' ')) return false;
      return true;
    }
    start = end + 1;
  }
  return false;
}

std::string symbol_name(unsigned char c) {
  if (c == '\n') return "a line break";
  if (c >= 33 && c < 127) return std::string("'") + static_cast<char>(c) + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 15];
}

// Calls emit(symbol, byte position) for every symbol of `text`.
template <typename Emit>
void for_each_symbol(std::string_view text, bool ptb, const std::string& file, Emit&& emit) {
  if (!ptb) {
    for (std::size_t i = 0; i < text.size(); ++i) emit(static_cast<unsigned char>(text[i]), i);
    return;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      emit(static_cast<unsigned char>('\n'), i);
    } else if (!is_space(c)) {
      if (i + 1 < text.size() && !is_space(text[i + 1]) && text[i + 1] != '\n')
        throw Error("chars: " + file + " line " + std::to_string(line_of(text, i)) +
                        ": symbols are not single characters separated by spaces",
                    "this is not PTB's character format; set format=plain");
      emit(static_cast<unsigned char>(c), i);
    }
  }
}

}  // namespace

void register_task_chars(TaskRegistry& registry) {
  TaskEntry e;
  e.name = "chars";
  e.description = "character-level language modelling (PTB characters or plain text)";
  e.options = {{"data",
                {"",
                 "directory with ptb.char.{train,valid,test}.txt or "
                 "{train,valid,test}.txt (required)"}},
               {"format", {"auto", "auto, ptb (space-separated symbols) or plain (bytes)"}}};
  e.build = [](const TaskOptions& options, std::uint64_t /*seed: the data are fixed*/) {
    const std::string format = option_choice(options, "chars", "format", {"auto", "ptb", "plain"});
    const SplitFiles files = find_split_files(options, "chars", {"ptb.char.{}.txt", "{}.txt"});
    const std::string train_text = read_text_file(files.train, "chars");
    const bool ptb =
        format == "ptb" ||
        (format == "auto" && (files.train.filename().string().starts_with("ptb.char.") ||
                              looks_like_ptb_chars(train_text)));
    std::array<int, 256> ids;
    ids.fill(-1);
    for_each_symbol(train_text, ptb, files.train.string(),
                    [&](unsigned char c, std::size_t) { ids[c] = 0; });
    TaskData data;
    for (int c = 0; c < 256; ++c)
      if (ids[static_cast<std::size_t>(c)] == 0) {
        ids[static_cast<std::size_t>(c)] = static_cast<int>(data.vocabulary.size());
        data.vocabulary.emplace_back(1, static_cast<char>(c));
      }
    if (data.vocabulary.empty())
      throw Error("chars: the training file '" + files.train.string() + "' is empty");
    const auto encode = [&](const std::filesystem::path& path, const std::string& text,
                            std::vector<int>& out) {
      out.reserve(text.size());
      for_each_symbol(text, ptb, path.string(), [&](unsigned char c, std::size_t pos) {
        const int id = ids[c];
        if (id < 0)
          throw Error("chars: " + symbol_name(c) + " in " + path.string() + " line " +
                          std::to_string(line_of(text, pos)) +
                          " does not occur in the training file",
                      "every character of valid and test must occur in " + files.train.string());
        out.push_back(id);
      });
      if (out.empty()) throw Error("chars: the file '" + path.string() + "' has no characters");
    };
    encode(files.train, train_text, data.train_stream);
    encode(files.valid, read_text_file(files.valid, "chars"), data.valid_stream);
    encode(files.test, read_text_file(files.test, "chars"), data.test_stream);
    TaskInfo& info = data.info;
    info.name = "chars";
    info.input_kind = InputKind::one_hot;
    info.input_size = static_cast<Index>(data.vocabulary.size());
    info.output_size = info.input_size;
    info.loss = LossKind::softmax_xent;
    info.metric = Metric::bits_per_char;
    info.stream = true;
    info.baseline =
        unigram_cross_entropy(data.train_stream, data.valid_stream, data.vocabulary.size()) /
        std::numbers::ln2;
    info.description = "characters of " + files.train.parent_path().string() +
                       (ptb ? " (PTB character format)" : " (plain text)");
    return data;
  };
  registry.add(std::move(e));
}

}  // namespace cellzoo::datasets
