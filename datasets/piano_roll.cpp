// The piano-roll JSON reader: a small recursive-descent parser specialised to the
// layout, with a generic skipper for keys it does not use. Line and column are computed
// only when an error is reported, so the happy path is one linear pass.
#include "datasets/piano_roll.hpp"

#include <algorithm>
#include <string>

#include "datasets/task_util.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::datasets {
namespace {

constexpr const char* kLayoutHint =
    "the music task reads JSON {\"train\":[...],\"valid\":[...],\"test\":[...]}: each split a "
    "list of pieces, each piece a list of time steps, each step a list of MIDI notes 21..108";

class Parser {
 public:
  Parser(std::string_view text, std::string file) : s_(text), file_(std::move(file)) {}

  PianoRollSplits parse() {
    PianoRollSplits out;
    if (s_.starts_with("\xEF\xBB\xBF")) i_ = 3;  // UTF-8 byte-order mark
    expect('{', "'{' opening the top-level object");
    bool seen[3] = {false, false, false};
    std::vector<PianoRollPiece>* splits[3] = {&out.train, &out.valid, &out.test};
    static constexpr const char* kNames[3] = {"train", "valid", "test"};
    if (peek() == '}') {
      ++i_;
    } else {
      for (;;) {
        if (peek() != '"') fail("expected a string key (\"train\", \"valid\" or \"test\")");
        const std::size_t key_pos = i_;
        const std::string key = parse_string();
        expect(':', "':' after the key");
        const auto* it = std::find(std::begin(kNames), std::end(kNames), key);
        if (it != std::end(kNames)) {
          const auto k = static_cast<std::size_t>(it - std::begin(kNames));
          if (seen[k]) fail("the split \"" + key + "\" appears twice", key_pos);
          seen[k] = true;
          split_ = kNames[k];
          parse_split(*splits[k]);
          split_ = nullptr;
        } else {
          skip_value(0);
        }
        const char c = next_char("',' or '}' after a split");
        if (c == '}') break;
        if (c != ',') fail_found("',' or '}' after a split", i_ - 1);
      }
    }
    skip_ws();
    if (i_ != s_.size()) fail("unexpected content after the closing '}'");
    for (int k = 0; k < 3; ++k) {
      if (!seen[k])
        throw Error(file_ + ": no \"" + kNames[k] + "\" split (missing key)",
                    "expected the keys train, valid and test; " + std::string(kLayoutHint));
      if (splits[k]->empty())
        throw Error(file_ + ": the split \"" + kNames[k] + "\" is empty (no pieces)",
                    "every split needs at least one piece; " + std::string(kLayoutHint));
    }
    return out;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
  std::string file_;
  // Where the parser is, for messages; -1 = not inside.
  const char* split_ = nullptr;
  long piece_ = -1, step_ = -1, note_ = -1;

  std::string where() const {
    if (!split_) return {};
    std::string w = split_;
    for (long idx : {piece_, step_, note_}) {
      if (idx < 0) break;
      w += "[" + std::to_string(idx) + "]";
    }
    return w;
  }

  [[noreturn]] void fail(const std::string& what, std::size_t pos) const {
    pos = std::min(pos, s_.size());
    std::size_t line = 1, line_start = 0;
    for (std::size_t k = 0; k < pos; ++k)
      if (s_[k] == '\n') ++line, line_start = k + 1;
    const std::string at = where();
    throw Error(file_ + ":" + std::to_string(line) + ":" + std::to_string(pos - line_start + 1) +
                    ": " + what + (at.empty() ? "" : " (in " + at + ")"),
                kLayoutHint);
  }
  [[noreturn]] void fail(const std::string& what) const { fail(what, i_); }

  std::string found(std::size_t pos) const {
    if (pos >= s_.size()) return "the end of the file (is the JSON truncated?)";
    const auto c = static_cast<unsigned char>(s_[pos]);
    if (c >= 32 && c < 127) return std::string("'") + static_cast<char>(c) + "'";
    return "byte " + std::to_string(c);
  }
  [[noreturn]] void fail_found(const std::string& expected, std::size_t pos) const {
    fail("expected " + expected + ", found " + found(pos), pos);
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  char peek() {
    skip_ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  char next_char(const std::string& expected) {
    skip_ws();
    if (i_ >= s_.size()) fail_found(expected, i_);
    return s_[i_++];
  }
  void expect(char c, const std::string& expected) {
    skip_ws();
    if (i_ >= s_.size() || s_[i_] != c) fail_found(expected, i_);
    ++i_;
  }

  std::string parse_string() {
    const std::size_t start = i_;
    ++i_;  // opening quote
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') ++i_;  // keep the escaped character; keys here are plain ASCII
      if (i_ < s_.size()) out += s_[i_++];
    }
    if (i_ >= s_.size()) fail("unterminated string (is the JSON truncated?)", start);
    ++i_;
    return out;
  }

  void skip_value(int depth) {
    if (depth > 256) fail("nesting too deep");
    const char c = peek();
    if (c == '"') {
      parse_string();
    } else if (c == '[' || c == '{') {
      const char close = c == '[' ? ']' : '}';
      ++i_;
      if (peek() == close) {
        ++i_;
        return;
      }
      for (;;) {
        if (c == '{') {
          if (peek() != '"') fail_found("a string key", i_);
          parse_string();
          expect(':', "':' after a key");
        }
        skip_value(depth + 1);
        const char d = next_char(std::string("',' or '") + close + "'");
        if (d == close) return;
        if (d != ',') fail_found(std::string("',' or '") + close + "'", i_ - 1);
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      while (i_ < s_.size() && std::string_view("+-.eE0123456789").find(s_[i_]) != s_.npos) ++i_;
    } else {
      for (std::string_view lit : {"true", "false", "null"})
        if (s_.substr(i_).starts_with(lit)) {
          i_ += lit.size();
          return;
        }
      fail_found("a JSON value", i_);
    }
  }

  void parse_split(std::vector<PianoRollPiece>& pieces) {
    expect('[', std::string("'[' opening the list of ") + split_ + " pieces");
    if (peek() == ']') {
      ++i_;
      return;
    }
    for (piece_ = 0;; ++piece_) {
      pieces.push_back(parse_piece());
      const char c = next_char("',' or ']' after a piece");
      if (c == ']') break;
      if (c != ',') fail_found("',' or ']' after a piece", i_ - 1);
    }
    piece_ = -1;
  }

  PianoRollPiece parse_piece() {
    PianoRollPiece piece;
    expect('[', "'[' opening a piece (a list of time steps)");
    if (peek() == ']') {
      ++i_;
      return piece;
    }
    for (step_ = 0;; ++step_) {
      piece.push_back(parse_step());
      const char c = next_char("',' or ']' after a time step");
      if (c == ']') break;
      if (c != ',') fail_found("',' or ']' after a time step", i_ - 1);
    }
    step_ = -1;
    return piece;
  }

  PianoRollStep parse_step() {
    PianoRollStep step;
    expect('[', "'[' opening a time step (a list of MIDI notes)");
    if (peek() == ']') {
      ++i_;
      return step;
    }
    for (note_ = 0;; ++note_) {
      step.set(static_cast<std::size_t>(parse_note() - kLowestNote));
      const char c = next_char("',' or ']' after a note");
      if (c == ']') break;
      if (c != ',') fail_found("',' or ']' after a note", i_ - 1);
    }
    note_ = -1;
    return step;
  }

  int parse_note() {
    skip_ws();
    const std::size_t start = i_;
    std::size_t k = i_;
    if (k < s_.size() && s_[k] == '-') ++k;
    const std::size_t digits_start = k;
    while (k < s_.size() && s_[k] >= '0' && s_[k] <= '9') ++k;
    if (k == digits_start) fail_found("a MIDI note number (an integer in 21..108)", start);
    if (k < s_.size() && (s_[k] == '.' || s_[k] == 'e' || s_[k] == 'E')) {
      std::size_t end = k;
      while (end < s_.size() && std::string_view("+-.eE0123456789").find(s_[end]) != s_.npos) ++end;
      fail("expected an integer MIDI note number, found " +
               std::string(s_.substr(start, end - start)),
           start);
    }
    const std::string_view text = s_.substr(start, k - start);
    long value = 0;
    if (text.size() > 6) {
      value = 1'000'000;  // out of range; avoids overflow
    } else {
      for (char c : text.substr(digits_start - start)) value = value * 10 + (c - '0');
      if (text.front() == '-') value = -value;
    }
    if (value < kLowestNote || value > kHighestNote)
      fail("MIDI note " + std::string(text) + " is outside the piano range 21..108", start);
    i_ = k;
    return static_cast<int>(value);
  }
};

}  // namespace

PianoRollSplits parse_piano_roll_json(std::string_view text, const std::string& file) {
  return Parser(text, file).parse();
}

std::filesystem::path resolve_piano_roll_path(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return path;
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(path, ec))
    if (entry.path().extension() == ".json") found.push_back(entry.path());
  std::sort(found.begin(), found.end());
  if (found.size() == 1) return found.front();
  if (found.empty())
    throw Error(
        "music: no .json file in the directory '" + path.string() + "'",
        "set data= to a piano-roll JSON file (e.g. jsb_chorales.json); " + std::string(kFetchHint));
  std::string list;
  for (const auto& f : found) list += (list.empty() ? "" : ", ") + f.filename().string();
  throw Error(
      "music: the directory '" + path.string() + "' holds several .json files (" + list + ")",
      "set data= to one of them");
}

PianoRollSplits read_piano_roll_json(const std::filesystem::path& path) {
  const auto file = resolve_piano_roll_path(path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw Error("music: the data file '" + file.string() + "' does not exist",
                "set data= to a piano-roll JSON file or a directory holding one; " +
                    std::string(kFetchHint));
  return parse_piano_roll_json(read_text_file(file, "music"), file.string());
}

}  // namespace cellzoo::datasets
