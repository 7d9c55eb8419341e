// Crash safety: a writer process killed with SIGKILL in the middle of its append loop
// leaves a file that opens and holds every run whose append() had returned.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "framework/store/results_file.hpp"
#include "tests/store/store_test_util.hpp"

using namespace cellzoo::store;
using namespace cellzoo::store::testing;

namespace {

// Child: appends runs 0, 1, 2, ... forever, writing each id to `ack` after append()
// returned. Never returns.
[[noreturn]] void append_forever(const std::string& path, int ack) {
  try {
    auto writer = ResultsWriter::create(path, sample_meta(), sample_columns());
    for (std::int64_t id = 0;; ++id) {
      writer.append(sample_run(id), sample_curves(id, 20));
      if (write(ack, &id, sizeof id) != sizeof id) _exit(4);
    }
  } catch (...) {
    _exit(3);
  }
}

}  // namespace

TEST_CASE("a writer killed with SIGKILL mid-append leaves every appended run readable", "[store]") {
  const fs::path dir = fresh_dir("crash");
  // Different kill points; the child is somewhere inside an append when the kill lands.
  for (std::int64_t kill_after : {1, 4, 9, 17, 30}) {
    const fs::path path = dir / ("killed_" + std::to_string(kill_after) + ".h5");
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      append_forever(path.string(), fds[1]);
    }
    close(fds[1]);
    std::int64_t last = -1, id = 0;
    while (last + 1 < kill_after && read(fds[0], &id, sizeof id) == sizeof id) last = id;
    REQUIRE(kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));  // killed, not failed (exit 3/4 would mean a writer error)
    while (read(fds[0], &id, sizeof id) == sizeof id) last = id;  // acks sent before the kill
    close(fds[0]);
    INFO("killed after " << last + 1 << " acknowledged runs");
    REQUIRE(last + 1 >= kill_after);

    std::vector<RunRow> runs;
    {
      const auto reader = ResultsReader::open(path.string());
      runs = reader.runs();
      REQUIRE(std::int64_t(runs.size()) >= last + 1);
      // At most the run acknowledged too late and the one being appended can be extra.
      REQUIRE(std::int64_t(runs.size()) <= last + 3);
      for (std::size_t i = 0; i < runs.size(); ++i)
        REQUIRE(same_run(runs[i], sample_run(static_cast<std::int64_t>(i))));
      const auto curves = reader.curves();
      REQUIRE(curves.size() >= 20 * runs.size());
      for (std::size_t i = 0; i < 20 * runs.size(); ++i)
        REQUIRE(same_curve(curves[i], sample_curves(std::int64_t(i / 20), 20)[i % 20]));
    }
    // And the file resumes cleanly from there.
    auto writer = ResultsWriter::open_for_resume(path.string(), sample_meta().spec_hash);
    CHECK(writer.run_count() == runs.size());
    writer.append(sample_run(1000), sample_curves(1000, 2));
    writer.close();
    const auto after = ResultsReader::open(path.string());
    CHECK(after.runs().size() == runs.size() + 1);
    CHECK(after.curves().size() == 20 * runs.size() + 2);
  }
}
