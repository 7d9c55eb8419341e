// SLURM job-array and merge scripts for a sharded sweep.
#include "framework/sweep/slurm.hpp"

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "framework/util/error.hpp"

namespace cellzoo::sweep {
namespace {

// Runs a shell command and returns its exit status and standard output.
std::pair<int, std::string> run_command(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return {-1, {}};
  std::string output;
  std::array<char, 4096> buf;
  while (const auto n = std::fread(buf.data(), 1, buf.size(), pipe.get()))
    output.append(buf.data(), n);
  const int status = pclose(pipe.release());
  return {status, output};
}

std::string trim_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// An --sbatch value without a leading "#SBATCH" and surrounding blanks.
std::string sbatch_line(const std::string& text) {
  std::string line = text;
  const auto trim = [&] {
    const auto b = line.find_first_not_of(" \t");
    line = b == std::string::npos ? "" : line.substr(b, line.find_last_not_of(" \t") - b + 1);
  };
  trim();
  if (line.rfind("#SBATCH", 0) == 0) line = line.substr(7);
  trim();
  return line;
}

// An option value that goes into an #SBATCH line as it is: one word.
void check_word(const std::string& option, const std::string& value, const std::string& example) {
  if (value.find_first_of(" \t\n\r'\"#") != std::string::npos)
    throw Error("--" + option + " '" + value + "' is not a single word",
                "pass the bare value, e.g. --" + option + " " + example);
}

void check_options(const SlurmOptions& o) {
  if (o.cpus_per_task < 1)
    throw Error("--cpus-per-task must be at least 1", "e.g. --cpus-per-task 4");
  if (o.max_array_size < 1)
    throw Error("MaxArraySize " + std::to_string(o.max_array_size) + " must be at least 1");
  if (o.array_parallelism < 0)
    throw Error("--array-parallelism " + std::to_string(o.array_parallelism) + " is negative",
                "e.g. --array-parallelism 50: at most 50 array tasks run at once (0: no limit)");
  check_word("partition", o.partition, "short");
  check_word("time", o.time, "12:00:00");
  check_word("account", o.account, "my-project");
  check_word("qos", o.qos, "normal");
  if (!o.mem.empty()) {
    const auto digits = o.mem.find_first_not_of("0123456789");
    const bool ok =
        digits != 0 && (digits == std::string::npos ||
                        (digits + 1 == o.mem.size() &&
                         std::string("KMGTkmgt").find(o.mem[digits]) != std::string::npos));
    if (!ok)
      throw Error("--mem '" + o.mem + "' is not a SLURM memory size",
                  "give a number with an optional unit K, M, G or T, e.g. --mem 4G (per task)");
  }
  for (const auto& text : o.sbatch_lines) {
    const auto line = sbatch_line(text);
    if (line.empty() || line.front() != '-' || line.find_first_of("\n\r") != std::string::npos)
      throw Error("--sbatch '" + text + "' is not an sbatch option",
                  "pass one option per --sbatch, as it follows #SBATCH, e.g. --sbatch "
                  "--gres=gpu:1 or --sbatch '--mail-type=END'");
    for (const char* own : {"--array", "--output", "--job-name", "--dependency"})
      if (line.rfind(own, 0) == 0)
        throw Error("--sbatch '" + text + "': cellzoo slurm sets " + std::string(own) + " itself",
                    "drop it (the log files go to --out-dir/logs)");
  }
}

// The #SBATCH lines shared by both scripts.
void sbatch_header(std::ostringstream& out, const SlurmOptions& o, const std::string& job_name,
                   int cpus, const std::string& log) {
  out << "#SBATCH --job-name=" << job_name << "\n";
  out << "#SBATCH --cpus-per-task=" << cpus << "\n";
  out << "#SBATCH --ntasks=1\n";
  if (!o.time.empty()) out << "#SBATCH --time=" << o.time << "\n";
  if (!o.partition.empty()) out << "#SBATCH --partition=" << o.partition << "\n";
  if (!o.mem.empty()) out << "#SBATCH --mem=" << o.mem << "\n";
  if (!o.account.empty()) out << "#SBATCH --account=" << o.account << "\n";
  if (!o.qos.empty()) out << "#SBATCH --qos=" << o.qos << "\n";
  for (const auto& line : o.sbatch_lines) out << "#SBATCH " << sbatch_line(line) << "\n";
  // #SBATCH lines are not shell-parsed: a path with spaces cannot be quoted there.
  out << "#SBATCH --output=" << log << "\n";
}

// The shard file of shard "$K" as a shell word.
std::string shard_word(const Spec& spec, const SlurmOptions& o) {
  return shell_quote(o.out_dir + "/" + spec.name + ".shard-") + "\"$K\"" +
         shell_quote("-of-" + std::to_string(o.shards) + ".h5");
}

}  // namespace

std::string shell_quote(const std::string& text) {
  const bool safe = !text.empty() && text.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_-.,/:=+@%") == std::string::npos;
  if (safe) return text;
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string shard_file_name(const std::string& name, std::int64_t index, std::int64_t count) {
  return name + ".shard-" + std::to_string(index) + "-of-" + std::to_string(count) + ".h5";
}

namespace {

// The options plan_slurm needs beyond check_options: a shard count the spec can fill, and
// absolute paths (cmd_slurm makes them so) that SLURM can take.
void check_plan_options(const SlurmOptions& o, std::int64_t total) {
  if (o.shards < 1)
    throw Error("--shards " + std::to_string(o.shards) + " must be at least 1",
                "e.g. --shards 100: one array task per shard");
  if (o.shards > total)
    throw Error("--shards " + std::to_string(o.shards) + " is more than the " +
                    std::to_string(total) + " runs of the spec",
                "use at most " + std::to_string(total) + " shards");
  check_options(o);
  std::vector<const std::string*> paths = {&o.cellzoo_exe, &o.spec_path, &o.out_dir, &o.merged_out,
                                           &o.work_dir};
  for (const auto& r : o.reuse) paths.push_back(&r);
  for (const auto& p : o.plugins) paths.push_back(&p);
  for (const auto* path : paths)
    if (path->empty() || path->front() != '/')
      throw Error("internal: slurm paths must be absolute, got '" + *path + "'");
  if (o.out_dir.find_first_of(" \t\n") != std::string::npos)
    throw Error("--out-dir '" + o.out_dir + "' contains white space",
                "SLURM cannot take such a log path in #SBATCH --output; choose another directory");
}

// The array task's command for shard $K of n (K is set by the script).
std::string shard_command(const Spec& spec, const SlurmOptions& o, std::int64_t n) {
  std::string sets;
  for (const auto& s : o.sets) sets += " --set " + shell_quote(s);
  for (const auto& r : o.reuse) sets += " --reuse " + shell_quote(r);
  for (const auto& p : o.plugins) sets += " --plugin " + shell_quote(p);
  return shell_quote(o.cellzoo_exe) + " sweep " + shell_quote(o.spec_path) + " --shard \"$K/" +
         std::to_string(n) + "\" --out " + shard_word(spec, o) +
         " --jobs \"${SLURM_CPUS_PER_TASK:-" + std::to_string(o.cpus_per_task) + "}\"" + sets;
}

// The job array script: one shard per task, or a block of shards above MaxArraySize.
std::string array_script(const Spec& spec, const SlurmOptions& o, const SlurmPlan& plan,
                         std::int64_t total, const std::string& sweep) {
  const auto n = o.shards;
  std::ostringstream a;
  a << "#!/bin/bash\n";
  a << "# cellzoo sweep '" << spec.name << "' (spec hash " << spec_hash(spec) << ") as a SLURM "
    << "job array:\n# " << total << " runs in " << n << " shards, "
    << (plan.shards_per_task == 1 ? "one shard per array task"
                                  : std::to_string(plan.shards_per_task) +
                                        " consecutive shards per array task (MaxArraySize " +
                                        std::to_string(o.max_array_size) + ")")
    << ". Written by 'cellzoo slurm'.\n";
  a << "# A shard whose file exists is resumed, so a requeued or resubmitted task loses only\n"
    << "# the runs it was in the middle of.\n";
  sbatch_header(a, o, "cellzoo-" + spec.name, o.cpus_per_task,
                o.out_dir + "/logs/" + spec.name + "-%A_%a.out");
  a << "#SBATCH --array=0-" << plan.array_tasks - 1;
  if (o.array_parallelism > 0) a << "%" << o.array_parallelism;
  a << "\n";
  a << "set -uo pipefail\n";
  a << "cd " << shell_quote(o.work_dir) << " || exit 1\n";
  if (plan.shards_per_task == 1) {
    a << "K=$SLURM_ARRAY_TASK_ID\n";
    a << "exec " << sweep << "\n";
  } else {
    // Every shard of the block is attempted; the task fails if any of them failed.
    a << "N=" << n << "\n";
    a << "first=$((SLURM_ARRAY_TASK_ID * " << plan.shards_per_task << "))\n";
    a << "last=$((first + " << plan.shards_per_task << "))\n";
    a << "if ((last > N)); then last=$N; fi\n";
    a << "status=0\n";
    a << "for ((K = first; K < last; K++)); do\n";
    a << "  " << sweep << " || status=1\n";
    a << "done\n";
    a << "exit $status\n";
  }
  return a.str();
}

// The merge job: merges the shard files (all of them, or those that exist with
// --merge-anyway), and on any failure names the shard files and the by-hand command.
std::string merge_script(const Spec& spec, const SlurmOptions& o) {
  const auto n = o.shards;
  std::ostringstream m;
  m << "#!/bin/bash\n";
  m << "# Merges the " << n << " shard files of cellzoo sweep '" << spec.name << "' into "
    << o.merged_out << ".\n";
  if (o.merge_anyway)
    m << "# Submitted with --dependency=afterany: it runs however the array ended and merges\n"
      << "# the shard files that exist (a partial result; the merged file records the total).\n";
  else
    m << "# Submitted with --dependency=afterok: it runs only when every array task succeeded.\n";
  m << "# Written by 'cellzoo slurm'.\n";
  sbatch_header(m, o, "cellzoo-" + spec.name + "-merge", 1,
                o.out_dir + "/logs/" + spec.name + "-merge-%j.out");
  m << "set -uo pipefail\n";
  m << "cd " << shell_quote(o.work_dir) << " || exit 1\n";
  m << "shards=()\n";
  m << "for ((K = 0; K < " << n << "; K++)); do\n";
  m << "  f=" << shard_word(spec, o) << "\n";
  if (o.merge_anyway)
    m << "  if [[ -e $f ]]; then shards+=(\"$f\"); else echo \"missing shard file $f\" >&2; fi\n";
  else
    m << "  shards+=(\"$f\")\n";
  m << "done\n";
  // The shard files are the results: whatever goes wrong here, say where they are and how
  // to merge them by hand.
  const std::string out = shell_quote(o.merged_out);
  const std::string by_hand = "cellzoo merge -o NEW.h5 " + o.out_dir + "/" + spec.name +
                              ".shard-*-of-" + std::to_string(n) + ".h5";
  m << "if [[ -e " << out << " ]]; then\n";
  m << "  echo "
    << shell_quote("cellzoo merge job: " + o.merged_out +
                   " already exists (written after cellzoo slurm checked); merge "
                   "never overwrites a file. The shard files are kept; merge them "
                   "by hand: " +
                   by_hand)
    << " >&2\n";
  m << "  exit 1\n";
  m << "fi\n";
  m << shell_quote(o.cellzoo_exe) << " merge -o " << out << " \"${shards[@]}\"\n";
  m << "status=$?\n";
  m << "if ((status != 0)); then\n";
  m << "  echo "
    << shell_quote(
           "cellzoo merge job: the merge failed (see the error above). The "
           "shard files are kept; after fixing the cause merge them by "
           "hand: " +
           by_hand)
    << " >&2\n";
  m << "fi\n";
  m << "exit $status\n";
  return m.str();
}

}  // namespace

SlurmPlan plan_slurm(const Spec& spec, const SlurmOptions& o) {
  const auto total = run_count(spec);
  check_plan_options(o, total);
  SlurmPlan plan;
  const auto n = o.shards;
  // Array indices must stay below MaxArraySize: above it, each task takes a block of shards.
  plan.shards_per_task = (n + o.max_array_size - 1) / o.max_array_size;
  plan.array_tasks = (n + plan.shards_per_task - 1) / plan.shards_per_task;
  plan.array_path = o.out_dir + "/" + spec.name + ".array.sbatch";
  plan.merge_path = o.out_dir + "/" + spec.name + ".merge.sbatch";
  plan.dependency = o.merge_anyway ? "afterany" : "afterok";
  for (std::int64_t k = 0; k < n; ++k)
    plan.shard_files.push_back(o.out_dir + "/" + shard_file_name(spec.name, k, n));
  plan.array_script = array_script(spec, o, plan, total, shard_command(spec, o, n));
  plan.merge_script = merge_script(spec, o);
  return plan;
}

void check_merge_output(const SlurmOptions& o) {
  std::error_code ec;
  if (std::filesystem::exists(o.merged_out, ec))
    throw Error("the merge job's output '" + o.merged_out +
                    "' already exists; the array would run and then the merge would fail, "
                    "since merge never overwrites a file",
                "write the merged file elsewhere with --out NEW.h5 (or --set out=NEW.h5), or "
                "move the old file away first");
}

void write_slurm_scripts(const SlurmPlan& plan, const SlurmOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.out_dir + "/logs", ec);
  if (ec)
    throw Error("cannot create '" + o.out_dir + "/logs': " + ec.message(),
                "choose another --out-dir");
  for (const auto& [path, text] : {std::pair{plan.array_path, plan.array_script},
                                   std::pair{plan.merge_path, plan.merge_script}}) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw Error("cannot write '" + path + "'", "check the permissions of --out-dir");
    ::chmod(path.c_str(), 0755);
  }
}

std::vector<std::string> slurm_commands(const SlurmPlan& plan) {
  return {"JOB=$(sbatch --parsable " + shell_quote(plan.array_path) + ")",
          "sbatch --dependency=" + plan.dependency + ":${JOB%%;*} " + shell_quote(plan.merge_path)};
}

SlurmJobs submit_slurm(const SlurmPlan& plan) {
  // --parsable prints "jobid" or "jobid;cluster".
  auto submit = [](const std::string& command) {
    const auto [status, output] = run_command(command);
    auto id = trim_line(output);
    id = id.substr(0, id.find(';'));
    if (status != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
      throw Error("'" + command + "' failed" + (output.empty() ? "" : ": " + trim_line(output)),
                  "is SLURM available here (sbatch on PATH, SLURM_CONF set)? The scripts are "
                  "written; submit them by hand with the commands printed without --submit");
    return id;
  };
  SlurmJobs jobs;
  jobs.array_job = submit("sbatch --parsable " + shell_quote(plan.array_path));
  jobs.merge_job = submit("sbatch --parsable --dependency=" + plan.dependency + ":" +
                          jobs.array_job + " " + shell_quote(plan.merge_path));
  return jobs;
}

std::int64_t query_max_array_size() {
  const auto [status, output] = run_command("scontrol show config 2>/dev/null");
  if (status == 0) {
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("MaxArraySize", 0) != 0) continue;
      const auto eq = line.find('=');
      if (eq == std::string::npos) break;
      try {
        const auto v = std::stoll(line.substr(eq + 1));
        if (v >= 1) return v;
      } catch (const std::exception&) {
      }
      break;
    }
  }
  return 1001;
}

}  // namespace cellzoo::sweep
