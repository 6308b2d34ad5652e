"""A real sweep on a real SLURM cluster (hydra/launcher=slurm): one job is cancelled with
``scancel`` mid-run, the rest of the sweep goes on, and running the same command again trains
only what is missing. Needs a cluster: ``bash scripts/slurm-local.sh`` (as root) starts a
one-node one on this machine; without one the test is skipped."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# ~2 minutes: left out of the default run with the other slow tests (CI runs them after it)
pytestmark = [pytest.mark.slurm, pytest.mark.slow]

# 2 × 2 = 4 jobs on the 2 cores of CI; 1500 epochs of logistic regression on digits train for
# longer than slurm-local.sh's KillWait (5 s) after the test cancels one, so the cancelled job
# cannot finish in its grace period (submitit's job ignores SIGTERM; SIGKILL follows KillWait
# later). With 400 epochs, the cancelled job finished anyway in about 1 run of 3.
SWEEP = ["-m", "dataset=digits", "model=logreg", "trainer.epochs=1500", "loss=ce,mse",
         "optimizer.lr=0.1,0.5", "threads=1", "hydra/launcher=slurm",
         "hydra.launcher.timeout_min=5", "hydra.launcher.mem_gb=1",
         "hydra.launcher.cpus_per_task=1"]
N_JOBS = 4
SWEEP_TIMEOUT_S = 240  # one invocation of the sweep, at most
USABLE_STATES = {"idle", "mix", "mixed", "alloc", "allocated", "comp", "completing"}


def _run(cmd: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _cluster_problem() -> str | None:
    """Why no usable SLURM cluster is here, or None when there is one."""
    if shutil.which("sinfo") is None:
        return ("no SLURM here: sinfo is not on PATH (start a one-node cluster with "
                "`bash scripts/slurm-local.sh`, as root)")
    for tool in ("squeue", "scancel", "sbatch"):
        if shutil.which(tool) is None:
            return f"SLURM client incomplete: {tool} is not on PATH"
    try:
        out = _run(["sinfo", "-h", "-o", "%a %t"], timeout=20)
    except subprocess.TimeoutExpired:
        return "SLURM cluster not up: sinfo did not answer in 20 s"
    states = [line.split() for line in out.stdout.splitlines() if line.strip()]
    if out.returncode != 0 or not any(
            a == "up" and t.rstrip("$-") in USABLE_STATES for a, t in states):  # "idle*": lost
        why = (out.stderr.strip() or out.stdout.strip() or "no node").splitlines()[-1]
        return f"SLURM cluster not up ({why}); start it with `bash scripts/slurm-local.sh`"
    return None


@pytest.fixture
def slurm_cluster() -> None:
    problem = _cluster_problem()
    if problem is not None:
        if os.environ.get("CE_VS_MSE_REQUIRE_SLURM") == "1":  # CI: a missing cluster fails
            pytest.fail(problem)
        pytest.skip(problem)


def _sweep_cmd(tmp_path: Path) -> list[str]:
    script = Path(sys.executable).with_name("ce-vs-mse")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "ce_vs_mse.train.cli"]
    partition = os.environ.get("CE_VS_MSE_SLURM_PARTITION")
    return [*cmd, *SWEEP, f"results_dir={tmp_path / 'runs'}",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
            f"hydra.launcher.submitit_folder={tmp_path / 'submitit'}/%j",
            *([f"hydra.launcher.partition={partition}"] if partition else [])]


def _start(cmd: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "HYDRA_FULL_ERROR": "1"}
    with open(log, "w") as out:
        return subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _job_ids(tmp_path: Path) -> set[str]:
    """Job ids of this test's jobs (``<array>_<task>``): submitit names a folder after each."""
    folder = tmp_path / "submitit"
    if not folder.is_dir():
        return set()
    return {p.name for p in folder.iterdir() if p.is_dir() and re.fullmatch(r"\d+_\d+", p.name)}


def _queue(job_ids: set[str]) -> dict[str, str]:
    """Those of ``job_ids`` still in the queue -> their state (PENDING, RUNNING, ...)."""
    arrays = sorted({j.split("_")[0] for j in job_ids})
    if not arrays:
        return {}
    out = _run(["squeue", "-h", "-r", "-o", "%i %T", "-j", ",".join(arrays)])
    # squeue exits non-zero ("Invalid job id") once every job has left the queue
    pairs = [line.split() for line in out.stdout.splitlines() if line.strip()]
    return {job: state for job, state in pairs if job in job_ids}


def _summaries(runs: Path) -> dict[Path, dict]:
    return {p.parent: json.loads(p.read_text()) for p in sorted(runs.rglob("summary.json"))}


def _wait(what: str, cond, timeout: float, proc: subprocess.Popen | None = None,
          log: Path | None = None):
    end = time.time() + timeout
    while time.time() < end:
        value = cond()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.25)
    why = (f"the sweep exited (code {proc.returncode}) before"
           if proc is not None and proc.poll() is not None else f"timed out ({timeout:.0f}s)")
    tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
    raise AssertionError(f"{why} waiting for {what}\n--- sweep output (tail):\n{tail}")


def test_a_cancelled_slurm_job_fails_alone_and_a_rerun_completes_the_sweep(slurm_cluster,
                                                                          tmp_path):
    runs = tmp_path / "runs"
    cmd = _sweep_cmd(tmp_path)
    log1, log2 = tmp_path / "sweep1.log", tmp_path / "sweep2.log"
    proc = None
    try:
        # 1. the sweep; cancel one job once training is under way and nothing has finished
        t0 = time.time()
        proc = _start(cmd, tmp_path, log1)
        _wait(f"{N_JOBS} jobs submitted", lambda: len(_job_ids(tmp_path)) == N_JOBS, 120,
              proc, log1)
        jobs = _job_ids(tmp_path)
        running = _wait(
            "a job to be training (a metrics.csv.partial)",
            lambda: not _summaries(runs) and list(runs.rglob("metrics.csv.partial"))
            and sorted(j for j, s in _queue(jobs).items() if s == "RUNNING"),
            120, proc, log1)
        assert not _summaries(runs), "a job finished before one could be cancelled mid-run"
        victim = running[0]
        cancel = _run(["scancel", victim])
        assert cancel.returncode == 0, cancel.stderr
        t_cancel = time.time() - t0

        # 2. the first invocation ends (today's and the intended behaviour are in the report)
        try:
            rc1 = proc.wait(timeout=SWEEP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the sweep did not end {SWEEP_TIMEOUT_S}s after job {victim} was cancelled\n"
                f"--- output (tail):\n{log1.read_text()[-3000:]}") from None
        t_first = time.time() - t0
        out1 = log1.read_text()
        at_exit = _summaries(runs)
        left = _queue(jobs)  # a finished job can linger a moment in the queue (COMPLETING)
        # whatever it did, let its jobs end before looking further and rerunning
        _wait("the first sweep's jobs to leave the queue", lambda: not _queue(jobs), 120)
        first = _summaries(runs)
        done1 = {d for d, s in first.items() if s["status"] == "done"}
        print(f"first invocation: exit {rc1} after {t_first:.0f}s (cancelled {victim} at "
              f"{t_cancel:.0f}s); {len(at_exit)} summaries at exit, jobs in the queue at exit: "
              f"{left or 'none'}; {len(done1)} runs done\n--- output (tail):\n{out1[-2500:]}")

        assert len([s for s in at_exit.values() if s["status"] == "done"]) == N_JOBS - 1, (
            f"the sweep exited before its other jobs had finished: {sorted(map(str, at_exit))}"
            f"\n--- output:\n{out1[-3000:]}")
        assert len(done1) == N_JOBS - 1, f"only the cancelled job should be missing: {first}"
        assert rc1 != 0, "a sweep with a cancelled (failed) job should exit non-zero"
        assert victim in out1 or "failed" in out1.lower(), "the failure should be reported"
        stamps = {d: ((d / "summary.json").stat().st_mtime_ns,
                      (d / "metrics.csv").stat().st_mtime_ns) for d in done1}

        # 3. the same command again: only the cancelled run trains
        proc = _start(cmd, tmp_path, log2)
        try:
            rc2 = proc.wait(timeout=SWEEP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the rerun did not end in {SWEEP_TIMEOUT_S}s\n"
                                 f"{log2.read_text()[-3000:]}") from None
        out2 = log2.read_text()
        print(f"second invocation: exit {rc2}, whole test {time.time() - t0:.0f}s")
        assert rc2 == 0, f"the rerun failed:\n{out2[-3000:]}"
        after = _summaries(runs)
        assert len(after) == N_JOBS and all(s["status"] == "done" for s in after.values()), after
        for d in after:
            assert (d / "metrics.csv").is_file(), d
            assert not list(d.glob("*.partial")) and not list(d.glob("*.tmp")), d
        for d, stamp in stamps.items():  # finished runs were not trained again
            assert ((d / "summary.json").stat().st_mtime_ns,
                    (d / "metrics.csv").stat().st_mtime_ns) == stamp, f"{d} was retrained"
            assert after[d]["wall_time_s"] == first[d]["wall_time_s"]
        # a job whose result is in can linger a moment in the queue; let it leave in peace
        _wait("the rerun's jobs to leave the queue", lambda: not _queue(_job_ids(tmp_path)), 60)
    finally:
        if proc is not None:
            _kill(proc)
        leftovers = _queue(_job_ids(tmp_path))
        if leftovers:
            subprocess.run(["scancel", *sorted({j.split("_")[0] for j in leftovers})],
                           capture_output=True, timeout=30)
