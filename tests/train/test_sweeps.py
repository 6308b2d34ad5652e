"""Sweeps that scale out and survive: launchers, SIGKILL and resume, divergence, failures,
reproducibility. Real processes throughout."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli

from ce_vs_mse.report import aggregate
from ce_vs_mse.store import lock as locks
from ce_vs_mse.store import summary as summaries
from ce_vs_mse.train import runner, sweeps, trainer

SWEEP = ["-m", "loss=ce,mse", "model=logreg,mlp", "trainer.epochs=2", "seeds=[0,1]", "threads=1"]


def _summaries(cwd: Path) -> dict[str, dict]:
    return {str(p.parent.relative_to(cwd)): json.loads(p.read_text())
            for p in sorted((cwd / "results/runs").rglob("summary.json"))}


@pytest.fixture(scope="module")
def basic(tmp_path_factory) -> dict[str, dict]:
    cwd = tmp_path_factory.mktemp("basic")
    cli(*SWEEP, cwd=cwd)
    return _summaries(cwd)


@pytest.mark.slow  # three sweeps, one through submitit
@pytest.mark.parametrize("launcher", [["hydra/launcher=parallel", "hydra.launcher.n_jobs=2"],
                                      ["hydra/launcher=submitit_local",
                                       "hydra.launcher.timeout_min=5"]])
def test_parallel_launchers_give_the_same_summaries_as_the_basic_launcher(basic, tmp_path,
                                                                          launcher):
    cli(*SWEEP, *launcher, cwd=tmp_path)
    other = _summaries(tmp_path)
    assert sorted(other) == sorted(basic) and len(basic) == 8
    for run, summary in basic.items():
        assert other[run]["status"] == summary["status"] == "done"
        assert other[run]["final"] == summary["final"]


@pytest.mark.slow  # a sweep killed mid-run, then run again
def test_a_sweep_killed_with_sigkill_resumes_and_runs_everything_exactly_once(tmp_path):
    args = ["-m", "loss=ce,mse", "model=logreg,mlp", "trainer.epochs=40", "threads=1"]
    script = Path(sys.executable).with_name("ce-vs-mse")
    proc = subprocess.Popen([str(script), *args], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(_summaries(tmp_path)) < 1:
        time.sleep(0.2)
    time.sleep(0.5)  # now somewhere inside the next job
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = _summaries(tmp_path)
    assert 1 <= len(finished) < 4, "the kill should land mid-sweep"
    stamps = {run: (tmp_path / run / "metrics.csv").stat().st_mtime_ns for run in finished}

    out = cli(*args, cwd=tmp_path)
    assert (out.stdout + out.stderr).count("1 of 1 seeds already done, skipped") == len(finished)
    after = _summaries(tmp_path)
    assert len(after) == 4 and all(s["status"] == "done" for s in after.values())
    for run in finished:  # finished runs were not trained again
        assert (tmp_path / run / "metrics.csv").stat().st_mtime_ns == stamps[run]
    for run in after:
        files = sorted(p.name for p in (tmp_path / run).iterdir())
        assert [f for f in files if f.startswith("events")] and len(
            [f for f in files if f.startswith("events")]) == 1
        assert not [f for f in files if f.endswith((".tmp", ".partial"))]
        lines = (tmp_path / run / "metrics.csv").read_text().splitlines()
        steps = [int(line.split(",")[0]) for line in lines[1:]]
        assert steps == sorted(set(steps))  # no duplicated or half-written rows


def test_a_diverging_job_is_recorded_and_the_sweep_goes_on(tmp_path):
    cli("-m", "loss=mse", "model.head=linear", "optimizer.lr=0.05,1000", "trainer.epochs=2",
        cwd=tmp_path)
    by_lr = {s["params"]["lr"]: s for s in _summaries(tmp_path).values()}
    assert by_lr[1000.0]["status"] == "diverged"
    assert by_lr[1000.0]["diverged_at_step"] <= 10
    assert by_lr[0.05]["status"] == "done"


def test_a_crashing_run_is_recorded_as_failed_with_its_error(make_cfg, monkeypatch):
    real_scalars = trainer.Recorder.scalars

    def crash_at_step_20(self, step, epoch, values):
        if step >= 20:
            raise FloatingPointError("simulated crash at step 20")
        return real_scalars(self, step, epoch, values)

    monkeypatch.setattr(trainer.Recorder, "scalars", crash_at_step_20)
    job = runner.run(make_cfg("trainer.epochs=2", "seeds=[0,1]"))
    assert "FloatingPointError: simulated crash" in job.error
    assert [r.status for r in job.seeds] == ["failed", "failed"]
    monkeypatch.undo()
    cfg = make_cfg("trainer.epochs=2", "seeds=[0,1]")
    for seed in (0, 1):
        run_dir = next(Path(cfg.results_dir).rglob(f"seed={seed}"))
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["status"] == "failed"
        assert "FloatingPointError: simulated crash at step 20" in summary["error"]
    # A failed run is not "done": the same command trains it again.
    run_dirs = runner.run(cfg).run_dirs
    assert all(json.loads((d / "summary.json").read_text())["status"] == "done"
               for d in run_dirs)


def test_two_identical_runs_give_identical_metrics(make_cfg, results_dir):
    a = runner.run(make_cfg("trainer.epochs=2", "seeds=[0,1]"))
    b = runner.run(make_cfg("trainer.epochs=2", "seeds=[0,1]", f"results_dir={results_dir}/b"))
    for x, y in zip(a.run_dirs, b.run_dirs, strict=True):
        assert (x / "metrics.csv").read_bytes() == (y / "metrics.csv").read_bytes()


def test_every_run_records_what_reproduces_it(make_cfg):
    run_dir = runner.run(make_cfg("trainer.epochs=1")).run_dirs[0]
    origin = json.loads((run_dir / "summary.json").read_text())["provenance"]
    assert origin["packages"]["torch"] and origin["packages"]["hydra-core"]
    assert origin["python"].count(".") == 2
    assert origin["command"]
    if origin["git_commit"] is not None:
        assert len(origin["git_commit"]) == 40 and isinstance(origin["git_dirty"], bool)
    assert (run_dir / "config.yaml").read_text().count("seeds:") == 1


def test_ctrl_c_leaves_nothing_that_looks_finished(make_cfg, monkeypatch):
    real_scalars = trainer.Recorder.scalars

    def interrupt_at_step_20(self, step, epoch, values):
        if step >= 20:
            raise KeyboardInterrupt
        return real_scalars(self, step, epoch, values)

    monkeypatch.setattr(trainer.Recorder, "scalars", interrupt_at_step_20)
    with pytest.raises(KeyboardInterrupt):
        runner.run(make_cfg("trainer.epochs=2"))
    monkeypatch.undo()
    cfg = make_cfg("trainer.epochs=2")
    run_dir = next(Path(cfg.results_dir).rglob("seed=0"))
    assert not (run_dir / "summary.json").exists() and not (run_dir / "metrics.csv").exists()
    assert (run_dir / "metrics.csv.partial").exists()
    runner.run(cfg)  # the same command again: starts over cleanly and finishes
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "done"
    assert sorted(p.name for p in run_dir.iterdir() if not p.name.startswith("events")) == [
        ".lock", "config.yaml", "metrics.csv", "summary.json"]


def test_a_failing_job_is_recorded_the_sweep_goes_on_and_exits_nonzero_listing_it(tmp_path):
    # Corrupt data that passes every check: 120 MNIST images but only 100 labels, so the
    # training loop indexes past the labels and raises mid-run.
    import numpy as np
    from conftest import write_idx, write_mnist

    write_mnist(tmp_path / "data", "MNIST")
    write_idx(tmp_path / "data/MNIST/raw/train-labels-idx1-ubyte", np.zeros(100, np.uint8))
    proc = cli("-m", "dataset=mnist,digits", f"dataset.data_dir={tmp_path / 'data'}",
               "trainer.epochs=1", "trainer.batch_size=10", cwd=tmp_path, check=False)
    by_dataset = {s["params"]["dataset"]: s for s in _summaries(tmp_path).values()}
    assert by_dataset["digits"]["status"] == "done"  # the sweep went on after the failure
    assert by_dataset["mnist"]["status"] == "failed" and "Error" in by_dataset["mnist"]["error"]
    assert proc.returncode != 0
    assert "these jobs failed" in proc.stderr and "/mnist-mlp_32/" in proc.stderr


# --- one owner per run folder, no orphans, one job lost at a time -------------------------

SCRIPT = str(Path(sys.executable).with_name("ce-vs-mse"))
LONG = ["model=logreg", "trainer.epochs=60", "threads=1"]  # a few seconds of training


def _start(args, cwd, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([SCRIPT, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)


def _wait_for(predicate, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _partials(cwd: Path) -> list[Path]:
    return list((cwd / "results/runs").rglob("metrics.csv.partial"))


@pytest.mark.slow  # two processes racing, each training for seconds
@pytest.mark.parametrize("apart", [False, True], ids=["together", "seconds apart"])
def test_two_invocations_of_one_configuration_leave_one_complete_run(tmp_path, apart):
    first = _start(LONG, tmp_path)
    if apart:
        _wait_for(lambda: _partials(tmp_path))
        time.sleep(1.0)
    second = _start(LONG, tmp_path)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    said = "".join(outs[1] if apart else outs[0] + outs[1])  # stdout (Hydra's log) + stderr
    assert "is training it; skipped" in said or "already done, skipped" in said
    (run,) = [p.parent for p in (tmp_path / "results/runs").rglob("summary.json")]
    summary = summaries.verify(run)  # complete and vouched for
    assert summary.status == "done" and summary.steps == 60 * 45
    assert len(list(run.glob("events.out.tfevents.*"))) == 1 and not _partials(tmp_path)


@pytest.mark.slow  # a sweep killed while its workers train, then run again
@pytest.mark.parametrize("launcher", [["hydra/launcher=parallel"],
                                      ["hydra/launcher=submitit_local",
                                       "hydra.launcher.timeout_min=5"]])
def test_killing_the_sweep_kills_its_workers(tmp_path, launcher):
    sweep = _start(["-m", "loss=ce,mse", "optimizer.lr=0.1,0.5", *LONG, "trainer.epochs=400",
                    *launcher], tmp_path)
    _wait_for(lambda: _partials(tmp_path))
    workers = [w for pid in _children(sweep.pid) for w in [pid, *_children(pid)]]
    assert workers
    sweep.kill()  # SIGKILL, the main process only
    sweep.wait()
    _wait_for(lambda: not any(_alive(w) for w in workers), timeout=10)
    # and the same command again finds no one else in its folders
    proc = cli("-m", "loss=ce,mse", "optimizer.lr=0.1,0.5", *LONG, "trainer.epochs=2",
               "hydra/launcher=parallel", cwd=tmp_path)
    assert "is training it" not in proc.stderr


@pytest.mark.slow  # a worker killed mid-sweep, then the sweep run again
def test_a_killed_worker_fails_its_job_only_and_a_rerun_trains_it(tmp_path):
    args = ["-m", "optimizer.lr=0.1,0.2,0.3", *LONG, "trainer.epochs=150",
            "hydra/launcher=parallel", "hydra.launcher.n_jobs=2"]
    sweep = _start(args, tmp_path)
    _wait_for(lambda: _partials(tmp_path))
    # the worker training that run: the pid its lock file names
    worker = int((_partials(tmp_path)[0].parent / locks.LOCK).read_text())
    assert worker in _children(sweep.pid)
    os.kill(worker, signal.SIGKILL)  # as the OOM killer would
    _, err = sweep.communicate(timeout=300)
    assert sweep.returncode == 1, err
    assert "killed by SIGKILL" in err and "Traceback" not in err
    statuses = sorted((s["status"], s.get("error")) for s in _summaries(tmp_path).values())
    assert statuses == [("done", None), ("done", None),
                        ("failed", "the worker process was killed by SIGKILL")]
    failed = aggregate.load_runs(tmp_path / "results/runs").table.query("status == 'failed'")
    assert len(failed) == 1 and failed["lr"].iloc[0] in (0.1, 0.2, 0.3)  # counted, with params
    again = cli(*args, cwd=tmp_path)
    assert "3 job(s), 3 seed(s): 1 trained, 2 skipped (done before)" in again.stderr
    assert [s["status"] for s in _summaries(tmp_path).values()] == ["done"] * 3


@pytest.mark.parametrize("launcher", [  # the sweeper checks the jobs, whatever the launcher
    [], pytest.param(["hydra/launcher=parallel"], marks=pytest.mark.slow)])
def test_a_bad_value_in_a_sweep_trains_nothing_and_is_named(tmp_path, launcher):
    proc = cli("-m", "optimizer.lr=0.5,-1,0.1", "trainer.epochs=1", *launcher, cwd=tmp_path,
               check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "job #1 (optimizer.lr=-1 trainer.epochs=1" in proc.stderr
    assert "optimizer.lr=-1.0 must be greater than 0" in proc.stderr
    assert not (tmp_path / "results/runs").exists()


@pytest.mark.slow  # a run interrupted while it trains
def test_ctrl_c_ends_a_run_with_one_line(tmp_path):
    run = _start(LONG, tmp_path)
    _wait_for(lambda: _partials(tmp_path))
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and "Traceback" not in err
    assert "interrupted" in err.splitlines()[-1]


@pytest.mark.slow  # runs and a sweep stopped as SLURM stops them at a time limit
@pytest.mark.parametrize("sweep", [[], ["-m", "optimizer.lr=0.5,0.1", "hydra/launcher=parallel"]],
                         ids=["run", "sweep in forks"])
def test_sigterm_ends_runs_like_ctrl_c_and_the_same_command_trains_them(tmp_path, sweep):
    """SIGTERM (a scheduler's time limit or preemption) used to end a run with exit 143, no
    message and no record; now: one line, the runs in progress recorded as failed, 143."""
    args = [*sweep[:1], *LONG, "trainer.epochs=300", *sweep[1:]]  # long enough to catch
    run = _start(args, tmp_path)
    _wait_for(lambda: _partials(tmp_path))
    os.killpg(run.pid, signal.SIGTERM)  # as SLURM signals a job step: every process in it
    _, err = run.communicate(timeout=60)
    assert run.returncode == 143 and "Traceback" not in err
    assert "terminated (SIGTERM)" in err.splitlines()[-1]
    stopped = _summaries(tmp_path).values()
    assert ("failed", "terminated (SIGTERM)") in {(s["status"], s.get("error")) for s in stopped}
    assert {s["status"] for s in stopped} <= {"done", "failed"}
    cli(*args, cwd=tmp_path)
    assert [s["status"] for s in _summaries(tmp_path).values()] == ["done"] * (2 if sweep else 1)


@pytest.mark.slow  # a run whose writes fail mid-run, then the run again
def test_a_write_that_fails_mid_run_is_recorded_failed_and_retried(tmp_path):
    import resource

    def small_files():  # every file this process writes is cut at 30 kB: EFBIG, like ENOSPC
        resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, 30_000))

    # rows every 10 steps (not only the log-spaced ones): the files pass 30 kB mid-run
    args = [*LONG, "trainer.log_every=10", "trainer.eval_every=10"]
    run = _start(args, tmp_path, preexec_fn=small_files)
    _, err = run.communicate(timeout=300)
    assert run.returncode == 1 and "Traceback" not in err
    assert "failed: OSError: File too large" in err.splitlines()[-1]
    (summary,) = _summaries(tmp_path).values()
    assert summary["status"] == "failed" and "File too large" in summary["error"]
    cli(*args, cwd=tmp_path)
    (summary,) = _summaries(tmp_path).values()
    assert summary["status"] == "done"


def test_a_killed_jobs_runs_are_recorded_failed_with_their_params_and_counted(make_cfg,
                                                                               tmp_path):
    """What a sweep writes for the runs of a job whose process died: a failed summary that
    names the run and its params, so the report counts the seed as failed (it used to write
    status and error only, and the report listed the folder as skipped)."""
    job_dir = tmp_path / "hydra-job"
    job_dir.mkdir()
    job = runner.run(make_cfg("model=logreg", "trainer.epochs=1", "seeds=[0,1]",
                              "optimizer.lr=0.3"), "killed",
                     claimed=sweeps.claimed_note(str(job_dir)))
    (job.run_dirs[1] / "summary.json").unlink()  # seed 1 never finished: its process died
    sweeps._mark_failed(job_dir, "the worker process was killed by SIGKILL")
    table = aggregate.load_runs(tmp_path / "runs").table.set_index("seed")
    assert table.loc[0, "status"] == "done"  # a finished seed is left alone
    assert table.loc[1, "status"] == "failed" and table.loc[1, "lr"] == 0.3
    assert table.loc[1, "error"] == "the worker process was killed by SIGKILL"
    counts = aggregate.by_run(table.reset_index(), "final test/accuracy")
    assert counts[["seeds", "failed"]].values.tolist() == [[2, 1]]


def test_a_failed_submitit_job_is_one_failed_result_not_the_end_of_the_collection(tmp_path):
    """The submitit launchers run inside sweeps.tolerant_submitit: a job that raised (or was
    cancelled) gives a failed JobReturn, and the jobs after it are still collected."""
    import submitit
    from hydra.core.utils import JobStatus

    def work(overrides):
        if overrides == ["bad"]:
            raise RuntimeError("boom")
        return f"ok {overrides[0]}"

    executor = submitit.AutoExecutor(folder=tmp_path, cluster="local")
    executor.update_parameters(timeout_min=2)
    with sweeps.tolerant_submitit():
        jobs = executor.map_array(work, [["good"], ["bad"], ["last"]])
        results = [job.results()[0] for job in jobs]
    assert results[0] == "ok good" and results[2] == "ok last"
    assert results[1].status == JobStatus.FAILED and results[1].overrides == ["bad"]
    assert str(results[1]._return_value).startswith(f"submitit job {jobs[1].job.job_id}: ")
    with pytest.raises(Exception, match="boom"):  # outside it, submitit's own behaviour
        executor.map_array(work, [["bad"]])[0].results()
