"""The event-file writer against TensorBoard's own: same checksums, same records, and files
that TensorBoard's reader (which verifies every checksum) reads back."""

import io
import random

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_crc
from tensorboard.summary.writer.record_writer import RecordWriter
from torch.utils.tensorboard.summary import histogram

from ce_vs_mse.train import events


@pytest.mark.parametrize("length", [0, 1, 3, 8, 100, 4099])
def test_checksum_is_tensorboards(length):
    data = random.Random(length).randbytes(length)
    assert events.masked_crc32c(data) == tb_crc(data)


def test_record_framing_is_tensorboards():
    data = b"an Event proto, serialised" * 7
    buffer = io.BytesIO()
    RecordWriter(buffer).write(data)
    assert events.record(data) == buffer.getvalue()


def test_tensorboard_reads_back_scalars_and_histograms(tmp_path):
    f = events.EventFile(tmp_path)
    for step in range(3):
        f.add_summary(Summary(value=[Summary.Value(tag="a/b", simple_value=0.5 * step),
                                     Summary.Value(tag="c", simple_value=-1.0)]), step)
    f.add_summary(histogram("g", np.array([0.0, 1.0, 1.0, 3.0]), 4), step=7)
    f.close()
    second = events.EventFile(tmp_path)  # the same second: a different name
    second.close()
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2

    acc = EventAccumulator(str(_first(tmp_path)),
                           size_guidance={"scalars": 0, "histograms": 0}).Reload()
    assert [(e.step, e.value) for e in acc.Scalars("a/b")] == [(0, 0.0), (1, 0.5), (2, 1.0)]
    assert [e.value for e in acc.Scalars("c")] == [-1.0] * 3
    (hist,) = acc.Histograms("g")
    assert hist.step == 7
    assert (hist.histogram_value.num, hist.histogram_value.sum) == (4, 5.0)
    assert (hist.histogram_value.min, hist.histogram_value.max) == (0.0, 3.0)


def _first(folder):
    """The file written first (names end in a per-process counter)."""
    return min(folder.glob("events.out.tfevents.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
