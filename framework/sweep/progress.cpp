#include "framework/sweep/progress.hpp"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace cellzoo::sweep {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

Progress::Progress(std::ostream& out, std::int64_t total, std::int64_t already_done, bool terminal,
                   std::string metric, bool higher_is_better, double log_interval)
    : out_(out),
      total_(total),
      already_done_(already_done),
      terminal_(terminal),
      metric_(std::move(metric)),
      higher_is_better_(higher_is_better),
      log_interval_(log_interval) {}

void Progress::finished(const std::string& status, double valid_metric, double test_metric) {
  ++done_;
  if (status == "failed") ++failed_;
  if (status == "diverged") ++diverged_;
  if (status == "timeout") ++timeout_;
  if ((status == "ok" || status == "timeout") && std::isfinite(valid_metric)) {
    const bool better = !have_best_ || (higher_is_better_ ? valid_metric > best_valid_
                                                          : valid_metric < best_valid_);
    if (better) {
      best_valid_ = valid_metric;
      best_test_ = test_metric;
      have_best_ = true;
    }
  }
}

std::string Progress::line() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const std::int64_t todo = total_ - already_done_;
  const double eta =
      done_ > 0 ? elapsed / static_cast<double>(done_) * static_cast<double>(todo - done_) : NAN;
  char buf[256];
  std::snprintf(buf, sizeof buf, "runs %lld/%lld  running %lld  failed %lld  diverged %lld",
                static_cast<long long>(already_done_ + done_), static_cast<long long>(total_),
                static_cast<long long>(running_.load()), static_cast<long long>(failed_),
                static_cast<long long>(diverged_));
  std::string s = buf;
  if (timeout_) s += "  timeout " + std::to_string(timeout_);
  s += "  elapsed " + format_duration(elapsed) + "  eta " + format_duration(eta);
  if (have_best_) {
    std::snprintf(buf, sizeof buf, "  best valid %s %.4g (test %.4g)", metric_.c_str(), best_valid_,
                  best_test_);
    s += buf;
  }
  return s;
}

void Progress::tick(bool force) {
  const auto now = Clock::now();
  if (terminal_) {
    const std::int64_t width = 24;
    const std::int64_t filled = total_ > 0 ? (already_done_ + done_) * width / total_ : width;
    // Built by appending: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
    std::string text(1, '[');
    text.append(static_cast<std::size_t>(filled), '#');
    text.append(static_cast<std::size_t>(width - filled), '.');
    text.append("] ");
    text.append(line());
    const std::size_t pad = last_width_ > text.size() ? last_width_ - text.size() : 0;
    out_ << '\r' << text << std::string(pad, ' ') << std::flush;
    last_width_ = text.size();
  } else if (force || std::chrono::duration<double>(now - last_print_).count() >= log_interval_) {
    out_ << "[sweep] " << line() << std::endl;
    last_print_ = now;
  }
}

void Progress::close(const std::string& how) {
  tick(true);
  if (terminal_) out_ << "\n";
  out_ << "[sweep] " << how << std::endl;
}

}  // namespace cellzoo::sweep
