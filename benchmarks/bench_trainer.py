"""How fast is the shared trainer, against a bare PyTorch loop and a "usual" one?

Run from the repository root (with the project's virtualenv):

    python benchmarks/bench_trainer.py              # full: 5 timed repeats, ~2 min on an idle
                                                    # 2-core machine
    python benchmarks/bench_trainer.py --quick      # smoke test: 1 repeat, 1 epoch each
    python benchmarks/bench_trainer.py --device cuda
    python benchmarks/bench_trainer.py --threads 0  # torch's default threads (one per core)
    python benchmarks/scaling.py                    # how cost grows with replicas and data

Everything runs in this one process. Each measurement is trained for the default 20 epochs
(digits: 900 steps; synthetic MNIST-shaped: 3140 steps; lockstep and separate: 10 and 3
epochs, to keep the 8 separate runs short), once as an untimed warm-up and then ``--repeats``
times, the variants interleaved round by round so that drift in the machine's speed hits all
of them alike. Times are this process's CPU seconds on CPU (on a shared machine, other
processes then slow the numbers far less than they slow wall time) and wall seconds with
``--device cuda``. Speeds are steps per second (one step = one optimizer update; for R
replicas in lockstep, one step updates all R); a ratio is the ratio of the fastest repeats
(``Timing.best_s``: other processes only ever add time).

Workloads
  digits  scikit-learn digits (1437 train / 360 test), MLP 64-32-10, sigmoid hidden layer,
          softmax cross-entropy, SGD lr 0.5, batch 32: the configuration the CLI composes.
  synth   784-100-10 sigmoid MLP on 10000 random standard-normal 784-d inputs (2000 test),
          10 random classes, same loss and optimizer, batch 64.

Measurements
  trainer   ``ce_vs_mse.train.trainer.train`` with one seed and a real ``Recorder`` writing
            TensorBoard events and metrics.csv to a temporary folder; default logging
            (configs/trainer/default.yaml: training scalars and the evaluation of train and
            test on the log-spaced schedule of trainer.per_decade, and at step 0).
  bare      nn.Sequential(Linear, Sigmoid, Linear) of the same sizes, the same data tensors,
            batch size and SGD; a pre-shuffled index tensor; per step only forward,
            F.cross_entropy on the logits, zero_grad, backward, step.
  usual     as bare, but batches come from DataLoader(TensorDataset, shuffle=True, the
            workload's batch size) and every step logs each parameter's gradient norm with
            SummaryWriter.add_scalar(tag, p.grad.norm().item(), step).
  dense     the trainer with trainer.per_decade=48: points ~5 % apart, for steps to target
            measured to within about 5 %.
  per-epoch the trainer as it logged before the log-spaced schedule: trainer.per_decade=0
            (evaluation at each epoch end) and trainer.log_every=10.
  lockstep  one ``train`` call with seeds 0..7 (8 replicas in lockstep) against 8 ``train``
            calls with one seed each; speedup = time(8 separate) / time(lockstep).

Only the training itself is timed: building models, Recorders and writers and closing them
are not. The trainer's progress bar (tqdm, ``disable=None``) is drawn only when stderr is a
terminal; the script says which, since drawing it costs a little time.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.tensorboard import SummaryWriter

from ce_vs_mse.core.data import Data, load
from ce_vs_mse.train import cli, trainer
from ce_vs_mse.train import plan as plans
from ce_vs_mse.train.recorder import Recorder

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")  # shown if set
REPLICAS = 8  # seeds trained in lockstep in the seeds-as-replicas comparison
_run_ids = count()  # unique run-directory names inside the temporary folder


@dataclass
class Workload:
    name: str
    cfg: object  # the composed Hydra config (dataset part unused for synth)
    data: Data
    epochs: int

    @property
    def batch(self) -> int:
        return self.cfg.trainer.batch_size

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.data.x_train.shape[0] / self.batch)

    @property
    def sizes(self) -> list[int]:
        return [self.data.n_features, *self.cfg.model.hidden, self.data.n_classes]


def compose_cfg(*overrides: str):
    """The configuration the CLI would compose (configs/config.yaml) with ``overrides``."""
    with initialize_config_dir(config_dir=str(cli.config_dir()), version_base="1.3"):
        return compose("config", overrides=["dataset=digits", "model=mlp", "loss=ce",
                                             "optimizer=sgd", "optimizer.lr=0.5", *overrides])


def synthetic_data(n_train: int = 10000, n_test: int = 2000, n_features: int = 784,
                   n_classes: int = 10, seed: int = 0) -> Data:
    """MNIST-shaped random data: standard-normal (i.e. standardised) inputs, random labels."""
    g = torch.Generator().manual_seed(seed)
    return Data(torch.randn(n_train, n_features, generator=g),
                torch.randint(0, n_classes, (n_train,), generator=g),
                torch.randn(n_test, n_features, generator=g),
                torch.randint(0, n_classes, (n_test,), generator=g), n_classes)


def digits_workload(epochs: int, device: torch.device) -> Workload:
    cfg = compose_cfg("model.hidden=[32]", "trainer.batch_size=32", f"trainer.epochs={epochs}")
    return Workload("digits", cfg, load(cfg.dataset).to(device), epochs)


def synth_workload(epochs: int, device: torch.device, n_train: int = 10000) -> Workload:
    cfg = compose_cfg("model.hidden=[100]", "trainer.batch_size=64", f"trainer.epochs={epochs}")
    return Workload("synth", cfg, synthetic_data(n_train=n_train).to(device), epochs)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# What the loops time: this process's CPU seconds (the default on CPU: other processes on a
# shared machine then slow the numbers far less than they slow wall time) or wall seconds
# (the default with --device cuda, whose kernels run outside this process's CPU time).
clock = time.process_time


# --- the three loops; each returns (seconds, steps) -------------------------------------------

def make_trainer_run(wl: Workload, seeds: list[int], tmp: Path):
    """A ready-to-call trainer run (plan, model and Recorder built, untimed) and its clean-up."""
    device = wl.data.x_train.device
    plan = plans.make(wl.cfg, "bench", [], wl.data.n_features, wl.data.n_classes)
    model = plan.build_model(seeds).to(device)
    run = next(_run_ids)
    rec = Recorder([tmp / f"run{run}" / f"seed={s}" for s in seeds], trainer.metric_names(model))

    def go() -> tuple[float, int]:
        sync(device)
        start = clock()
        steps = trainer.train(model, plan, wl.data, seeds, rec).steps
        sync(device)
        return clock() - start, steps

    return go, rec.close


def with_trainer(wl: Workload, **keys) -> Workload:
    """``wl`` with other ``trainer.*`` values, e.g. ``per_decade=48``."""
    cfg = wl.cfg.copy()
    for key, value in keys.items():
        cfg.trainer[key] = value
    return Workload(wl.name, cfg, wl.data, wl.epochs)


def run_trainer(wl: Workload, seeds: list[int], tmp: Path) -> tuple[float, int]:
    go, close = make_trainer_run(wl, seeds, tmp)
    try:
        return go()
    finally:
        close()


def bare_model(wl: Workload) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(wl.sizes[:-1], wl.sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.Sigmoid()]
    return nn.Sequential(*layers[:-1]).to(wl.data.x_train.device)  # logits out: no last sigmoid


def sgd(wl: Workload, model: nn.Module) -> torch.optim.SGD:
    o = wl.cfg.optimizer
    return torch.optim.SGD(model.parameters(), lr=o.lr, momentum=o.momentum,
                           weight_decay=o.weight_decay)


def run_bare(wl: Workload, seed: int = 0) -> tuple[float, int]:
    """Forward, loss, backward, step; nothing else inside the timed loop."""
    x, y, batch, device = wl.data.x_train, wl.data.y_train, wl.batch, wl.data.x_train.device
    torch.manual_seed(seed)
    model = bare_model(wl)
    optimizer = sgd(wl, model)
    n = x.shape[0]
    order = torch.stack([torch.randperm(n) for _ in range(wl.epochs)]).to(device)
    steps = 0
    sync(device)
    start = clock()
    for epoch in range(wl.epochs):
        for i in range(wl.steps_per_epoch):
            idx = order[epoch, i * batch:(i + 1) * batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps += 1
    sync(device)
    return clock() - start, steps


def run_usual(wl: Workload, tmp: Path, seed: int = 0) -> tuple[float, int]:
    """The textbook loop: DataLoader batches and a gradient-norm scalar per parameter per step."""
    device = wl.data.x_train.device
    torch.manual_seed(seed)
    model = bare_model(wl)
    optimizer = sgd(wl, model)
    dataset = TensorDataset(wl.data.x_train.cpu(), wl.data.y_train.cpu())
    loader = DataLoader(dataset, batch_size=wl.batch, shuffle=True)
    writer = SummaryWriter(log_dir=str(tmp / f"usual{next(_run_ids)}"))
    steps = 0
    try:
        sync(device)
        start = clock()
        for _ in range(wl.epochs):
            for xb, yb in loader:
                xb, yb = xb.to(device), yb.to(device)
                loss = F.cross_entropy(model(xb), yb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                steps += 1
                for name, p in model.named_parameters():
                    writer.add_scalar(f"grad_norm/{name}", p.grad.norm().item(), steps)
        sync(device)
        return clock() - start, steps
    finally:
        writer.close()


def run_separate(wl: Workload, tmp: Path) -> tuple[float, int]:
    """REPLICAS train calls with one seed each; the time is their sum."""
    total, steps = 0.0, 0
    for s in range(REPLICAS):
        seconds, n = run_trainer(wl, [s], tmp)
        total, steps = total + seconds, steps + n
    return total, steps


# --- measuring and reporting ------------------------------------------------------------------

@dataclass
class Timing:
    seconds: list[float]
    steps: int  # steps of one repeat

    @property
    def best_s(self) -> float:
        """The fastest repeat: on a shared machine other processes only ever add time (cache
        and core contention, even to CPU time), so the fastest of interleaved repeats is the
        least disturbed; the ratios compare these."""
        return min(self.seconds)

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.best_s

    def spread(self) -> str:
        """min-max of steps/s over the repeats."""
        return f"{self.steps / max(self.seconds):.0f}-{self.steps / min(self.seconds):.0f}"


def measure(variants: dict[str, Callable[[], tuple[float, int]]], repeats: int) -> dict:
    """One untimed warm-up of every variant, then ``repeats`` interleaved rounds."""
    for fn in variants.values():
        fn()
    seconds: dict[str, list[float]] = {k: [] for k in variants}
    steps: dict[str, int] = {}
    for _ in range(repeats):
        for name, fn in variants.items():
            s, n = fn()
            seconds[name].append(s)
            steps[name] = n
    return {k: Timing(seconds[k], steps[k]) for k in variants}


def bench_workload(wl: Workload, lockstep_epochs: int, repeats: int,
                   tmp: Path) -> list[tuple[str, ...]]:
    short = Workload(wl.name, wl.cfg.copy(), wl.data, lockstep_epochs)
    short.cfg.trainer.epochs = lockstep_epochs
    print(f"\n[{wl.name}] sizes {'-'.join(map(str, wl.sizes))}, batch {wl.batch}, "
          f"{wl.data.x_train.shape[0]} train / {wl.data.x_test.shape[0]} test examples, "
          f"{wl.epochs} epochs x {wl.steps_per_epoch} steps = {wl.epochs * wl.steps_per_epoch} "
          f"steps per run ({lockstep_epochs} epochs for lockstep and separate), {repeats} "
          "repeats", flush=True)
    dense, per_epoch = with_trainer(wl, per_decade=48), with_trainer(wl, per_decade=0, log_every=10)
    t = measure({
        "trainer": lambda: run_trainer(wl, [0], tmp),
        "bare": lambda: run_bare(wl),
        "usual": lambda: run_usual(wl, tmp),
        "dense": lambda: run_trainer(dense, [0], tmp),
        "per-epoch": lambda: run_trainer(per_epoch, [0], tmp),
        "lockstep": lambda: run_trainer(short, list(range(REPLICAS)), tmp),
        "separate": lambda: run_separate(short, tmp),
    }, repeats)
    bare = t["bare"].steps_per_s
    for name, timing in t.items():
        print(f"  {name:<9} best {timing.best_s:7.3f} s (median {timing.median_s:7.3f})  "
              f"{timing.steps_per_s:8.0f} steps/s  (range {timing.spread()})", flush=True)
    speedup = t["separate"].best_s / t["lockstep"].best_s
    sep_per_call = t["separate"].steps / REPLICAS
    rows = [
        (wl.name, "trainer / bare", f"{t['trainer'].steps_per_s / bare:.2f}x",
         f"{t['trainer'].steps_per_s:.0f}", f"{bare:.0f}"),
        (wl.name, "dense (5 %) / bare", f"{t['dense'].steps_per_s / bare:.2f}x",
         f"{t['dense'].steps_per_s:.0f}", f"{bare:.0f}"),
        (wl.name, "per-epoch / bare", f"{t['per-epoch'].steps_per_s / bare:.2f}x",
         f"{t['per-epoch'].steps_per_s:.0f}", f"{bare:.0f}"),
        (wl.name, "usual / bare", f"{t['usual'].steps_per_s / bare:.2f}x",
         f"{t['usual'].steps_per_s:.0f}", f"{bare:.0f}"),
        (wl.name, f"lockstep speedup ({REPLICAS} seeds)", f"{speedup:.2f}x",
         f"{REPLICAS * t['lockstep'].steps_per_s:.0f} (replica-steps/s)",
         f"{REPLICAS * sep_per_call / t['separate'].best_s:.0f} (replica-steps/s)"),
    ]
    return rows


def print_table(rows: list[tuple[str, ...]]) -> None:
    header = ("workload", "ratio", "value", "numerator steps/s", "denominator steps/s")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print()
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))


def machine_line(device: torch.device) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = f", GPU {torch.cuda.get_device_name(device)}" if device.type == "cuda" else ""
    env = [f"{k}={os.environ[k]}" for k in THREAD_ENV if k in os.environ]
    return (f"machine: {cpu} ({platform.machine()}), {os.cpu_count()} CPUs ({usable} usable), "
            f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
            f"Python {platform.python_version()}, device {device}{gpu}"
            + (f", {' '.join(env)}" if env else ""))


def cpu_snapshot() -> tuple[float, float] | None:
    """(CPU-seconds the machine has been busy since boot, CPU-seconds of this process and its
    children), from Linux's /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK"), sum(os.times()[:4])


def report_other_load(before: tuple[float, float] | None, wall: float) -> None:
    """Say how much CPU other processes took during the run: any sizeable share invalidates
    the numbers. With torch's default of one thread per core, a second CPU-bound process (a
    test suite, say) leaves torch's OpenMP threads waiting on each other at every parallel
    op, and the small ops of these workloads then run ten to fifty times slower."""
    after = cpu_snapshot()
    if before is None or after is None:
        return
    other = max(0.0, (after[0] - before[0]) - (after[1] - before[1]))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    share = other / (wall * (cores or 1))
    note = "  WARNING: machine busy, numbers not valid; rerun when idle" if share > 0.05 else ""
    print(f"other processes used {other:.1f} CPU-s during the run ({share:.0%} of the "
          f"machine){note}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 1 repeat of 1 epoch per workload")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 5)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads for every variant (default 1, the suite's default "
                         "`threads=1`; 0 keeps torch's default of one per core)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("bench_trainer: --device cuda but no CUDA GPU is visible")
    device = torch.device(args.device)
    repeats = args.repeats or (1 if args.quick else 5)
    epochs, lockstep_epochs = ((1, 1), (1, 1)) if args.quick else ((20, 20), (10, 3))
    global clock
    clock = time.perf_counter if device.type == "cuda" else time.process_time

    print(machine_line(device))
    print(f"torch.get_num_threads() = {torch.get_num_threads()}; trainer progress bar "
          f"{'drawn (stderr is a terminal)' if sys.stderr.isatty() else 'off (no terminal)'}; "
          f"timed by {'wall' if device.type == 'cuda' else 'CPU'} seconds")
    before = cpu_snapshot()
    start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_trainer-") as tmp:
        workloads = (digits_workload(epochs[0], device), synth_workload(epochs[1], device))
        for wl, short in zip(workloads, lockstep_epochs, strict=True):
            rows += bench_workload(wl, short, repeats, Path(tmp))
    print_table(rows)
    print(f"\n{machine_line(device)}")
    wall = time.perf_counter() - start
    print(f"total wall time {wall:.0f} s")
    report_other_load(before, wall)


if __name__ == "__main__":
    main()
