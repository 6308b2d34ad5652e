"""The Recorder: per-replica values and shared floats land in each run's metrics.csv and
event file, and a running job's files reach the disk every FLUSH_SECS."""

import pandas as pd
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ce_vs_mse import recorder


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
