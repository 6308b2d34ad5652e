"""The Recorder: per-replica values and shared floats land in each run's metrics.csv and
event file, and a running job's files reach the disk every FLUSH_SECS; histograms are the
first replica's only; the HParams session ends only in a run that kept its metrics."""

import pandas as pd
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ce_vs_mse.train import board, recorder, runner


def test_each_replica_gets_its_own_values_and_the_shared_floats(tmp_path):
    dirs = [tmp_path / "seed=0", tmp_path / "seed=1"]
    rec = recorder.Recorder(dirs, ["train/loss", "lr"])
    rec.scalars(10, 1, {"train/loss": torch.tensor([0.5, 0.25]), "lr": 0.1})
    rec.close()
    for d, loss in zip(dirs, (0.5, 0.25), strict=True):
        row = pd.read_csv(d / "metrics.csv").iloc[0]
        assert (row["step"], row["train/loss"], row["lr"]) == (10, loss, pytest.approx(0.1))
        acc = EventAccumulator(str(d)).Reload()
        assert [(e.step, e.value) for e in acc.Scalars("train/loss")] == [(10, loss)]


def test_files_are_flushed_once_the_last_flush_is_older_than_flush_secs(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(recorder.time, "monotonic", lambda: clock[0])
    rec = recorder.Recorder([tmp_path], ["train/loss"])
    partial = tmp_path / "metrics.csv.partial"
    rec.scalars(1, 0, {"train/loss": torch.tensor([0.5])})
    assert "0.5" not in partial.read_text()  # still buffered
    clock[0] += recorder.FLUSH_SECS + 0.1
    rec.scalars(2, 0, {"train/loss": torch.tensor([0.25])})
    assert partial.read_text().splitlines()[1:] == ["1,0,0.5", "2,0,0.25"]
    rec.close()


def _events(run_dir):
    return EventAccumulator(str(run_dir), size_guidance={"histograms": 0, "tensors": 0}).Reload()


def test_histograms_are_the_first_replicas_only(tmp_path):
    dirs = [tmp_path / "seed=0", tmp_path / "seed=1"]
    rec = recorder.Recorder(dirs, ["train/loss"])
    rec.histograms(3, {"grad/output.weight": torch.tensor([[1.0, 2.0, float("nan")],
                                                           [3.0, 4.0, 5.0]])})
    rec.close()
    (hist,) = _events(dirs[0]).Histograms("grad/output.weight")
    assert (hist.step, hist.histogram_value.num, hist.histogram_value.sum) == (3, 2, 3.0)
    assert _events(dirs[1]).Tags()["histograms"] == []


def test_steps_to_target_only_where_reached_and_sessions_end_only_with_their_metrics(tmp_path):
    dirs = [tmp_path / "seed=0", tmp_path / "seed=1"]
    rec = recorder.Recorder(dirs, ["test/accuracy"])
    for s, writer in enumerate(rec.writers):
        writer.hparams({p: "x" if p in board.choices() or p in board.TEXT else s
                        for p in board.ORDER})
    rec.steps_to_target([40, None])
    rec.close()
    reached, never = _events(dirs[0]), _events(dirs[1])
    assert [(e.step, e.value) for e in reached.Scalars(board.STEPS_TO_TARGET)] == [(40, 40.0)]
    assert board.STEPS_TO_TARGET not in never.Tags()["scalars"]
    for acc in (reached, never):
        assert {"_hparams_/experiment", "_hparams_/session_start_info",
                "_hparams_/session_end_info", "custom_scalars__config__"} <= set(
                    acc.Tags()["tensors"])

    interrupted = recorder.Recorder([tmp_path / "cut"], ["test/accuracy"])
    interrupted.writers[0].hparams({p: 0 for p in board.ORDER})
    interrupted.close(keep_metrics=False)
    assert "_hparams_/session_end_info" not in _events(tmp_path / "cut").Tags()["tensors"]


@pytest.mark.parametrize("every", [0, 1])
def test_the_trainer_writes_histograms_only_when_asked(make_cfg, every):
    cfg = make_cfg("model=logreg", "trainer.epochs=2", f"trainer.hist_every_epochs={every}",
                   "seeds=[0,1]")
    first, second = runner.run(cfg).run_dirs
    tags = {"grad/output.weight", "grad/output.bias"} if every else set()
    assert set(_events(first).Tags()["histograms"]) == tags
    assert _events(second).Tags()["histograms"] == []
