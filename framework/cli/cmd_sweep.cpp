// cellzoo sweep: run a spec (or one shard of it) into one results file, resuming by
// default. SIGINT/SIGTERM (Ctrl-C, SLURM preemption) stop it cleanly: no new runs start,
// finished runs are kept, and the exit code is 128 + the signal number.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "framework/cli/common.hpp"
#include "framework/sweep/executor.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {
namespace {

std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int signo) {
  g_signal = signo;
  g_stop.store(true);
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  po::options_description options("options");
  std::string spec_path, out, shard;
  int jobs = 0;
  std::vector<std::string> sets;
  double log_interval = 30;
  options.add_options()("spec", po::value(&spec_path)->required(),
                        "the spec file (experiments/*.ini)")(
      "out,o", po::value(&out), "results file (default: the spec's `out`, else results/<name>.h5)")(
      "jobs,j", po::value(&jobs)->default_value(0), "runs in parallel (0 = every core)")(
      "shard", po::value(&shard), "run only block K of N of the runs, as K/N (0-based)")(
      "set,s", po::value(&sets)->composing(),
      "override a spec value, e.g. trials=5, space.hidden=64, fixed.max_epochs=3, task.length=100")(
      "log-interval", po::value(&log_interval)->default_value(30),
      "seconds between progress lines when stderr is not a terminal");
  po::positional_options_description positional;
  positional.add("spec", 1);
  po::variables_map vm;
  if (!parse_args("sweep", "SPEC [--out FILE.h5] [--jobs N] [--shard K/N] [--set key=value ...]",
                  options, args, vm, &positional))
    return 0;

  auto spec = sweep::load_spec(spec_path);
  for (const auto& s : sets) sweep::apply_override(spec, s);
  sweep::SweepOptions opts;
  opts.out = out;
  opts.jobs = jobs;
  if (!shard.empty()) opts.shard = sweep::parse_shard(shard);
  opts.terminal = isatty(STDERR_FILENO) != 0;
  opts.log_interval = log_interval;
  opts.command_line = "cellzoo sweep";
  for (const auto& a : args) opts.command_line += " " + a;

  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  const auto summary = sweep::run_sweep(spec, opts, g_stop, std::cerr);
  if (summary.interrupted) return 128 + static_cast<int>(g_signal);
  return 0;
}

}  // namespace cellzoo::cli
