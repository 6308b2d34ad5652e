"""The information section's table: the lecture's worked numbers (in bits), the same in nats,
KL = CE − H, and the gradient step each loss takes at z for label 1."""

import math

import pandas as pd
import pytest

from ce_vs_mse.report.document import Document
from ce_vs_mse.report.sections import information

# The lecture ("Entropy Loss"): label True; H of the prediction (0.6, 0.4) is 0.971 bits, and
# the cross-entropy of ŷ = 0.6, 0.9, 0.3 is 0.737, 0.152, 1.737 bits.
LECTURE_CE_BITS = {0.6: 0.737, 0.9: 0.152, 0.3: 1.737}


def test_the_table_has_the_lectures_worked_values_in_bits_and_nats():
    t = information.worked_values().set_index("ŷ")
    assert t.loc[0.6, "H(Ŷ) (bits)"] == pytest.approx(0.971, abs=5e-4)
    assert (t["H(Y) (bits)"] == 0).all()  # a one-hot label, 0·log 0 := 0
    for q, bits in LECTURE_CE_BITS.items():
        assert t.loc[q, "cross-entropy H(Y, Ŷ) (bits)"] == pytest.approx(bits, abs=5e-4)
        assert t.loc[q, "cross-entropy H(Y, Ŷ) (nats)"] == pytest.approx(bits * math.log(2),
                                                                          abs=5e-4)
        assert t.loc[q, "cross-entropy H(Y, Ŷ) (nats)"] == pytest.approx(-math.log(q))
    # KL = CE − H: with H(Y) = 0 it is the cross-entropy itself
    assert t["KL(Y‖Ŷ) (bits)"].to_numpy() == pytest.approx(
        (t["cross-entropy H(Y, Ŷ) (bits)"] - t["H(Y) (bits)"]).to_numpy())


def test_the_gradient_step_is_the_error_and_the_error_times_slope():
    t = information.worked_values().set_index("ŷ")
    for q, ce, slope in ((0.6, -0.4, 0.24), (0.9, -0.1, 0.09), (0.3, -0.7, 0.21)):
        assert t.loc[q, "cross-entropy's ∂ℓ/∂z = ŷ − y"] == pytest.approx(ce)
        assert t.loc[q, "slope σ′(z) = ŷ(1 − ŷ)"] == pytest.approx(slope)
        assert t.loc[q, "squared error's ∂ℓ/∂z = (ŷ − y)·σ′(z)"] == pytest.approx(ce * slope)


def test_the_section_writes_the_table_and_answers_with_its_numbers(tmp_path):
    doc = Document(tmp_path)
    answer = information.draw(doc, None)
    csv = pd.read_csv(tmp_path / "tables/information.csv").set_index("ŷ")
    assert csv["cross-entropy H(Y, Ŷ) (bits)"].to_dict() == LECTURE_CE_BITS
    assert csv["squared error's ∂ℓ/∂z = (ŷ − y)·σ′(z)"].to_dict() == {
        0.6: -0.096, 0.9: -0.009, 0.3: -0.147}
    assert "0.737, 0.152, 1.737 bits" in answer and "-0.096, -0.009, -0.147" in answer
    assert (tmp_path / "figures/bce.png").stat().st_size > 1000
