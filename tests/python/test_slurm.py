"""SLURM integration test: start a real single-node cluster (scripts/slurm-local), submit a
small sweep as a 3-task job array plus its dependent merge job (`cellzoo slurm --submit`),
wait for both, and check that the merged file has every run and the same metrics as a local
`cellzoo sweep --jobs 2` of the same spec. The cluster is always stopped, and the test checks
that none of its processes is left. Skipped (exit 77, with the reason) where SLURM cannot
run: not root, or slurm-wlm / munge not installed."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from sweep_support import assert_same_metrics, run, runs_by_id, write_spec  # noqa: E402

import h5py  # noqa: E402

SOURCE_DIR = os.environ.get("CELLZOO_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
SLURM_LOCAL = os.path.join(SOURCE_DIR, "scripts", "slurm-local")
WAIT_SECONDS = 300


def skip(reason):
    print(f"SKIP: {reason}", file=sys.stderr)
    sys.exit(77)


def check_can_run():
    if os.geteuid() != 0:
        skip("the SLURM test needs root (slurmd must run as root); run the tests as root")
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin" + os.pathsep + "/sbin"
    missing = [b for b in ("slurmctld", "slurmd", "munged", "sbatch", "squeue")
               if shutil.which(b, path=path) is None]
    if missing:
        skip(f"{', '.join(missing)} not installed; apt-get install -y slurm-wlm munge "
             "(scripts/setup test does this)")
    if not os.access(SLURM_LOCAL, os.X_OK):
        raise AssertionError(f"{SLURM_LOCAL} missing or not executable")


def slurm_local(*args, check=True, timeout=180):
    p = subprocess.run([SLURM_LOCAL, *args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError(f"slurm-local {' '.join(args)} exited {p.returncode}\n"
                             f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def tool(env, *args):
    return subprocess.run(list(args), capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60)


def dump_logs(cluster_dir, job_dir):
    """Prints the daemons' logs and the jobs' logs (on failure)."""
    files = sorted(glob.glob(os.path.join(cluster_dir, "log", "*")) +
                   glob.glob(os.path.join(cluster_dir, "munge", "*.log")) +
                   glob.glob(os.path.join(job_dir, "logs", "*")))
    for path in files:
        with open(path, errors="replace") as f:
            lines = f.readlines()
        print(f"----- {path} (last 40 of {len(lines)} lines)")
        sys.stdout.write("".join(lines[-40:]))
    sys.stdout.flush()


def wait_for_jobs(env, jobs, cluster_dir, job_dir):
    """Polls squeue until every job has left the queue; fails early when the merge can never
    start (an array task failed) and after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    last = None
    while True:
        q = tool(env, "squeue", "-h", "-j", ",".join(jobs), "-o", "%i %T %r")
        if q.returncode == 0 and not q.stdout.strip():
            return
        if q.stdout.strip() != last:
            last = q.stdout.strip()
            print("squeue:", " | ".join(last.splitlines()), flush=True)
        if "DependencyNeverSatisfied" in q.stdout:
            dump_logs(cluster_dir, job_dir)
            raise AssertionError("the merge job can never start: an array task failed")
        if time.monotonic() > deadline:
            print(tool(env, "scontrol", "show", "job").stdout)
            dump_logs(cluster_dir, job_dir)
            raise AssertionError(f"jobs {jobs} still queued after {WAIT_SECONDS} s")
        time.sleep(0.5)


def job_states(env, job):
    """JobState of every task of a job (an array has one per task), from scontrol."""
    out = tool(env, "scontrol", "show", "job", job).stdout
    return re.findall(r"JobState=(\w+)", out)


def exercise(cluster_dir, work, env):
    spec = write_spec(work, trials=2, epochs=2, train_size=128)  # 3 cells x 2 trials = 6 runs
    job_dir = os.path.join(work, "slurm")
    merged = os.path.join(work, "merged.h5")
    # An earlier 1-trial sweep: every shard copies its cell's trial 0 from it (--reuse).
    old = os.path.join(work, "old.h5")
    run("sweep", spec, "--set", "trials=1", "--out", old, cwd=work)
    # The cluster options as a real cluster needs them; the local cluster accepts these.
    p = run("slurm", spec, "--shards", "3", "--out-dir", job_dir, "--cpus-per-task", "1",
            "--mem", "300M", "--array-parallelism", "2", "--sbatch", "--comment=cellzoo-test",
            "--out", merged, "--reuse", old, "--submit", cwd=work, env=env)
    print(p.stdout, end="", flush=True)
    m = re.search(r"submitted array job (\d+) and merge job (\d+)", p.stdout)
    assert m, f"no job ids in the output of cellzoo slurm:\n{p.stdout}"
    array_job, merge_job = m.group(1), m.group(2)
    shown = tool(env, "scontrol", "show", "job", array_job).stdout
    for want in ("ArrayTaskThrottle=2", "Comment=cellzoo-test", "MinMemoryNode=300M"):
        assert want in shown, f"SLURM did not take the option ({want}):\n{shown}"

    t = time.monotonic()
    wait_for_jobs(env, [array_job, merge_job], cluster_dir, job_dir)
    print(f"array job {array_job} and merge job {merge_job} done in "
          f"{time.monotonic() - t:.1f} s", flush=True)

    array_states, merge_states = job_states(env, array_job), job_states(env, merge_job)
    if array_states != ["COMPLETED"] * 3 or merge_states != ["COMPLETED"]:
        dump_logs(cluster_dir, job_dir)
        raise AssertionError(f"job states: array {array_states}, merge {merge_states} "
                             "(expected 3 + 1 COMPLETED)")
    for k in range(3):
        shard = os.path.join(job_dir, f"small.shard-{k}-of-3.h5")
        assert os.path.exists(shard), f"missing shard file {shard}"
        assert len(runs_by_id(shard)) == 2, f"{shard}: expected 2 runs"
    logs = glob.glob(os.path.join(job_dir, "logs", "*.out"))
    assert len(logs) == 4, f"expected 3 array logs and 1 merge log, got {logs}"

    assert os.path.exists(merged), f"the merge job wrote no {merged}"
    rows = runs_by_id(merged)
    assert sorted(rows) == list(range(6)), f"merged run ids {sorted(rows)}, expected 0..5"
    assert all(r["status"] == "ok" for r in rows.values()), rows

    local = os.path.join(work, "local.h5")
    run("sweep", spec, "--jobs", "2", "--out", local, cwd=work)
    assert_same_metrics(local, merged, "local --jobs 2 vs SLURM array merged")
    with h5py.File(merged, "r") as f:
        reused = f.attrs["reused_from"]
    reused = (reused.decode() if isinstance(reused, bytes) else str(reused)).splitlines()
    assert len(reused) == 3 and all(r.startswith(f"{old}: 1 runs") for r in reused), reused

    # Every shard's SLURM context survives the merge (/provenance: one session per shard).
    with h5py.File(merged, "r") as f:
        sessions = [{k: (v.decode() if isinstance(v, bytes) else str(v))
                     for k, v in f["provenance"][name].attrs.items()}
                    for name in sorted(f["provenance"], key=int)]
    shard_sessions = [s for s in sessions if s.get("role") == "sweep"]
    assert sorted(s.get("slurm_array_task_id") for s in shard_sessions) == ["0", "1", "2"], \
        sessions
    assert all(s.get("slurm_array_job_id") == array_job and s.get("host") and
               s.get("finished_utc") for s in shard_sessions), shard_sessions
    assert any(s.get("role") == "merge" and s.get("slurm_job_id") == merge_job
               for s in sessions), sessions

    # Planning the same sweep again would only fail in the merge job hours later: refused.
    again = run("slurm", spec, "--shards", "3", "--out-dir", job_dir + "-again", "--out", merged,
                check=False, cwd=work, env=env)
    assert again.returncode == 2 and "already exists" in again.stderr and \
        "--out NEW.h5" in again.stderr, again.stderr


# A paper reproduction spec from experiments/, unchanged: only --set scales it down (the
# same overrides go to the array and to the local run). It runs from the repository root,
# where its file: cells resolve, and mixes fused and cell-language cells.
PAPER_SPEC = "experiments/jozefowicz2015-arithmetic.ini"
PAPER_SETS = ["trials=1", "fixed.param_budget=1500", "fixed.layers=1",
              "fixed.max_epochs=1", "task.digits=2", "task.n_train=40", "task.n_valid=20",
              "task.n_test=20"]


def exercise_paper_spec(cluster_dir, work, env):
    job_dir = os.path.join(work, "paper")
    merged = os.path.join(work, "paper-merged.h5")
    sets = [a for s in PAPER_SETS for a in ("--set", s)]
    p = run("slurm", PAPER_SPEC, "--shards", "2", "--out-dir", job_dir, "--cpus-per-task", "1",
            *sets, "--set", f"out={merged}", "--submit", cwd=SOURCE_DIR, env=env)
    m = re.search(r"submitted array job (\d+) and merge job (\d+)", p.stdout)
    assert m, f"no job ids in the output of cellzoo slurm:\n{p.stdout}"
    wait_for_jobs(env, [m.group(1), m.group(2)], cluster_dir, job_dir)
    if job_states(env, m.group(1)) != ["COMPLETED"] * 2 or \
            job_states(env, m.group(2)) != ["COMPLETED"]:
        dump_logs(cluster_dir, job_dir)
        raise AssertionError(f"{PAPER_SPEC}: jobs did not complete")
    rows = runs_by_id(merged)
    assert sorted(rows) == list(range(12)), f"{PAPER_SPEC}: merged run ids {sorted(rows)}"
    local = os.path.join(work, "paper-local.h5")
    run("sweep", PAPER_SPEC, *sets, "--jobs", "2", "--out", local, cwd=SOURCE_DIR)
    assert_same_metrics(local, merged, f"{PAPER_SPEC}: local vs SLURM array merged")
    print(f"ok: {PAPER_SPEC} unchanged over a 2-task array == local (12 runs)", flush=True)


def leftovers(cluster_dir):
    """Live processes whose command line names the cluster directory (zombies have none)."""
    p = subprocess.run(["pgrep", "-a", "-f", cluster_dir], capture_output=True, text=True)
    return p.stdout.strip()


def main():
    check_can_run()
    t0 = time.monotonic()
    base = tempfile.mkdtemp(prefix="cellzoo-slurm-test-")
    os.chmod(base, 0o755)  # munged refuses a socket below a directory others cannot enter
    cluster_dir = os.path.join(base, "cluster")  # a cluster of its own for every run
    work = os.path.join(base, "work")
    os.makedirs(work)
    ok = False
    try:
        started = slurm_local("start", cluster_dir)
        m = re.search(r"^export SLURM_CONF=(\S+)$", started.stdout, re.M)
        assert m, f"slurm-local start printed no SLURM_CONF:\n{started.stdout}"
        print(f"cluster started in {time.monotonic() - t0:.1f} s: "
              f"{started.stderr.strip().splitlines()[0]}", flush=True)
        env = dict(os.environ, SLURM_CONF=m.group(1))
        slurm_local("status", cluster_dir)
        exercise(cluster_dir, work, env)
        exercise_paper_spec(cluster_dir, work, env)
        ok = True
    finally:
        stopped = slurm_local("stop", cluster_dir, check=False)
        left = leftovers(cluster_dir)
        if stopped.returncode != 0 or left:
            print(f"slurm-local stop exited {stopped.returncode}: {stopped.stderr}")
            ok = False
        if left:
            print(f"processes left behind:\n{left}")
        status = slurm_local("status", cluster_dir, check=False)
        if status.returncode == 0:
            print(f"the cluster still runs after stop:\n{status.stdout}")
            ok = False
        if ok:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base} for inspection")
    if not ok:
        raise AssertionError("the cluster was not stopped cleanly")
    print(f"ok: 3-task SLURM array + merge == local --jobs 2 (6 runs); cluster stopped, "
          f"nothing left; total {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
