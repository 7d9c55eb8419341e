// The language-modelling tasks chars and words: small corpora written here (PTB and
// plain layouts, unknown tokens, missing files) and, when present, the shared PTB.
#include <cmath>

#include "helpers.hpp"
#include "tests/skip.hpp"

using namespace cellzoo;
using namespace cellzoo::datasets;
using namespace cellzoo::datasets::testing;
using Catch::Matchers::Contains;

namespace {

TaskData build_text(const std::string& task, const std::filesystem::path& dir,
                    TaskOptions extra = {}) {
  extra["data"] = dir.string();
  return TaskRegistry::instance().build(task, extra, 1);
}

std::vector<std::string> decode(const TaskData& d, const std::vector<int>& stream) {
  std::vector<std::string> out;
  for (int id : stream) out.push_back(d.vocabulary.at(static_cast<std::size_t>(id)));
  return out;
}

using Tokens = std::vector<std::string>;

}  // namespace

TEST_CASE("words: streams with <eos>, vocabulary from train, <unk> for unknowns",
          "[datasets][words]") {
  const auto dir = scratch_dir("words_small");
  write_file(dir / "train.txt", " the cat sat \n the dog <unk> \n");
  write_file(dir / "valid.txt", "the cat ran\n\n");
  write_file(dir / "test.txt", "dog  sat");  // no final line break
  const TaskData d = build_text("words", dir);
  CHECK(d.info.stream);
  CHECK(d.info.metric == Metric::perplexity);
  CHECK(d.info.input_kind == InputKind::one_hot);
  CHECK(d.vocabulary == Tokens{"<eos>", "<unk>", "cat", "dog", "sat", "the"});
  CHECK(d.info.input_size == 6);
  CHECK(d.info.output_size == 6);
  CHECK(decode(d, d.train_stream) ==
        Tokens{"the", "cat", "sat", "<eos>", "the", "dog", "<unk>", "<eos>"});
  CHECK(decode(d, d.valid_stream) == Tokens{"the", "cat", "<unk>", "<eos>", "<eos>"});
  CHECK(decode(d, d.test_stream) == Tokens{"dog", "sat", "<eos>"});
  CHECK(d.train.empty());
  // Unigram baseline on valid, add-one smoothed over 8 + 6 counts: the 3/14, cat 2/14,
  // <unk> 2/14, <eos> 3/14 twice -> perplexity (14^5 / (3 * 2 * 2 * 3 * 3))^(1/5).
  CHECK(d.info.baseline == Approx(std::pow(std::pow(14.0, 5) / 108.0, 0.2)));
}

TEST_CASE("words: train_tokens keeps the head of the training stream, not its vocabulary",
          "[datasets][words]") {
  const auto dir = scratch_dir("words_train_tokens");
  write_file(dir / "train.txt", "a b\nc d\n");  // a b <eos> c d <eos>
  write_file(dir / "valid.txt", "d a\n");
  write_file(dir / "test.txt", "c\n");
  const TaskData d = build_text("words", dir, {{"train_tokens", "4"}});
  CHECK(decode(d, d.train_stream) == Tokens{"a", "b", "<eos>", "c"});
  // "d" is never trained on but stays a word of its own: valid has no <unk> to fall to.
  CHECK(d.vocabulary == Tokens{"<eos>", "a", "b", "c", "d"});
  CHECK(decode(d, d.valid_stream) == Tokens{"d", "a", "<eos>"});
  CHECK_THAT(d.info.description, Contains("first 4 tokens"));
  // Baseline from the truncated stream: add-one over 4 + 5 counts, d 1/9, a 2/9, <eos> 2/9.
  CHECK(d.info.baseline == Approx(std::cbrt(729.0 / 4.0)));
  CHECK(build_text("words", dir, {{"train_tokens", "0"}}).train_stream.size() == 6);
  CHECK(build_text("words", dir, {{"train_tokens", "6"}}).train_stream.size() == 6);

  const auto msg = error_of([&] { build_text("words", dir, {{"train_tokens", "7"}}); });
  CHECK_THAT(msg, Contains("train_tokens = 7 exceeds the 6 tokens of"));
  CHECK_THAT(msg, Contains("at most 6, or 0 for all of them"));
  CHECK_THAT(error_of([&] {
               build_text("words", dir, {{"train_tokens", "-1"}});
             }),
             Contains("out of range"));
}

TEST_CASE("words: PTB file names win over plain ones", "[datasets][words]") {
  const auto dir = scratch_dir("words_ptb_names");
  for (const char* s : {"train", "valid", "test"}) {
    write_file(dir / (std::string("ptb.") + s + ".txt"), " a b \n");
    write_file(dir / (std::string(s) + ".txt"), " x y \n");
  }
  CHECK(build_text("words", dir).vocabulary == Tokens{"<eos>", "a", "b"});
}

TEST_CASE("words: unknown words without <unk>, missing files", "[datasets][words]") {
  const auto dir = scratch_dir("words_errors");
  write_file(dir / "train.txt", "a b\nb a\n");
  write_file(dir / "valid.txt", "a b\nb zebra a\n");
  write_file(dir / "test.txt", "a\n");
  auto msg = error_of([&] { build_text("words", dir); });
  CHECK_THAT(msg, Contains("the word 'zebra'"));
  CHECK_THAT(msg, Contains("valid.txt line 2"));
  CHECK_THAT(msg, Contains("no <unk>"));

  std::filesystem::remove(dir / "test.txt");
  msg = error_of([&] { build_text("words", dir); });
  CHECK_THAT(msg, Contains("no test file in"));
  CHECK_THAT(msg, Contains("looked for ptb.test.txt, test.txt"));

  msg = error_of([&] { build_text("words", dir / "absent"); });
  CHECK_THAT(msg, Contains("absent' does not exist"));
  CHECK_THAT(msg, Contains("ptb.train.txt or train.txt"));
  CHECK_THAT(msg, Contains("scripts/fetch-datasets"));

  msg = error_of([&] { build_text("words", dir / "train.txt"); });
  CHECK_THAT(msg, Contains("is not a directory"));

  msg = error_of([] { TaskRegistry::instance().build("words", {}, 1); });
  CHECK_THAT(msg, Contains("task 'words' needs its data"));
  CHECK_THAT(msg, Contains("--data"));
}

TEST_CASE("chars: PTB character format", "[datasets][chars]") {
  const auto dir = scratch_dir("chars_ptb");
  write_file(dir / "ptb.char.train.txt", "a b _ c \n c _ a \n ");
  write_file(dir / "ptb.char.valid.txt", "c a b \n ");
  write_file(dir / "ptb.char.test.txt", "_ \n ");
  const TaskData d = build_text("chars", dir);
  CHECK(d.info.stream);
  CHECK(d.info.metric == Metric::bits_per_char);
  CHECK(d.vocabulary == Tokens{"\n", "_", "a", "b", "c"});
  CHECK(decode(d, d.train_stream) == Tokens{"a", "b", "_", "c", "\n", "c", "_", "a", "\n"});
  CHECK(decode(d, d.valid_stream) == Tokens{"c", "a", "b", "\n"});
  CHECK(decode(d, d.test_stream) == Tokens{"_", "\n"});
  CHECK(std::isfinite(d.info.baseline));
  CHECK(d.info.baseline > 0);
}

TEST_CASE("chars: plain text, and PTB layout detected in plain names", "[datasets][chars]") {
  const auto dir = scratch_dir("chars_plain");
  write_file(dir / "train.txt", "ab ba\ncab\n");
  write_file(dir / "valid.txt", "abc\n");
  write_file(dir / "test.txt", "c a");
  TaskData d = build_text("chars", dir);
  CHECK(d.vocabulary == Tokens{"\n", " ", "a", "b", "c"});
  CHECK(decode(d, d.test_stream) == Tokens{"c", " ", "a"});
  CHECK(d.train_stream.size() == 10);
  // "c a" is the PTB layout; format=auto looks at the training file only.
  write_file(dir / "train.txt", " a b _ c \n");
  write_file(dir / "valid.txt", "a _ b\n");
  d = build_text("chars", dir);
  CHECK(d.vocabulary == Tokens{"\n", "_", "a", "b", "c"});
  CHECK(decode(d, d.test_stream) == Tokens{"c", "a"});
  // format=plain overrides the detection.
  d = build_text("chars", dir, {{"format", "plain"}});
  CHECK(d.vocabulary == Tokens{"\n", " ", "_", "a", "b", "c"});
}

TEST_CASE("chars: unknown characters and malformed PTB files", "[datasets][chars]") {
  const auto dir = scratch_dir("chars_errors");
  write_file(dir / "train.txt", "abc\nabc\n");
  write_file(dir / "valid.txt", "abc\nabd\n");
  write_file(dir / "test.txt", "abc\n");
  auto msg = error_of([&] { build_text("chars", dir); });
  CHECK_THAT(msg, Contains("'d' in "));
  CHECK_THAT(msg, Contains("valid.txt line 2 does not occur in the training file"));
  msg = error_of([&] { build_text("chars", dir, {{"format", "ptb"}}); });
  CHECK_THAT(msg, Contains("train.txt line 1: symbols are not single characters"));
  CHECK_THAT(msg, Contains("format=plain"));
  msg = error_of([&] { build_text("chars", dir, {{"format", "bytes"}}); });
  CHECK_THAT(msg, Contains("format='bytes' is not one of auto, ptb, plain"));
  std::filesystem::remove(dir / "valid.txt");
  msg = error_of([&] { build_text("chars", dir); });
  CHECK_THAT(msg, Contains("looked for ptb.char.valid.txt, valid.txt"));
}

TEST_CASE("words and chars on the shared Penn Treebank", "[datasets][words][chars][shared]") {
  const auto dir = shared_dataset("ptb/ptb.train.txt");
  if (!dir) CELLZOO_SKIP("no shared PTB (set CELLZOO_SHARED_DATASETS)");
  const auto ptb = dir->parent_path();
  // Counts from ptb/PROVENANCE.md (tokens with one <eos> per line; character tokens plus
  // one line break per line), re-checked with /usr/bin/python3 str.split() and count("\n").
  SECTION("words") {
    const TaskData d = build_text("words", ptb);
    CHECK(d.vocabulary.size() == 10000);
    CHECK(std::find(d.vocabulary.begin(), d.vocabulary.end(), "<unk>") != d.vocabulary.end());
    CHECK(std::find(d.vocabulary.begin(), d.vocabulary.end(), "<eos>") != d.vocabulary.end());
    CHECK(d.train_stream.size() == 929589);
    CHECK(d.valid_stream.size() == 73760);
    CHECK(d.test_stream.size() == 82430);
    CHECK(decode(d, {d.train_stream.begin(), d.train_stream.begin() + 3}) ==
          Tokens{"aer", "banknote", "berlitz"});
    // A unigram model of PTB has a perplexity in the high hundreds.
    CHECK(d.info.baseline > 500);
    CHECK(d.info.baseline < 1000);
  }
  SECTION("chars") {
    const TaskData d = build_text("chars", ptb);
    CHECK(d.vocabulary.size() == 50);  // 49 characters + the line break
    CHECK(d.train_stream.size() == 4975414 + 42068);
    CHECK(d.valid_stream.size() == 389672 + 3370);
    CHECK(d.test_stream.size() == 438662 + 3761);
    CHECK(decode(d, {d.train_stream.begin(), d.train_stream.begin() + 4}) ==
          Tokens{"a", "e", "r", "_"});
    CHECK(d.info.baseline > 3);
    CHECK(d.info.baseline < 6);
  }
}
