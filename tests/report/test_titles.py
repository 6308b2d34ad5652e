"""Panel titles and bar labels name a run's parameters in words, from its table row."""

import pytest

from ce_vs_mse.report import titles


@pytest.mark.parametrize(("row", "columns", "words"), [
    ({"model": "logreg", "hidden": "[]"}, ["model"], "logistic regression"),
    ({"model": "mlp", "hidden": "[32]"}, ["model"], "MLP, 1 hidden layer of 32"),
    ({"hidden": "[32, 32, 32]", "lr": 0.5}, ["hidden", "lr"], "3 hidden layers of 32, η = 0.5"),
    ({"init_scale": 10.0}, ["init_scale"], "initial weights ×10"),
    ({"optimizer": "adam", "lr": 0.001}, ["optimizer", "lr"], "Adam, η = 0.001"),
    ({"lr": 2.0, "label_noise": 0.4}, ["lr", "label_noise"],
     "η = 2, 40 % of training labels wrong"),
    ({"noise": 0.3}, ["noise"], "noise = 0.3"),  # a parameter without words of its own
])
def test_a_runs_parameters_in_words(row, columns, words):
    assert titles.words(row, columns) == words
