// Generator correctness of the synthetic tasks: each check re-derives the answer from
// the inputs and compares it with the stored targets and weights.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace cellzoo;
using namespace cellzoo::datasets;
using namespace cellzoo::datasets::testing;

namespace {

TaskData build(const std::string& name, TaskOptions o, std::uint64_t seed = 5) {
  o.emplace("n_train", "300");
  o.emplace("n_valid", "20");
  o.emplace("n_test", "20");
  return TaskRegistry::instance().build(name, o, seed);
}

// The full character string of a next-character sequence: every input, then the last
// target.
std::string text_of(const TaskData& d, const Sequence& s) {
  std::string text;
  for (int tok : s.input_tokens) text += d.vocabulary.at(static_cast<std::size_t>(tok));
  text += d.vocabulary.at(static_cast<std::size_t>(s.target_tokens.back()));
  return text;
}

// Next-character contract: target t is input t+1.
void check_next_char(const Sequence& s) {
  for (std::size_t t = 0; t + 1 < s.input_tokens.size(); ++t)
    REQUIRE(s.target_tokens[t] == s.input_tokens[t + 1]);
}

}  // namespace

TEST_CASE("adding: two markers, one per half, target is their sum", "[datasets][adding]") {
  const TaskData d = build("adding", {{"length", "31"}, {"n_train", "2000"}});
  double baseline_mse = 0;
  for (const Sequence& s : d.train) {
    REQUIRE(s.length() == 31);
    int markers = 0;
    double sum = 0;
    for (Index t = 0; t < 31; ++t) {
      const float v = s.input_dense(0, t), m = s.input_dense(1, t);
      REQUIRE(v >= 0.0f);
      REQUIRE(v < 1.0f);
      REQUIRE((m == 0.0f || m == 1.0f));
      if (m == 1.0f) {
        // First marker in [0, 15), second in [15, 31).
        CHECK((markers == 0 ? t < 15 : t >= 15));
        ++markers;
        sum += v;
      }
      CHECK(s.weight[static_cast<std::size_t>(t)] == (t == 30 ? 1.0f : 0.0f));
    }
    REQUIRE(markers == 2);
    CHECK(s.target_dense(0, 30) == Approx(sum).epsilon(1e-6));
    baseline_mse += (s.target_dense(0, 30) - 1.0) * (s.target_dense(0, 30) - 1.0);
  }
  // Predicting the mean 1 scores Var(U1 + U2) = 1/6, the documented baseline.
  CHECK(d.info.baseline == Approx(1.0 / 6.0));
  CHECK(baseline_mse / 2000 == Approx(1.0 / 6.0).margin(0.015));
}

TEST_CASE("copy: the recall targets are the data symbols", "[datasets][copy]") {
  const int T = 15, K = 6;
  for (const std::string score : {"recall", "all"}) {
    DYNAMIC_SECTION(score) {
      const TaskData d =
          build("copy",
                {{"delay", std::to_string(T)}, {"n_symbols", std::to_string(K)}, {"score", score}});
      CHECK(d.info.input_size == 10);
      for (const Sequence& s : d.train) {
        REQUIRE(s.length() == T + 2 * K);
        for (int i = 0; i < T + 2 * K; ++i) {
          const auto u = static_cast<std::size_t>(i);
          const int in = s.input_tokens[u], target = s.target_tokens[u];
          if (i < K) {
            CHECK((in >= 1 && in <= 8));
          } else {
            CHECK(in == (i == K + T - 1 ? 9 : 0));  // blanks, the delimiter, blanks
          }
          if (i >= T + K) {
            CHECK(target == s.input_tokens[static_cast<std::size_t>(i - T - K)]);
            CHECK(s.weight[u] == 1.0f);
          } else {
            CHECK(target == 0);
            CHECK(s.weight[u] == (score == "all" ? 1.0f : 0.0f));
          }
        }
      }
      if (score == "recall")
        CHECK(d.info.baseline == Approx(0.125));
      else
        CHECK(d.info.baseline == Approx((T + K + K / 8.0) / (T + 2 * K)));
    }
  }
}

TEST_CASE("temporal-order: the class encodes the order of the X/Y events",
          "[datasets][temporal-order]") {
  for (const std::string variant : {"a", "b"}) {
    DYNAMIC_SECTION(variant) {
      const TaskData d = build("temporal-order", {{"variant", variant}});
      const std::vector<std::pair<int, int>> ranges =
          variant == "a" ? std::vector<std::pair<int, int>>{{10, 20}, {50, 60}}
                         : std::vector<std::pair<int, int>>{{10, 20}, {33, 43}, {66, 76}};
      CHECK(d.info.output_size == (variant == "a" ? 4 : 8));
      std::vector<int> class_count(static_cast<std::size_t>(d.info.output_size), 0);
      for (const Sequence& s : d.train) {
        const Index L = s.length();
        REQUIRE((L >= 100 && L <= 110));
        CHECK(s.input_tokens.front() == 4);  // B
        CHECK(s.input_tokens.back() == 5);   // E
        int label = 0;
        std::size_t event = 0;
        for (Index t = 1; t + 1 < L; ++t) {
          const int tok = s.input_tokens[static_cast<std::size_t>(t)];
          if (tok == 6 || tok == 7) {
            REQUIRE(event < ranges.size());
            const int pos = static_cast<int>(t) + 1;  // 1-based as in the paper
            CHECK(pos >= ranges[event].first);
            CHECK(pos <= ranges[event].second);
            label = 2 * label + (tok - 6);
            ++event;
          } else {
            CHECK(tok < 4);  // a..d
          }
          CHECK(s.weight[static_cast<std::size_t>(t)] == 0.0f);
        }
        REQUIRE(event == ranges.size());
        CHECK(s.target_tokens.back() == label);
        CHECK(s.weight.back() == 1.0f);
        ++class_count[static_cast<std::size_t>(label)];
      }
      for (int c : class_count) CHECK(c > 0);
    }
  }
}

TEST_CASE("memorization: the scored reproduction equals the letters read",
          "[datasets][memorization]") {
  const TaskData d = build("memorization", {});
  CHECK(d.info.input_size == 28);
  for (const Sequence& s : d.train) {
    check_next_char(s);
    const std::string text = text_of(d, s);
    REQUIRE(text.size() == 12);
    CHECK(text[5] == '=');
    CHECK(text[11] == '.');
    CHECK(text.substr(0, 5) == text.substr(6, 5));
    std::string scored;
    for (std::size_t t = 0; t < s.weight.size(); ++t)
      if (s.weight[t] > 0) scored += d.vocabulary[static_cast<std::size_t>(s.target_tokens[t])];
    CHECK(scored == text.substr(0, 5));
  }
}

TEST_CASE("arithmetic: the answer is the true result of the question", "[datasets][arithmetic]") {
  const TaskData d = build("arithmetic", {{"n_train", "2000"}});
  std::size_t question_chars = 0, distractors = 0, negative_answers = 0;
  for (const Sequence& s : d.train) {
    check_next_char(s);
    const std::string text = text_of(d, s);
    const auto eq = text.find('=');
    REQUIRE(eq != std::string::npos);
    REQUIRE(text.back() == '.');
    // Parse the question back, ignoring distractor letters a..k.
    std::string question;
    for (char c : text.substr(0, eq)) {
      if (c >= 'a' && c <= 'k') {
        ++distractors;
      } else {
        question += c;
        ++question_chars;
      }
    }
    CHECK(text.find_first_of("abcdefghijk") != 0);  // letters only after a character
    const auto op = question.find_first_of("+-", 1);
    REQUIRE(op != std::string::npos);
    const std::int64_t a = std::stoll(question.substr(0, op));
    const std::int64_t b = std::stoll(question.substr(op + 1));
    CHECK(std::llabs(a) <= 99'999'999);
    CHECK((b >= 0 && b <= 99'999'999));
    const std::int64_t result = question[op] == '+' ? a + b : a - b;
    const std::string answer = text.substr(eq + 1, text.size() - eq - 2);
    CHECK(answer == std::to_string(result));
    negative_answers += result < 0;
    // Exactly the answer characters are scored.
    std::string scored;
    for (std::size_t t = 0; t < s.weight.size(); ++t)
      if (s.weight[t] > 0) scored += d.vocabulary[static_cast<std::size_t>(s.target_tokens[t])];
    CHECK(scored == answer);
  }
  // Geometric distractors, p = 0.3: mean p / (1 - p) = 0.43 per question character.
  CHECK(static_cast<double>(distractors) / static_cast<double>(question_chars) ==
        Approx(0.3 / 0.7).margin(0.03));
  CHECK(negative_answers > 600);
  CHECK(negative_answers < 1400);
}

TEST_CASE("arithmetic: digits bounds the operands", "[datasets][arithmetic]") {
  const TaskData d = build("arithmetic", {{"digits", "2"}, {"distractor_p", "0"}});
  for (const Sequence& s : d.train) {
    const std::string text = text_of(d, s);
    CHECK(text.find_first_of("abcdefghijk") == std::string::npos);
    const auto eq = text.find('=');
    const auto op = text.find_first_of("+-", 1);
    CHECK(std::llabs(std::stoll(text.substr(0, op))) <= 99);
    CHECK(std::stoll(text.substr(op + 1, eq - op - 1)) <= 99);
  }
}

TEST_CASE("xml: closing tags match the opening tags", "[datasets][xml]") {
  const TaskData d = build("xml", {{"max_steps", "20"}});
  std::size_t max_depth = 0;
  for (const Sequence& s : d.train) {
    check_next_char(s);
    for (float w : s.weight) CHECK(w == 1.0f);
    const std::string doc = text_of(d, s);
    REQUIRE(doc.front() == '<');
    std::vector<std::string> open;
    std::size_t i = 0, opens = 0;
    while (i < doc.size()) {
      REQUIRE(doc[i] == '<');
      const auto close = doc.find('>', i);
      REQUIRE(close != std::string::npos);
      const bool closing = doc[i + 1] == '/';
      const std::string name = doc.substr(i + (closing ? 2 : 1), close - i - (closing ? 2 : 1));
      CHECK((name.size() >= 2 && name.size() <= 10));
      CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos);
      if (closing) {
        REQUIRE(!open.empty());
        CHECK(open.back() == name);
        open.pop_back();
      } else {
        open.push_back(name);
        ++opens;
        max_depth = std::max(max_depth, open.size());
      }
      i = close + 1;
    }
    CHECK(open.empty());
    CHECK(opens <= 20);
  }
  CHECK(max_depth >= 3);
}

TEST_CASE("arithmetic: operands = uniform_digits draws the digit count uniformly",
          "[datasets][arithmetic]") {
  const auto operands = [](const std::string& mode) {
    const TaskData d =
        build("arithmetic", {{"n_train", "4000"}, {"distractor_p", "0"}, {"operands", mode}});
    std::vector<std::int64_t> out;
    for (const Sequence& s : d.train) {
      const std::string text = text_of(d, s);
      const auto eq = text.find('=');
      const auto op = text.find_first_of("+-", 1);
      out.push_back(std::stoll(text.substr(0, op)));
      out.push_back(std::stoll(text.substr(op + 1, eq - op - 1)));
    }
    return out;
  };
  const auto digits_of = [](std::int64_t v) {
    return static_cast<int>(std::to_string(std::llabs(v)).size());
  };
  std::vector<int> by_digits(9, 0), by_value(9, 0);
  int negative = 0;
  const auto digit_ops = operands("uniform_digits");
  for (std::size_t i = 0; i < digit_ops.size(); ++i) {
    ++by_digits[static_cast<std::size_t>(digits_of(digit_ops[i]))];
    if (i % 2 == 1) CHECK(digit_ops[i] >= 0);  // b is never negative
    negative += digit_ops[i] < 0;
  }
  for (std::int64_t v : operands("uniform_value"))
    ++by_value[static_cast<std::size_t>(digits_of(v))];
  // 8000 operands: about 1000 of each digit count, versus ~90 % of 8 digits by value.
  for (int k = 1; k <= 8; ++k) {
    INFO("digits " << k);
    CHECK(by_digits[static_cast<std::size_t>(k)] > 850);
    CHECK(by_digits[static_cast<std::size_t>(k)] < 1150);
  }
  CHECK(by_value[8] > 7000);
  CHECK(by_value[4] < 10);
  CHECK(negative > 1700);  // a's sign: +/- with 1/2 each (4000 a's)
  CHECK(negative < 2300);
  // The default is uniform_value: the same data as before the option existed.
  const TaskData d0 = build("arithmetic", {}),
                 d1 = build("arithmetic", {{"operands", "uniform_value"}});
  CHECK(same(d0.train, d1.train));
  CHECK_THAT(error_of([] {
               build("arithmetic", {{"operands", "uniform"}});
             }),
             Catch::Contains("operands='uniform' is not one of uniform_value, uniform_digits"));
}

TEST_CASE("fresh = true: a new training set every epoch, the other splits fixed",
          "[datasets][fresh]") {
  for (const char* name :
       {"adding", "arithmetic", "copy", "memorization", "temporal-order", "xml"}) {
    DYNAMIC_SECTION(name) {
      const TaskData plain = build(name, {}), fresh = build(name, {{"fresh", "true"}});
      CHECK_FALSE(plain.fresh_train);
      REQUIRE(fresh.fresh_train);
      CHECK(same(plain.train, fresh.train));  // epoch 1, and the options' other data
      CHECK(same(plain.valid, fresh.valid));
      CHECK(same(plain.test, fresh.test));
      const auto e2 = fresh.fresh_train(2), e3 = fresh.fresh_train(3);
      CHECK(e2.size() == fresh.train.size());
      CHECK_FALSE(same(e2, fresh.train));
      CHECK_FALSE(same(e2, e3));
      CHECK(same(e2, fresh.fresh_train(2)));  // deterministic in the data seed and epoch
      CHECK(same(e2, build(name, {{"fresh", "true"}}).fresh_train(2)));
    }
  }
  CHECK_THAT(error_of([] {
               build("copy", {{"fresh", "yes"}});
             }),
             Catch::Contains("fresh='yes' is not one of false, true"));
}
