// Sweep progress for humans: a live one-line bar on a terminal (runs done/total,
// running, failed, elapsed, ETA, best metric so far), plain log lines every
// `log_interval` seconds otherwise (CI logs, SLURM output files).
//
// Thread safety: started()/stopped() may be called from any worker; finished() and
// tick() only from the writer thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace cellzoo::sweep {

// The best run by validation metric among those shown to it (status ok or timeout, finite
// metric; the first of equal ones): what the bar shows as "best valid".
struct BestRun {
  bool have = false;
  double valid = 0, test = 0;
  void consider(bool higher_is_better, const std::string& status, double valid_metric,
                double test_metric);
};

class Progress {
 public:
  Progress(std::ostream& out, std::int64_t total, std::int64_t already_done, bool terminal,
           std::string metric, bool higher_is_better, double log_interval = 30.0);

  void started() { running_.fetch_add(1, std::memory_order_relaxed); }
  void stopped() { running_.fetch_sub(1, std::memory_order_relaxed); }
  // A run was recorded with this status and test/valid metric (NaN if none).
  void finished(const std::string& status, double valid_metric, double test_metric);
  // A run of this share that was in the file already (resume) or copied from a --reuse
  // file: counted in "best valid", not as done by this invocation.
  void existing(const std::string& status, double valid_metric, double test_metric);
  // The same for the best of many such runs (which is all "best valid" keeps of them).
  void existing(const BestRun& best);
  // Redraws the bar (terminal) or prints a line when the log interval has passed.
  void tick(bool force = false);
  // Ends the bar with a newline and a summary line.
  void close(const std::string& how);

  // The terminal's bar, at most `columns` - 1 characters wide (a full line would wrap on
  // some terminals): the parts that do not fit are left out, least important first (the
  // running count, then the best metric's test value, elapsed time, the best metric, the
  // bar itself), never the run count.
  std::string terminal_text(std::size_t columns) const;

 private:
  std::string line() const;
  using Clock = std::chrono::steady_clock;
  std::ostream& out_;
  std::int64_t total_, already_done_, done_ = 0, failed_ = 0, diverged_ = 0, timeout_ = 0;
  std::atomic<std::int64_t> running_{0};
  bool terminal_;
  std::string metric_;
  bool higher_is_better_;
  BestRun best_;
  double log_interval_;
  Clock::time_point start_ = Clock::now(), last_print_ = start_;
  std::size_t last_width_ = 0;
};

std::string format_duration(double seconds);

// The width of the terminal on standard error (TIOCGWINSZ), else $COLUMNS, else 80.
std::size_t terminal_columns();

}  // namespace cellzoo::sweep
