"""Every valid dataset × model × loss composes and trains; every bad value fails early with
a message that names it and the valid choices, before anything is written."""

import json
import math

import pytest
import torch
from conftest import read_metrics, write_bad_files

from ce_vs_mse.config.schema import ConfigError
from ce_vs_mse.core import losses
from ce_vs_mse.train import runner

EMBEDDED = ["breast_cancer", "digits", "blobs", "moons", "xor"]
SMALL = ["dataset.n_samples=300", "trainer.epochs=3", "trainer.batch_size=32", "seeds=[0,1]"]


COMBINATIONS = [(loss, model, dataset) for loss in ("mse", "bce", "ce")
                for model in ("logreg", "mlp") for dataset in EMBEDDED]
# The default run trains each loss with each model, and each dataset, at least once; the
# other 24 combinations run the same code with other values and are marked slow.
COVERING = {("mse", "logreg", "digits"), ("mse", "mlp", "breast_cancer"),
            ("bce", "logreg", "blobs"), ("bce", "mlp", "moons"), ("ce", "logreg", "xor"),
            ("ce", "mlp", "digits")}


@pytest.mark.parametrize("loss,model,dataset", [
    pytest.param(*c, marks=() if c in COVERING else pytest.mark.slow) for c in COMBINATIONS])
def test_every_combination_composes_and_trains(make_cfg, dataset, model, loss):
    cfg = make_cfg(f"dataset={dataset}", f"model={model}", f"loss={loss}", *SMALL)
    run_dirs = runner.run(cfg).run_dirs
    assert len(run_dirs) == 2
    for run_dir in run_dirs:
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["status"] == "done"
        assert summary["head"] in losses.LOSSES[loss].heads
        m = read_metrics(run_dir)
        assert m["train/loss"].dropna().map(math.isfinite).all()
        ce = m["train/ce"].dropna()
        assert ce.iloc[-1] != ce.iloc[0]  # the weights moved
        if dataset != "xor":  # XOR starts on a plateau that a few dozen steps do not leave
            assert ce.iloc[-1] < ce.iloc[0]


@pytest.mark.parametrize("head", ["sigmoid", "softmax", "linear"])
def test_squared_error_trains_every_head(make_cfg, head):
    run_dir = runner.run(make_cfg("loss=mse", f"model.head={head}", "trainer.epochs=2",
                                  "optimizer.lr=0.05")).run_dirs[0]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["head"] == head and summary["status"] == "done"


@pytest.mark.parametrize("overrides", [  # docs/usage.md's two examples
    ["loss=mse", "model.head=linear", "optimizer.lr=100"], ["loss=ce", "optimizer.lr=1e6"]])
def test_a_diverging_run_is_recorded_as_diverged(make_cfg, overrides):
    run_dir = runner.run(make_cfg(*overrides, "trainer.epochs=2")).run_dirs[0]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "diverged"
    assert 0 < summary["diverged_at_step"] <= summary["steps"]


BAD = [
    (["loss=ce", "model.head=sigmoid"], "loss=ce cannot train model.head=sigmoid.*Valid pairs"),
    (["loss=bce", "model.head=softmax"], "loss=bce cannot train model.head=softmax.*Valid pairs"),
    (["optimizer.lr=0"], "optimizer.lr=0.0 must be greater than 0"),
    (["optimizer.lr=-0.1"], "optimizer.lr=-0.1 must be greater than 0"),
    (["trainer.batch_size=0"], "trainer.batch_size=0 must be greater than 0"),
    (["trainer.epochs=-1"], "trainer.epochs=-1 must be greater than 0"),
    (["trainer.batch_size=100000"], "trainer.batch_size=100000 is larger than the training"),
    (["model.hidden=[0]"], r"model.hidden=\[0\]: sizes must be positive integers"),
    (["model.hidden=[16,-2]"], r"model.hidden=\[16, -2\]: sizes must be positive integers"),
    (["model=logreg", "model.hidden=[8]"], "model=logreg has no hidden layer"),
    (["model.activation=swish"], "model.activation='swish' is not valid; choose one of: sigmoid"),
    (["model.head=tanh"], "model.head='tanh' is not valid; choose one of: auto, sigmoid"),
    (["model.init=ones"], "model.init='ones' is not valid; choose one of: xavier"),
    (["model.init_scale=0"], "model.init_scale=0.0 must be greater than 0"),
    (["optimizer.name=rmsprop"], "optimizer='rmsprop' is not valid; choose one of: sgd, adam"),
    (["device=tpu"], "device='tpu' is not valid; choose one of: auto, cpu, cuda"),
    (["seeds=[]"], "seeds=.* must be a non-empty list"),
    (["seeds=[1,1]"], "seeds=.* must be a non-empty list of distinct"),
    (["seeds=[-1]"], "seeds=.* must be .*non-negative"),
    (["dataset.test_fraction=1.5"], r"dataset.test_fraction=1.5 must be in \(0, 1\)"),
    (["dataset.train_limit=0"], "dataset.train_limit=0 must be greater than 0"),
    (["trainer.target_accuracy=90"], r"target_accuracy=90.0 must be a fraction in \(0, 1\]"),
    (["optimizer.momentum=-0.5"], "optimizer.momentum=-0.5 must be >= 0"),
    (["optimizer=adam", "optimizer.momentum=0.9"], "momentum=0.9 is not used by optimizer=adam"),
    (["dataset=neuron", "dataset.standardize=true"], "dataset=neuron with dataset.standardize"),
    (["+trainer.epoch=5"], "trainer.epoch is not an option; did you mean trainer.epochs"),
    (["+foo=1"], "foo is not an option"),
    (["+los=mse"], r"los is not an option; did you mean loss\?"),  # a group, not loss.k
    (["results_dir="], "results_dir is empty"),
    (["optimizer.lr=inf"], "optimizer.lr=inf must be a finite number"),
    (["model.init_scale=inf"], "model.init_scale=inf must be a finite number"),
    (["optimizer.momentum=nan"], "optimizer.momentum=nan must be a finite number"),
    (["optimizer.weight_decay=nan"], "optimizer.weight_decay=nan must be a finite number"),
    (["model.init_weight=nan"], "model.init_weight=nan must be a finite number"),
    (["loss.k=nan"], "loss.k=nan must be a finite number"),
    (["dataset.test_fraction=0.001"], "dataset.test_fraction=0.001 leaves 2 test examples"),
    (["dataset.test_fraction=0.999"],
     "dataset.test_fraction=0.999 leaves 1796 test examples and 1 training"),
    (["dataset.split_seed=-1"], "dataset.split_seed=-1 must be >= 0"),
    (["dataset=moons", "dataset.n_samples=0"], "dataset.n_samples=0 must be at least 4"),
    (["dataset=moons", "dataset.noise=-1"], "dataset.noise=-1.0 must be >= 0"),
    (["dataset=blobs", "dataset.n_classes=0"], "dataset.n_classes=0 must be at least 2"),
    (["dataset=blobs", "dataset.n_features=0"], "dataset.n_features=0 must be at least 1"),
    # too large for memory: said before any work (a numpy ArrayMemoryError traceback before)
    (["dataset=blobs", "dataset.n_samples=1000000000000"], r"dataset.n_samples=1000000000000 × "
     r"dataset.n_features=2 needs about [\d,]+ GiB of memory, more than the .* GiB this machine"),
    (["dataset=moons", "dataset.n_samples=1000000000000"], "× 2 features needs about"),
    (["model.hidden=[1000000,1000000]"], r"model.hidden=\[1000000, 1000000\] on 64 inputs "
     r"\(1000076000010 parameters × 1 seed\(s\) in lockstep\) needs about"),
    (["dataset=mnist", "dataset.data_dir=/no/such/dir"], "mnist is not on disk under "
     "dataset.data_dir='/no/such/dir'.*download=True"),
    # label noise: a share of the training labels, on a dataset with a training split
    (["dataset.label_noise=1"], r"dataset.label_noise=1.0 must be in \[0, 1\)"),
    (["dataset.label_noise=-0.1"], r"dataset.label_noise=-0.1 must be in \[0, 1\)"),
    (["dataset.label_noise=nan"], "dataset.label_noise=nan must be a finite number"),
    (["dataset.noise_seed=-1"], "dataset.noise_seed=-1 must be >= 0"),
    (["dataset=neuron", "dataset.label_noise=0.1"],
     "dataset.label_noise=0.1 cannot apply to dataset=neuron"),
    # the validation split: a share of the training split, on a dataset that load() splits
    (["dataset.val_fraction=1"], r"dataset.val_fraction=1.0 must be in \[0, 1\)"),
    (["dataset.val_fraction=-0.1"], r"dataset.val_fraction=-0.1 must be in \[0, 1\)"),
    (["dataset.val_fraction=nan"], "dataset.val_fraction=nan must be a finite number"),
    (["dataset.val_fraction=0.001"],
     "dataset.val_fraction=0.001 leaves 2 validation examples and 1435 training examples of "
     "digits's 1437 training examples; each split needs one of each of its 10 classes"),
    (["dataset.val_fraction=0.999"], "dataset.val_fraction=0.999 leaves 1436 validation "
     "examples and 1 training"),
    (["dataset=neuron", "dataset.val_fraction=0.2"],
     "dataset.val_fraction=0.2 cannot apply to dataset=neuron: its examples are also its test"),
    (["dataset=mnist", "dataset.val_fraction=0.1"],
     "dataset.val_fraction=0.1 cannot apply to dataset=mnist: its official training split"),
    # dataset=file: the files of conftest.write_bad_files, in <data>
    (["dataset=file"], r"dataset=file needs dataset.path=<your \.csv, \.parquet or \.npz file>"),
    (["dataset=file", "dataset.path=<data>/nope.csv"], "dataset.path='.*/nope.csv': no such file"),
    (["dataset=file", "dataset.path=<data>/folder.csv"], "dataset.path='.*/folder.csv' is not a "
     "file"),
    (["dataset=file", "dataset.path=<data>/wine.txt"], "unknown file type '.txt'; give a .csv, "
     ".parquet or .npz file"),
    (["dataset=file", "dataset.path=<data>/empty.csv"], "empty.csv' cannot be read as CSV: No "
     "columns to parse"),
    (["dataset=file", "dataset.path=<data>/broken.parquet"], "broken.parquet' cannot be read as "
     "Parquet: "),
    (["dataset=file", "dataset.path=<data>/wine.csv"], "dataset.label is not set: name the column "
     "of wine.csv that holds the labels, e.g. dataset.label=target; its columns: alcohol, "),
    (["dataset=file", "dataset.path=<data>/wine.csv", "dataset.label=cultivar"],
     "dataset.label='cultivar' is not a column of wine.csv; its columns: alcohol, malic_acid, "
     ".*, proline, target$"),
    (["dataset=file", "dataset.path=<data>/wine.csv", "dataset.label=target",
      "dataset.features=[ash,acidity]"], "dataset.features: 'acidity' not a column of wine.csv"),
    (["dataset=file", "dataset.path=<data>/wine.csv", "dataset.label=target",
      "dataset.features=[ash,target]"], "dataset.features names the label column 'target'"),
    (["dataset=file", "dataset.path=<data>/text.csv", "dataset.label=target"],
     "text.csv: feature columns colour, region are not numeric; list numeric ones in "
     "dataset.features"),
    (["dataset=file", "dataset.path=<data>/holes.csv", "dataset.label=target"],
     r"holes.csv has missing or infinite feature values in 2 of 178 rows: alcohol \(1 row\), "
     r"ash \(2 rows\)"),
    (["dataset=file", "dataset.path=<data>/unlabelled.csv", "dataset.label=target"],
     "dataset.label='target' is missing in 1 row of unlabelled.csv"),
    (["dataset=file", "dataset.path=<data>/one.csv", "dataset.label=target"],
     "dataset.label='target' has one value \\('barolo'\\) in all 178 rows of one.csv: a "
     "classifier needs at least 2 classes"),
    (["dataset=file", "dataset.path=<data>/rare.csv", "dataset.label=target"],
     "dataset.test_fraction=0.2: a stratified split needs at least 2 examples of each class, "
     "but rare.csv's 178 hold only 1 of class 'nebbiolo'"),
    (["dataset=file", "dataset.path=<data>/rare2.csv", "dataset.label=target",
      "dataset.test_fraction=0.5", "dataset.val_fraction=0.2"], "dataset.val_fraction=0.2: a "
     "stratified split needs at least 2 examples of each class, but rare2.csv's 89 training "
     "examples hold only 1 of class 'nebbiolo'"),
    (["dataset=file", "dataset.path=<data>/arrays.npz"], "dataset.features: arrays.npz has no "
     r"array 'X' \(the default for .npz\); its arrays: features, y"),
    (["dataset=file", "dataset.path=<data>/arrays.npz", "dataset.label=labels"],
     "dataset.label: arrays.npz has no array 'labels'; its arrays: features, y"),
    (["dataset=file", "dataset.path=<data>/holes.npz"], r"holes.npz has missing or infinite "
     r"feature values in 1 of 178 rows: X\[:, 2\] \(1 row\)"),
    (["dataset=file", "dataset.path=<data>/pickled.npz"], "pickled.npz' cannot be read as NumPy "
     r".npz: Object arrays cannot be loaded when allow_pickle=False \(save text labels as a "
     r"string array, e.g. y.astype\(str\)\)"),
    (["dataset.path=<data>/wine.csv"], "dataset.path='.*wine.csv' is read only by dataset=file, "
     "not by dataset=digits: add dataset=file"),
    (["dataset.label=target"], "dataset.label='target' is read only by dataset=file"),
    (["dataset=file", "dataset.path=<data>/wine.csv", "dataset.label=target",
      "dataset.sha256=abc"], r"dataset.sha256 is computed from the file of dataset=file"),
]


@pytest.mark.parametrize("overrides,message", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_bad_values_fail_before_any_work(make_cfg, results_dir, tmp_path, overrides, message):
    data = write_bad_files(tmp_path / "data") if any("<data>" in o for o in overrides) else ""
    with pytest.raises(ConfigError, match=message):
        runner.run(make_cfg(*(o.replace("<data>", str(data)) for o in overrides)))
    assert not results_dir.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_a_gpu_is_a_clear_error_and_auto_falls_back(make_cfg, results_dir):
    with pytest.raises(ConfigError, match="device=cuda but no CUDA GPU is visible"):
        runner.run(make_cfg("device=cuda"))
    run_dir = runner.run(make_cfg("device=auto", "trainer.epochs=1")).run_dirs[0]
    assert json.loads((run_dir / "summary.json").read_text())["device"] == "cpu"


def test_unwritable_results_dir_fails_the_job_with_one_line(make_cfg, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    job = runner.run(make_cfg(f"results_dir={blocker}/runs"))
    assert job.error.startswith("NotADirectoryError: Not a directory: ")
    assert [r.status for r in job.seeds] == ["failed"]
    assert blocker.read_text() == "not a directory"


def test_params_hold_every_option_that_changes_a_run(make_cfg, results_dir):
    """Any two runs that differ differ in their params (summary.json, HParams, the report's
    grouping): every key in a run's hash is a param, and only runtime and logging-cadence
    keys are out of the hash, the latter recorded in the summary's ``logging``."""
    from ce_vs_mse.config import schema

    cfg = make_cfg()
    hashed = {key for key, _ in schema.leaves(schema.content(cfg))}
    assert hashed - set(schema.PARAMS.values()) == set(schema.PARAMS_LEAVE_OUT)
    assert set(schema.KEYS) - hashed == set(schema.NOT_IN_HASH) | set(schema.FILE_ONLY)
    job = runner.run(make_cfg("model=logreg", "trainer.epochs=1", "dataset.n_classes=7",
                              "trainer.hist_every_epochs=1"), "params")
    summary = json.loads((job.run_dirs[0] / "summary.json").read_text())
    assert summary["params"]["n_classes"] == 7 and summary["params"]["per_decade"] == 10
    assert summary["logging"] == {"trainer.hist_every_epochs": 1}
