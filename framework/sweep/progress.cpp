#include "framework/sweep/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <vector>

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

void BestRun::consider(bool higher_is_better, const std::string& status, double valid_metric,
                       double test_metric) {
  if ((status == "ok" || status == "timeout") && std::isfinite(valid_metric)) {
    const bool better = !have || (higher_is_better ? valid_metric > valid : valid_metric < valid);
    if (better) {
      valid = valid_metric;
      test = test_metric;
      have = true;
    }
  }
}

void Progress::finished(const std::string& status, double valid_metric, double test_metric) {
  ++done_;
  if (status == "failed") ++failed_;
  if (status == "diverged") ++diverged_;
  if (status == "timeout") ++timeout_;
  best_.consider(higher_is_better_, status, valid_metric, test_metric);
}

void Progress::existing(const std::string& status, double valid_metric, double test_metric) {
  best_.consider(higher_is_better_, status, valid_metric, test_metric);
}

void Progress::existing(const BestRun& best) {
  if (best.have) best_.consider(higher_is_better_, "ok", best.valid, best.test);
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
  if (best_.have) {
    std::snprintf(buf, sizeof buf, "  best valid %s %.4g (test %.4g)", metric_.c_str(), best_.valid,
                  best_.test);
    s += buf;
  }
  return s;
}

std::size_t terminal_columns() {
  struct winsize ws {};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    const long n = std::strtol(c, nullptr, 10);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  return 80;
}

std::string Progress::terminal_text(std::size_t columns) const {
  const std::size_t room = columns > 1 ? columns - 1 : 0;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const std::int64_t todo = total_ - already_done_;
  const double eta =
      done_ > 0 ? elapsed / static_cast<double>(done_) * static_cast<double>(todo - done_) : NAN;
  char buf[128];
  // The parts in display order, each with its rank: lower ranks are dropped first.
  struct Part {
    std::string text;
    int rank;
  };
  std::vector<Part> parts;
  parts.push_back(
      {"runs " + std::to_string(already_done_ + done_) + "/" + std::to_string(total_), 100});
  parts.push_back({"running " + std::to_string(running_.load()), 1});
  if (failed_ || diverged_ || timeout_) {
    std::string bad =
        "failed " + std::to_string(failed_) + " diverged " + std::to_string(diverged_);
    if (timeout_) bad += " timeout " + std::to_string(timeout_);
    parts.push_back({bad, 6});
  }
  parts.push_back({"elapsed " + format_duration(elapsed), 3});
  parts.push_back({"eta " + format_duration(eta), 7});
  if (best_.have) {
    std::snprintf(buf, sizeof buf, "best %s %.4g", metric_.c_str(), best_.valid);
    parts.push_back({buf, 4});
    std::snprintf(buf, sizeof buf, "(test %.4g)", best_.test);
    parts.push_back({buf, 2});
  }
  const auto joined = [&](const std::vector<Part>& ps) {
    std::string s;
    for (const auto& p : ps) s += (s.empty() ? "" : "  ") + p.text;
    return s;
  };
  // Drop the least important parts until the text and a bar of at least 10 fit.
  std::string text = joined(parts);
  for (int rank = 1; rank < 100 && text.size() + 13 > room; ++rank) {
    std::erase_if(parts, [&](const Part& p) { return p.rank == rank; });
    text = joined(parts);
  }
  // The bar takes what is left, up to 24 characters.
  if (text.size() + 13 <= room) {
    const std::int64_t width =
        std::min<std::int64_t>(24, static_cast<std::int64_t>(room - text.size() - 3));
    const std::int64_t filled = total_ > 0 ? (already_done_ + done_) * width / total_ : width;
    // Built by appending: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
    std::string bar(1, '[');
    bar.append(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(width - filled), '.');
    bar.append("] ");
    text = bar + text;
  }
  if (text.size() > room) text.resize(room);
  return text;
}

void Progress::tick(bool force) {
  const auto now = Clock::now();
  if (terminal_) {
    const std::string text = terminal_text(terminal_columns());
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
