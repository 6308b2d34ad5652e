"""The shared trainer: replicas equal their seed trained alone; seeds pair runs up across
losses; the logged output gradient is the autograd gradient at z."""

import json
import math

import numpy as np
import pytest
import torch
from conftest import read_metrics

from ce_vs_mse.core import data as datasets
from ce_vs_mse.core import losses, models, schedule, seeding
from ce_vs_mse.train import runner, trainer

FAST = ["trainer.epochs=2", "trainer.log_every=5"]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_replica_equals_its_seed_trained_alone(make_cfg, results_dir, optimizer):
    together = runner.run(make_cfg(*FAST, f"optimizer={optimizer}", "seeds=[0,1,2]")).run_dirs
    alone = runner.run(make_cfg(*FAST, f"optimizer={optimizer}", "seeds=[1]",
                                f"results_dir={results_dir}/alone")).run_dirs
    a, b = read_metrics(together[1]), read_metrics(alone[0])
    assert list(a.columns) == list(b.columns) and len(a) == len(b) > 10
    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-5, atol=1e-5)
    # ... and the seeds really are different replicas.
    c = read_metrics(together[0])
    assert not np.allclose(a["train/loss"].dropna(), c["train/loss"].dropna())


def test_same_seed_same_start_and_batch_order_whatever_the_loss(make_cfg):
    ce = runner.run(make_cfg(*FAST, "loss=ce", "seeds=[3]")).run_dirs[0]
    mse = runner.run(make_cfg(*FAST, "loss=mse", "seeds=[3]")).run_dirs[0]
    assert ce != mse
    m_ce, m_mse = read_metrics(ce), read_metrics(mse)
    # Step 0 evaluates the untrained network: identical initial weights give identical numbers.
    evals = ["train/accuracy", "train/ce", "train/mse", "test/accuracy", "test/ce", "test/mse"]
    pd_row = (m_ce.iloc[0][evals] - m_mse.iloc[0][evals]).abs()
    assert (pd_row < 1e-7).all()
    assert m_ce.iloc[-1]["test/ce"] != m_mse.iloc[-1]["test/ce"]  # and then they train apart


def test_shared_inputs_give_every_replica_what_its_own_batch_gives():
    """The evaluation path (one (N, D) input, one matrix product for all replicas) against
    the training path (a batch per replica)."""
    model = models.ReplicaMLP([6, 5, 4, 3], "sigmoid", seeds=[0, 1, 2])
    x = torch.randn(7, 6)
    shared = model(x)
    assert shared.shape == (3, 7, 3)
    torch.testing.assert_close(shared, model(x.expand(3, -1, -1)))
    alone = models.ReplicaMLP([6, 5, 4, 3], "sigmoid", seeds=[1])
    torch.testing.assert_close(shared[1], alone(x)[0])


def test_batch_order_stream_is_independent_of_init_stream():
    a = torch.randperm(100, generator=seeding.generator(0, "order"))
    b = torch.randperm(100, generator=seeding.generator(0, "init"))
    c = torch.randperm(100, generator=seeding.generator(0, "order"))
    assert torch.equal(a, c) and not torch.equal(a, b)


def test_logged_output_gradient_is_the_per_example_gradient_at_z(make_cfg):
    """Reproduce step 1 by hand and compare with the logged mean |∂ℓ/∂z|."""
    cfg = make_cfg("dataset=breast_cancer", "model=logreg", "loss=mse", "trainer.log_every=1",
                   "trainer.epochs=1", "seeds=[4]")
    run_dir = runner.run(cfg).run_dirs[0]
    logged = read_metrics(run_dir).set_index("step").loc[1, "output/grad_z_abs_mean"]

    data = datasets.load(cfg.dataset)
    model, head = models.build(cfg, data.n_features, data.n_classes, [4])
    order = torch.randperm(data.x_train.shape[0], generator=seeding.generator(4, "order"))
    idx = order[: cfg.trainer.batch_size].unsqueeze(0)
    z = model(data.x_train[idx])
    y = data.y_train[idx]
    expected = losses.grad_wrt_z("mse", head, z.detach(), y).abs().mean().item()
    assert head == "sigmoid" and z.shape[-1] == 1
    assert logged == pytest.approx(expected, rel=1e-5)


def test_summary_reports_steps_to_target_from_the_logged_curve(make_cfg):
    run_dir = runner.run(make_cfg(*FAST, "trainer.target_accuracy=0.5", "seeds=[0]")).run_dirs[0]
    summary = json.loads((run_dir / "summary.json").read_text())
    m = read_metrics(run_dir).dropna(subset=["test/accuracy"])
    first = m[m["test/accuracy"] >= 0.5].iloc[0]
    assert summary["status"] == "done"
    assert summary["steps_to_target"] == first["step"]
    assert summary["epochs_to_target"] == first["epoch"]
    assert summary["final"]["test/accuracy"] == pytest.approx(m["test/accuracy"].iloc[-1])


def _saturation_scalars(z, y, head: str, loss: str) -> tuple[float, float]:
    """The logged saturated and saturated-and-wrong fractions of outputs ``z`` (R, B, K)."""
    model = models.ReplicaMLP([2, 3], "sigmoid", seeds=[0])
    model(torch.zeros(1, 4, 2)).sum().backward()  # the grad norms need some gradient
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    z = torch.tensor(z, dtype=torch.float32, requires_grad=True)
    y = torch.tensor(y)
    losses.objective(loss, z, y, head).backward()
    values = trainer._training_scalars(model, z, y, losses.Bound(loss, head), optimizer)
    return (values["output/saturated_fraction"].item(),
            values["output/saturated_wrong_fraction"].item())


def test_saturated_wrong_counts_the_confident_mistakes_by_hand():
    # softmax, two examples of three classes:
    #   z = (-10, 10, 0), class 0: p ≈ (2e-9, 0.99995, 4.5e-5): all three units saturated
    #     (p(1-p) < 0.01); unit 0 (target 1, p < ½) and unit 1 (target 0, p > ½) are wrong,
    #     unit 2 (target 0, p < ½) is right.
    #   z = (0, 0, 0), class 2: p = ⅓ each, slope 2/9: none saturated (unit 2 is wrong).
    assert _saturation_scalars([[[-10.0, 10.0, 0.0], [0.0, 0.0, 0.0]]], [[0, 2]],
                               "softmax", "mse") == pytest.approx((3 / 6, 2 / 6))
    # one sigmoid unit: σ(-8) ≈ 3e-4 with label 1 (saturated, wrong); σ(8) with label 1
    # (saturated, right); σ(0.5) = 0.62 with label 0 (wrong, not saturated)
    assert _saturation_scalars([[[-8.0], [8.0], [0.5]]], [[1, 1, 0]],
                               "sigmoid", "mse") == pytest.approx((2 / 3, 1 / 3))
    # a linear head has slope 1: never saturated, however wrong
    assert _saturation_scalars([[[-5.0, 5.0, 0.0]]], [[0]], "linear", "mse") == (0.0, 0.0)


def test_saturated_wrong_is_logged_and_never_exceeds_saturated(make_cfg):
    run_dir = runner.run(make_cfg(*FAST, "loss=mse", "model.init_scale=10",
                                  "seeds=[0]")).run_dirs[0]
    m = read_metrics(run_dir).dropna(subset=["output/saturated_fraction"])
    both = m[["output/saturated_fraction", "output/saturated_wrong_fraction"]]
    assert (both["output/saturated_wrong_fraction"] <= both["output/saturated_fraction"]).all()
    assert both["output/saturated_wrong_fraction"].max() > 0  # ×10 weights: confident mistakes


def test_rows_follow_the_schedule_and_steps_to_target_is_within_its_spacing(make_cfg,
                                                                           results_dir):
    """The log-spaced schedule evaluates at step 0 and its own steps only, and finds the
    target within its spacing (48 a decade: ~5 %) of the step a run evaluated at every step
    finds; the training itself is the same."""
    common = ["model=logreg", "trainer.epochs=3", "trainer.target_accuracy=0.9", "seeds=[2]"]
    spaced = runner.run(make_cfg(*common, "trainer.per_decade=48")).run_dirs[0]
    every = runner.run(make_cfg(*common, "trainer.eval_every=1", "trainer.log_every=1",
                                f"results_dir={results_dir}/every")).run_dirs[0]
    a, b = read_metrics(spaced), read_metrics(every).set_index("step")
    steps = 3 * 45
    expected = schedule.log_spaced(steps, 48) | {steps}
    assert list(a["step"]) == [0, *sorted(expected)]
    assert a["test/accuracy"].notna().all() and a["train/loss"].iloc[1:].notna().all()
    np.testing.assert_allclose(a.set_index("step").to_numpy(float), b.loc[a["step"]].to_numpy(
        float), rtol=1e-6)
    s_spaced = json.loads((spaced / "summary.json").read_text())["steps_to_target"]
    s_every = json.loads((every / "summary.json").read_text())["steps_to_target"]
    assert 20 < s_every <= s_spaced <= 1.08 * s_every
    assert b.loc[s_every, "test/accuracy"] >= 0.9 > b.loc[:s_every - 1, "test/accuracy"].max()


def test_seeds_split_into_groups_train_as_in_one_group(make_cfg, results_dir, monkeypatch):
    one = runner.run(make_cfg(*FAST, "seeds=[0,1,2]")).run_dirs
    parameters = 64 * 32 + 32 + 32 * 10 + 10  # digits, 64-32-10
    monkeypatch.setattr(runner, "GROUP_PARAMETERS", 2 * parameters)  # groups [0, 1], [2]
    assert runner.group_size(parameters) == 2
    job = runner.run(make_cfg(*FAST, "seeds=[0,1,2]", f"results_dir={results_dir}/grouped"))
    for a, b in zip(one, job.run_dirs, strict=True):
        np.testing.assert_allclose(read_metrics(a).to_numpy(float),
                                   read_metrics(b).to_numpy(float), rtol=1e-5, atol=1e-5)
    lockstep = [json.loads((d / "summary.json").read_text())["replicas_in_lockstep"]
                for d in job.run_dirs]
    assert lockstep == [2, 2, 1] and [r.status for r in job.seeds] == ["done"] * 3


def test_evaluation_averages_the_gradient_ratio_over_the_examples_that_have_one():
    """Logistic regression with z = 200 x: x = e0 with label 0 is fit exactly (no ratio),
    x = 0 is uniform (1/3), x = e1 with label 2 is confidently wrong (p one-hot on class 1 in
    float32: squared error's gradient is exactly 0)."""
    model = models.ReplicaMLP([3, 3], "sigmoid", seeds=[0])
    with torch.no_grad():
        params = dict(model.named_parameters())
        params["layers.output.weight"].copy_(200 * torch.eye(3))
        params["layers.output.bias"].zero_()
    x = torch.tensor([[1.0, 0, 0], [0, 0, 0], [0, 1, 0], [1, 0, 0]])
    y = torch.tensor([0, 0, 2, 0])
    values = trainer.evaluate(model, "softmax", x, y, {"train": slice(0, 3),
                                                       "test": slice(3, 4)})
    assert values["train/grad_ratio"].item() == pytest.approx((1 / 3 + 0) / 2)
    assert values["train/grad_ratio_q10"].item() == pytest.approx(0.1 * 1 / 3)  # of (0, 1/3)
    assert values["test/grad_ratio"].isnan().all() and values["test/grad_ratio_q10"].isnan().all()
    assert values["grad_ratio_uniform"] == 1 / 3


def test_logged_gradient_ratio_is_the_closed_form_on_the_untrained_network(make_cfg):
    """Step 0's logged test/grad_ratio, recomputed from the same initial weights."""
    cfg = make_cfg("model=mlp", "loss=mse", "trainer.epochs=1", "seeds=[3]")
    m = read_metrics(runner.run(cfg).run_dirs[0]).set_index("step")
    data = datasets.load(cfg.dataset)
    model, head = models.build(cfg, data.n_features, data.n_classes, [3])
    with torch.no_grad():
        ratio = losses.gradient_ratio(model(data.x_test), data.y_test.unsqueeze(0), head)
    assert head == "softmax" and m.loc[0, "grad_ratio_uniform"] == 0.1
    assert m.loc[0, "test/grad_ratio"] == pytest.approx(ratio.mean().item(), rel=1e-5)
    assert m.loc[0, "test/grad_ratio_q10"] == pytest.approx(ratio.quantile(0.1).item(), rel=1e-5)


def test_a_validation_split_is_evaluated_and_its_steps_to_target_recorded(make_cfg):
    run_dir = runner.run(make_cfg(*FAST, "dataset.val_fraction=0.2", "trainer.target_accuracy=0.5",
                                  "seeds=[0]")).run_dirs[0]
    m = read_metrics(run_dir)
    tags = ["accuracy", "ce", "mse", "ece", "brier", "grad_ratio", "grad_ratio_q10"]
    assert {f"val/{t}" for t in tags} <= set(m.columns)
    evaluated = m.dropna(subset=["test/accuracy"])
    assert evaluated[[f"val/{t}" for t in tags]].notna().all().all()
    summary = json.loads((run_dir / "summary.json").read_text())
    first = evaluated[evaluated["val/accuracy"] >= 0.5].iloc[0]
    assert summary["val_steps_to_target"] == first["step"] > 0
    assert summary["params"]["val_fraction"] == 0.2
    # the validation split is not trained on: an epoch is the rest of the training split
    steps = math.ceil((1437 - math.ceil(0.2 * 1437)) / 32)
    assert summary["steps"] == 2 * steps
    # without one: no val/ columns, and no validation steps to target
    plain = runner.run(make_cfg(*FAST, "trainer.target_accuracy=0.5", "seeds=[0]")).run_dirs[0]
    assert not [c for c in read_metrics(plain).columns if c.startswith("val/")]
    assert json.loads((plain / "summary.json").read_text())["val_steps_to_target"] is None


def test_a_long_run_says_how_long_it_will_take(monkeypatch, caplog):
    """trainer.epochs=1e9 started with no word of its length (the progress bar shows only on
    a terminal, not in a SLURM log)."""
    from ce_vs_mse.train import trainer as trainers

    clock = iter([0.0, 1.0, 6.4, 7.0])  # started; at step 64, 1 s; at step 128, 6.4 s; ...
    monkeypatch.setattr(trainers.time, "perf_counter", lambda: next(clock))
    eta = trainers._Estimate("job", total=10**9, replicas=3)
    with caplog.at_level("WARNING", logger=trainers.__name__):
        for step in range(1, 200):
            eta.check(step)
    (record,) = caplog.records
    # 6.4 s for 128 steps: 0.05 s a step, 10^9 − 128 steps to go: about 580 days
    assert record.getMessage() == ("job: 128 of 1000000000 steps (3 seed(s) in lockstep) in "
                                   "6 s; about 579 days to go at this rate")
