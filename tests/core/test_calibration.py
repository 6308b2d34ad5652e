"""ECE and the Brier score against worked numbers and an independent NumPy implementation,
and as the trainer's evaluation logs them for every replica."""

import numpy as np
import pytest
import torch
from scipy.special import expit, softmax

from ce_vs_mse.core import calibration, losses
from ce_vs_mse.core.models import ReplicaMLP, predict
from ce_vs_mse.train import trainer

# Four examples, three classes; confidence = the top probability; bins of width 1/15:
#   p                   y  conf  correct  bin (m/15)        Σ_k (p_k - y_k)²
#   (0.70, 0.20, 0.10)  0  0.70  1        (10/15, 11/15]    0.3² + 0.2² + 0.1²    = 0.14
#   (0.28, 0.62, 0.10)  0  0.62  0        (9/15, 10/15]     0.72² + 0.62² + 0.1² = 0.9128
#   (0.10, 0.05, 0.85)  2  0.85  1        (12/15, 13/15]    0.1² + 0.05² + 0.15² = 0.035
#   (0.20, 0.72, 0.08)  1  0.72  1        (10/15, 11/15]    0.2² + 0.28² + 0.08² = 0.1248
# ECE = 2/4·|1 - (0.70+0.72)/2| + 1/4·|0 - 0.62| + 1/4·|1 - 0.85|
#     = 0.145 + 0.155 + 0.0375 = 0.3375
# Brier = (0.14 + 0.9128 + 0.035 + 0.1248) / 4 = 0.30315
P = torch.tensor([[0.70, 0.20, 0.10], [0.28, 0.62, 0.10], [0.10, 0.05, 0.85],
                  [0.20, 0.72, 0.08]], dtype=torch.float64)
Y = torch.tensor([0, 0, 2, 1])


def test_ece_and_brier_of_a_worked_example():
    confidence, predicted = P.max(-1)
    ece = calibration.expected_calibration_error(confidence, (predicted == Y).double())
    assert ece.item() == pytest.approx(0.3375, abs=1e-12)
    brier = calibration.brier(P, Y)
    torch.testing.assert_close(brier, torch.tensor([0.14, 0.9128, 0.035, 0.1248],
                                                   dtype=torch.float64))
    assert brier.mean().item() == pytest.approx(0.30315, abs=1e-12)


def test_ece_compares_each_bins_accuracy_with_its_confidence():
    # Both at 0.9: the bin's accuracy is 0.5, so ECE = |0.5 - 0.9| = 0.4 (not the mean of the
    # examples' own gaps, (0.1 + 0.9) / 2 = 0.5).
    ece = calibration.expected_calibration_error(torch.tensor([0.9, 0.9]), torch.tensor([1., 0.]))
    assert ece.item() == pytest.approx(0.4)
    # A perfectly calibrated bin contributes nothing; the ends 0 and 1 fall into bins.
    conf = torch.tensor([0.75, 0.75, 0.75, 0.75, 1.0, 0.0])
    ece = calibration.expected_calibration_error(conf, torch.tensor([1., 1., 1., 0., 1., 0.]))
    assert ece.item() == pytest.approx(0.0, abs=1e-7)
    # Bins are closed on the right, ((m-1)/M, m/M]: with M = 4, 0.5 is in (0.25, 0.5] and 0.6
    # in (0.5, 0.75], so ECE = (|1 - 0.5| + |0 - 0.6|) / 2 (in one bin it would be 0.05).
    ece = calibration.expected_calibration_error(torch.tensor([0.5, 0.6]), torch.tensor([1., 0.]),
                                                 bins=4)
    assert ece.item() == pytest.approx(0.55)


def _numpy_ece(conf: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Guo et al.'s definition, bin by bin: Σ_m (|B_m|/n) |acc(B_m) - conf(B_m)|."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for m, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        in_bin = (conf > lo) & (conf <= hi) | ((conf == 0) if m == 0 else False)
        if in_bin.any():
            total += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
    return total


def _numpy_probabilities(z: np.ndarray, head: str) -> np.ndarray:
    if head == "sigmoid":
        a = expit(z)
        return np.concatenate([1 - a, a], -1) if z.shape[-1] == 1 else a
    return softmax(z, axis=-1)


CASES = [("softmax", 10), ("linear", 10), ("sigmoid", 10), ("sigmoid", 1)]


@pytest.mark.parametrize("head,units", CASES)
def test_against_numpy_on_random_outputs_of_every_replica(head, units):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(4, 500, units, generator=g, dtype=torch.float64) * 3  # (R, N, K)
    y = torch.randint(0, max(units, 2), (4, 500), generator=g)
    p = calibration.probabilities(z, head)
    ece = calibration.expected_calibration_error(p.amax(-1), (predict(z) == y).double())
    brier = calibration.brier(p, y).mean(-1)
    assert ece.shape == brier.shape == (4,)
    for r in range(4):
        p_np = _numpy_probabilities(z[r].numpy(), head)
        y_np = y[r].numpy()
        np.testing.assert_allclose(p[r].numpy(), p_np, rtol=1e-12, atol=1e-15)
        conf, correct = p_np.max(-1), (p_np.argmax(-1) == y_np).astype(float)
        assert ece[r].item() == pytest.approx(_numpy_ece(conf, correct), abs=1e-12)
        one_hot = np.eye(p_np.shape[-1])[y_np]
        assert brier[r].item() == pytest.approx(((p_np - one_hot) ** 2).sum(-1).mean(), abs=1e-12)


@pytest.mark.parametrize("head,units", CASES)
def test_the_confidence_is_the_probability_of_the_predicted_class(head, units):
    # Also when saturated: σ rounds to 1 for z > ~17 in float32, and several units tie.
    z = torch.tensor([[0.0] * units, [30.0] * units, [-3.0] * units])
    z[0, 0], z[1, -1] = 2.0, 40.0
    p = calibration.probabilities(z, head)
    torch.testing.assert_close(p.gather(-1, predict(z).unsqueeze(-1)).squeeze(-1), p.amax(-1))


def test_brier_is_twice_or_four_times_the_evaluation_squared_error():
    # The suite's squared error has a ½ and, for one sigmoid unit, counts one class of two.
    g = torch.Generator().manual_seed(1)
    for head, units, factor in [("softmax", 5, 2), ("sigmoid", 5, 2), ("sigmoid", 1, 4)]:
        z = torch.randn(3, 50, units, generator=g, dtype=torch.float64)
        y = torch.randint(0, max(units, 2), (3, 50), generator=g)
        mse = losses.evaluation_losses(z, y, head)["mse"]
        torch.testing.assert_close(calibration.brier(calibration.probabilities(z, head), y),
                                   factor * mse)


@pytest.mark.parametrize("head,units", CASES)
def test_the_evaluation_logs_ece_and_brier_of_each_replica_on_each_split(head, units):
    model = ReplicaMLP([6, 8, units], "sigmoid", seeds=[0, 1, 2], init_scale=3.0)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(300, 6, generator=g)
    y = torch.randint(0, max(units, 2), (300,), generator=g)
    splits = {"train": slice(0, 200), "test": slice(200, None)}
    values = trainer.evaluate(model, head, x, y, splits)
    # every evaluation tag of metrics.csv, and nothing else (the gradient ratio's reference
    # is one number for all splits)
    evals = {t for t in trainer.metric_names(model) if t.split("/")[0] in splits} - {"train/loss"}
    evals |= {"grad_ratio_uniform"}
    assert set(values) == evals and {"train/ece", "test/ece", "train/brier", "test/brier"} < evals
    with torch.no_grad():
        z = model(x).double().numpy()
    for split, rows in splits.items():
        for r in range(3):
            p = _numpy_probabilities(z[r, rows], head)
            labels = y[rows].numpy()
            correct = (p.argmax(-1) == labels).astype(float)
            assert values[f"{split}/accuracy"][r].item() == pytest.approx(correct.mean())
            assert values[f"{split}/ece"][r].item() == pytest.approx(
                _numpy_ece(p.max(-1), correct), abs=1e-5)
            brier = ((p - np.eye(p.shape[-1])[labels]) ** 2).sum(-1).mean()
            assert values[f"{split}/brier"][r].item() == pytest.approx(brier, abs=1e-5)
