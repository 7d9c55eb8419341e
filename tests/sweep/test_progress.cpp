// The sweep's terminal progress line fits the terminal's width.
#include <catch2/catch.hpp>
#include <sstream>

#include "framework/sweep/progress.hpp"

using cellzoo::sweep::Progress;

TEST_CASE("progress: the terminal line fits any width and keeps the run count", "[progress]") {
  std::ostringstream out;
  Progress p(out, 1200, 300, true, "bits_per_char", false);
  p.finished("ok", 1.2345678, 1.3456789);
  p.finished("diverged", NAN, NAN);
  p.finished("timeout", 1.5, 1.6);
  p.started();
  const auto full = p.terminal_text(1000);
  CHECK_THAT(full, Catch::StartsWith("[######"));
  CHECK_THAT(full, Catch::Contains("runs 303/1200"));
  CHECK_THAT(full, Catch::Contains("running 1"));
  CHECK_THAT(full, Catch::Contains("best bits_per_char 1.235"));
  CHECK_THAT(full, Catch::Contains("(test 1.346)"));
  CHECK_THAT(full, Catch::Contains("diverged 1 timeout 1"));
  for (std::size_t columns : {20u, 40u, 60u, 80u, 100u, 120u, 200u}) {
    const auto text = p.terminal_text(columns);
    INFO(columns << ": " << text);
    CHECK(text.size() <= columns - 1);
    CHECK_THAT(text, Catch::Contains("runs 303/1200"));
  }
  // 80 columns: the bar and the essentials stay, the least useful parts go.
  const auto eighty = p.terminal_text(80);
  CHECK_THAT(eighty, Catch::StartsWith("["));
  CHECK_THAT(eighty, Catch::Contains("eta"));
  CHECK_THAT(eighty, !Catch::Contains("running"));
  p.stopped();
}
