"""The gradients section: |∂ℓ/∂z| on a log axis that holds every value its caption gives, the
softmax with the experiments' K = 10 classes, closed forms equal to autograd."""

import re

import pytest
import torch

from ce_vs_mse.core import losses
from ce_vs_mse.report import document
from ce_vs_mse.report.sections import gradients


def test_the_caption_values_are_on_the_log_axis(tmp_path, monkeypatch):
    kept = {}
    save = document.Document.figure

    def keep(self, fig, name, caption):
        kept.update(fig=fig, caption=caption)
        save(self, fig, name, caption)

    monkeypatch.setattr(document.Document, "figure", keep)
    answer = gradients.draw(document.Document(tmp_path), None)
    (ax,) = [a for a in kept["fig"].axes if a.get_ylabel()]
    assert ax.get_yscale() == "log"
    low, high = ax.get_ylim()
    values = [float(v) for v in re.findall(r"passes back ([0-9.e+-]+)", kept["caption"])]
    assert len(values) == len(gradients.CASES)
    assert all(low < v < high for v in values), (values, (low, high))
    assert "9 for squared error on a linear output" in answer  # |z - y| at z = -8


@pytest.mark.parametrize(("head", "loss"), gradients.CASES)
def test_closed_forms_equal_autograd_with_ten_classes(head, loss):
    z = torch.linspace(-8, 8, 33, dtype=torch.float64)
    logits, y = gradients.true_class_logits(z, head)
    assert logits.shape[-1] == (10 if head == "softmax" else 1)
    closed = losses.grad_wrt_z(loss, head, logits, y)[:, -1]
    assert closed.numpy() == pytest.approx(gradients.autograd(z, head, loss).numpy(), abs=1e-12)
