// cellzoo slurm: writes (and optionally submits) the SLURM job array of a sharded sweep
// plus the dependent merge job (framework/sweep/slurm.hpp).
#include <filesystem>
#include <iostream>

#include "framework/cli/common.hpp"
#include "framework/plugins/loader.hpp"
#include "framework/store/results_file.hpp"
#include "framework/sweep/slurm.hpp"
#include "framework/sweep/spec.hpp"
#include "framework/util/build_info.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

int cmd_slurm(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  po::options_description options("options");
  std::string spec_path, out_dir, merged_out;
  std::vector<std::string> sets, reuse, plugin_paths;
  sweep::SlurmOptions o;
  std::int64_t max_array_size = 0;
  options.add_options()("spec", po::value(&spec_path)->required(),
                        "the spec file (experiments/*.ini)")(
      "shards,n", po::value(&o.shards)->required(), "number of shards N (each its own file)")(
      "partition,p", po::value(&o.partition), "SLURM partition (default: the cluster's)")(
      "time,t", po::value(&o.time), "time limit per array task, e.g. 12:00:00")(
      "mem", po::value(&o.mem), "memory per task (sbatch --mem), e.g. 4G")(
      "account,A", po::value(&o.account), "SLURM account to charge (sbatch --account)")(
      "qos,q", po::value(&o.qos), "quality of service (sbatch --qos)")(
      "array-parallelism", po::value(&o.array_parallelism)->default_value(0),
      "run at most N array tasks at once (the array's %N throttle; 0: no limit)")(
      "sbatch", po::value(&o.sbatch_lines)->composing(),
      "add an #SBATCH line to both scripts (repeatable), e.g. --sbatch --gres=gpu:1 "
      "--sbatch --constraint=avx512 --sbatch --mail-type=END")(
      "cpus-per-task,c", po::value(&o.cpus_per_task)->default_value(1),
      "CPUs per array task; the sweep runs this many runs in parallel")(
      "out,o", po::value(&merged_out),
      "the merged results file the merge job writes (default: the spec's `out`, else "
      "results/<name>.h5); it must not exist yet")(
      "out-dir", po::value(&out_dir),
      "directory of the shard files, scripts and logs (default: results/<name>.slurm)")(
      "set", po::value(&sets)->composing(),
      "override a spec value (repeatable); forwarded to every shard, e.g. trials=50")(
      "reuse", po::value(&reuse)->composing(),
      "an earlier results file whose matching runs every shard copies instead of training "
      "(repeatable; see cellzoo sweep --reuse)")(
      "merge-anyway",
      "merge after the array ends however it ended (afterany) instead of only after every "
      "task succeeded (afterok)")(
      "max-array-size", po::value(&max_array_size),
      "SLURM's MaxArraySize (default: from 'scontrol show config', else 1001)")(
      "submit", "submit both jobs with sbatch and print their ids");
  add_plugin_option(options, plugin_paths);
  po::positional_options_description positional;
  positional.add("spec", 1);
  po::variables_map vm;
  if (!parse_args("slurm",
                  "SPEC --shards N [--partition P] [--time T] [--cpus-per-task C] [--mem M] "
                  "[--account A] [--qos Q] [--array-parallelism K] [--sbatch LINE ...] "
                  "[--out MERGED.h5] [--out-dir DIR] [--set key=value ...] [--reuse OLD.h5 ...] "
                  "[--plugin PATH.so ...] [--submit]",
                  options, args, vm, &positional))
    return 0;

  // Every array task gets the plugins of --plugin and CELLZOO_PLUGIN_PATH as absolute
  // --plugin paths (the spec's own `plugins` it reads itself); a bad one fails now.
  load_plugins(plugin_paths);
  for (const auto& p : plugins::loaded_plugins()) o.plugins.push_back(p.path);

  auto spec = sweep::load_spec(spec_path);
  for (const auto& s : sets) sweep::apply_override(spec, s);
  load_spec_plugins(spec);  // each array task loads them again from the spec

  std::error_code ec;
  o.cellzoo_exe = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw Error("cannot find the cellzoo binary: /proc/self/exe: " + ec.message());
  o.spec_path = fs::absolute(spec_path).lexically_normal().string();
  o.work_dir = fs::current_path().string();
  o.sets = sets;
  for (const auto& r : reuse) {  // a bad file fails now, not in every array task
    (void)store::ResultsReader::open(r);
    o.reuse.push_back(fs::absolute(r).lexically_normal().string());
  }
  o.out_dir = fs::absolute(out_dir.empty() ? "results/" + spec.name + ".slurm" : out_dir)
                  .lexically_normal()
                  .string();
  while (o.out_dir.size() > 1 && o.out_dir.back() == '/') o.out_dir.pop_back();
  o.merged_out = fs::absolute(merged_out.empty() ? sweep::output_path(spec) : merged_out)
                     .lexically_normal()
                     .string();
  o.max_array_size = vm.count("max-array-size") ? max_array_size : sweep::query_max_array_size();
  o.merge_anyway = vm.count("merge-anyway") > 0;

  const auto plan = sweep::plan_slurm(spec, o);
  sweep::check_merge_output(o);
  sweep::write_slurm_scripts(plan, o);
  if (build_info().native)
    std::cout << "note: this cellzoo was built with -march=native"
              << (build_info().march.empty() ? "" : " (" + build_info().march + ")")
              << ": compute nodes of another processor generation may die with 'illegal "
                 "instruction' or compute other bits; for a mixed cluster build with "
                 "-DCELLZOO_NATIVE=OFF (README, Reproducibility)\n";
  std::cout << "wrote " << plan.array_path << "  (array 0-" << plan.array_tasks - 1 << ", "
            << o.shards << " shard(s)";
  if (plan.shards_per_task > 1) std::cout << ", " << plan.shards_per_task << " per task";
  std::cout << ")\nwrote " << plan.merge_path << "  (-> " << o.merged_out << ")\n";
  if (vm.count("submit")) {
    const auto jobs = sweep::submit_slurm(plan);
    std::cout << "submitted array job " << jobs.array_job << " and merge job " << jobs.merge_job
              << " (--dependency=" << plan.dependency << ":" << jobs.array_job << ")\n";
  } else {
    std::cout << "submit with:\n";
    for (const auto& c : sweep::slurm_commands(plan)) std::cout << "  " << c << "\n";
  }
  return 0;
}

}  // namespace cellzoo::cli
