// Implementation of the helpers in task_util.hpp.
#include "datasets/task_util.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "framework/util/error.hpp"

namespace cellzoo::datasets {
namespace {

std::string range_text(auto lo, auto hi) {
  std::ostringstream out;
  out << "[" << lo << ", " << hi << "]";
  return out.str();
}

std::string quoted(std::string_view task) {
  return "task '" + std::string(task) + "'";
}

}  // namespace

OptionList size_options(int n_train, int n_valid, int n_test) {
  return {{"n_train", {std::to_string(n_train), "training sequences"}},
          {"n_valid", {std::to_string(n_valid), "validation sequences"}},
          {"n_test", {std::to_string(n_test), "test sequences"}},
          {"fresh",
           {"false",
            "true: a new training set of n_train sequences every epoch (from the data seed "
            "and the epoch; validation and test fixed), as the papers generated their data"}}};
}

std::string option_string(const TaskOptions& options, const std::string& key) {
  const auto it = options.find(key);
  return it == options.end() ? std::string() : it->second;
}

std::int64_t option_int(const TaskOptions& options, std::string_view task, const std::string& key,
                        std::int64_t lo, std::int64_t hi) {
  const std::string text = option_string(options, key);
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw Error(quoted(task) + ": option " + key + "='" + text + "' is not an integer",
                "give " + key + "=<integer in " + range_text(lo, hi) + ">");
  if (value < lo || value > hi)
    throw Error(quoted(task) + ": option " + key + "=" + text + " is out of range",
                key + " must be an integer in " + range_text(lo, hi));
  return value;
}

double option_double(const TaskOptions& options, std::string_view task, const std::string& key,
                     double lo, double hi) {
  const std::string text = option_string(options, key);
  double value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value))
    throw Error(quoted(task) + ": option " + key + "='" + text + "' is not a number",
                "give " + key + "=<number in " + range_text(lo, hi) + ">");
  if (value < lo || value > hi)
    throw Error(quoted(task) + ": option " + key + "=" + text + " is out of range",
                key + " must be a number in " + range_text(lo, hi));
  return value;
}

std::string option_choice(const TaskOptions& options, std::string_view task, const std::string& key,
                          const std::vector<std::string>& choices) {
  const std::string text = option_string(options, key);
  std::string list;
  for (const auto& c : choices) {
    if (c == text) return text;
    list += (list.empty() ? "" : ", ") + c;
  }
  throw Error(quoted(task) + ": option " + key + "='" + text + "' is not one of " + list,
              "give " + key + "=<one of " + list + ">");
}

void generate_splits(TaskData& data, const TaskOptions& options, std::uint64_t seed,
                     const std::function<Sequence(Rng&)>& make_one) {
  const std::string& task = data.info.name;
  const struct {
    const char* key;
    const char* label;
    std::vector<Sequence>* out;
  } splits[] = {{"n_train", "train", &data.train},
                {"n_valid", "valid", &data.valid},
                {"n_test", "test", &data.test}};
  for (const auto& s : splits) {
    const auto n = option_int(options, task, s.key, 1, 10'000'000);
    Rng rng(derive_seed(seed, s.label));
    s.out->clear();
    s.out->reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) s.out->push_back(make_one(rng));
  }
  if (option_choice(options, task, "fresh", {"false", "true"}) == "true") {
    const auto n = static_cast<std::size_t>(data.train.size());
    data.fresh_train = [make_one, n, seed](int epoch) {
      std::vector<Sequence> out;
      out.reserve(n);
      Rng rng(derive_seed(seed, "train/epoch/" + std::to_string(epoch)));
      for (std::size_t i = 0; i < n; ++i) out.push_back(make_one(rng));
      return out;
    };
  }
}

CharVocabulary::CharVocabulary(std::string_view chars) : chars_(chars) {
  ids_.fill(-1);
  for (std::size_t i = 0; i < chars_.size(); ++i)
    ids_[static_cast<unsigned char>(chars_[i])] = static_cast<int>(i);
}

int CharVocabulary::id(char c) const {
  const int id = ids_[static_cast<unsigned char>(c)];
  if (id < 0) throw Error(std::string("internal error: character '") + c + "' not in vocabulary");
  return id;
}

std::vector<std::string> CharVocabulary::names() const {
  std::vector<std::string> out;
  for (char c : chars_) out.emplace_back(1, c);
  return out;
}

Sequence next_char_sequence(const CharVocabulary& vocab, std::string_view text,
                            std::size_t scored_begin, std::size_t scored_end) {
  Sequence s;
  const std::size_t steps = text.size() - 1;
  s.input_tokens.resize(steps);
  s.target_tokens.resize(steps);
  s.weight.resize(steps);
  for (std::size_t t = 0; t < steps; ++t) {
    s.input_tokens[t] = vocab.id(text[t]);
    s.target_tokens[t] = vocab.id(text[t + 1]);
    s.weight[t] = (t + 1 >= scored_begin && t + 1 < scored_end) ? 1.0f : 0.0f;
  }
  return s;
}

std::filesystem::path data_path(const TaskOptions& options, std::string_view task,
                                std::string_view expected) {
  const std::string text = option_string(options, "data");
  if (text.empty())
    throw Error(quoted(task) + " needs its data: set the option data=<" + std::string(expected) +
                    "> (on the command line: --data PATH)",
                std::string(kFetchHint));
  std::filesystem::path path(text);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(quoted(task) + ": data path '" + text + "' does not exist (expected " +
                    std::string(expected) + ")",
                std::string(kFetchHint));
  return path;
}

std::string read_text_file(const std::filesystem::path& path, std::string_view task) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(quoted(task) + ": cannot read '" + path.string() + "'",
                "check that the file exists and is readable");
  std::string text;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size > 0) {
    text.resize(static_cast<std::size_t>(size));
    in.seekg(0);
    in.read(text.data(), size);
  }
  if (!in) throw Error(quoted(task) + ": error while reading '" + path.string() + "'");
  return text;
}

}  // namespace cellzoo::datasets
