"""The configuration schema: typed dataclasses registered in Hydra's ConfigStore.

Every YAML file in ``configs/`` is merged onto these dataclasses, so a misspelt key or a
value of the wrong type fails at composition time, before any data is loaded. Checks
that need more than a type (a value in a set, a positive number, a valid head/loss pair)
live in :func:`validate`, which the CLI calls before any training.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from ..core import heads, losses, models, optim
from ..core.errors import ConfigError

MODELS = ("logreg", "mlp")
ACTIVATIONS = ("sigmoid", "tanh", "relu")
HEADS = ("auto", *heads.HEADS)  # auto: the loss's own choice (losses.LOSSES)
DEVICES = ("auto", "cpu", "cuda")
# The datasets, losses, optimizers and init schemes are their registries' (data.DATASETS,
# losses.LOSSES, optim.OPTIMIZERS, models.INITS), read when a configuration is checked, so an
# entry registered later is valid too; so are each dataset's rules and each loss's heads.


@dataclass
class DatasetConfig:
    name: str = MISSING
    data_dir: str | None = None  # torchvision datasets only: where the files are
    download: bool = False  # torchvision datasets only: fetch when missing (needs a network)
    test_fraction: float = 0.2  # held-out share for datasets without an official test split
    split_seed: int = 0  # fixes the train/test split; the same for every training seed
    val_fraction: float = 0.0  # share of the training split held out for validation (0: none)
    standardize: bool = True  # zero mean, unit variance, fitted on the training split only
    n_samples: int = 1000  # generated datasets: number of points
    noise: float = 0.1  # generated datasets: label/feature noise (blobs: cluster std)
    n_classes: int = 3  # blobs only
    n_features: int = 2  # blobs only
    seed: int = 0  # generated datasets: the generator's seed
    train_limit: int | None = None  # keep only the first N training examples (None: all)
    label_noise: float = 0.0  # share of training labels moved to another class (test: clean)
    noise_seed: int = 0  # label_noise only: which labels move, and where; apart from `seeds`
    path: str | None = None  # dataset=file only: your .csv, .parquet or .npz file
    label: str | None = None  # dataset=file only: the label column (.npz: array; default y)
    features: list[str] | None = None  # dataset=file only: feature columns (None: the others)
    # dataset=file only, computed (configs/dataset/file.yaml): the file's SHA-256 (in the hash,
    # not its path) and its label values in class order (recorded in config.yaml)
    sha256: str | None = None
    classes: list[str] | None = None


@dataclass
class ModelConfig:
    name: str = MISSING
    hidden: list[int] = field(default_factory=list)  # hidden layer sizes; [] is logistic regr.
    activation: str = "sigmoid"
    head: str = "auto"
    init: str = "xavier"
    init_scale: float = 1.0
    init_weight: float = 0.0  # init=constant only: every weight
    init_bias: float = 0.0  # init=constant only: every bias


@dataclass
class LossConfig:
    name: str = MISSING
    k: float = 1.0  # sq_rescaled only: weight of the true class's term (Hui & Belkin 2021)
    M: float = 1.0  # sq_rescaled only: target value of the true class's output


@dataclass
class OptimizerConfig:
    name: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.0
    weight_decay: float = 0.0


@dataclass
class TrainerConfig:
    epochs: int = 20
    batch_size: int = 32
    per_decade: int = 10  # log-spaced logging points per decade of steps (schedule.py); 0: epochs
    log_every: int = 0
    eval_every: int = 0
    hist_every_epochs: int = 0  # 0: no gradient histograms
    eval_train_max: int = 500
    target_accuracy: float = 0.9
    skip_done: bool = True


@dataclass
class Config:
    defaults: list[Any] = field(default_factory=list)
    dataset: DatasetConfig = MISSING
    model: ModelConfig = MISSING
    loss: LossConfig = MISSING
    optimizer: OptimizerConfig = MISSING
    trainer: TrainerConfig = MISSING
    seeds: list[int] = field(default_factory=lambda: [0])
    device: str = "auto"
    threads: int = 1  # torch CPU threads per job; 0: torch's default (all cores)
    results_dir: str = "results/runs"


# Keys that say where and how a job runs, not what it computes: out of a run's hash and
# params. ``seeds``: each seed is a run of its own.
# ``dataset.data_dir`` only says where torchvision's official files of mnist, fashion_mnist
# and cifar10 are (the same numbers from any copy); ``dataset.path`` where dataset=file's file
# is: what it holds is in the hash as ``dataset.sha256``, so renaming it retrains nothing
# (its stem names the run's folder, store/layout.py).
RUNTIME = ("seeds", "device", "threads", "results_dir", "trainer.skip_done",
           "dataset.data_dir", "dataset.download", "dataset.path")
# Keys of logging cadence that change no number a run logs (gradient histograms): out of
# its hash, recorded in its summary's ``logging``.
LOGGING = ("trainer.hist_every_epochs",)
# Keys computed from keys in the hash (a file's classes, from its bytes and its label column):
# recorded in config.yaml, nothing added to the hash.
DERIVED = ("dataset.classes",)
NOT_IN_HASH = RUNTIME + LOGGING + DERIVED
# dataset=file's own keys: in its runs' hashes, left out of every other run's (where they are
# None, Dataset.check holds), so that the runs trained before they existed keep their hashes.
FILE_ONLY = ("dataset.label", "dataset.features", "dataset.sha256")

# What a run records of its configuration in summary.json "params" (and TensorBoard's HParams),
# as name -> config key: every option that changes what it computes (every key of
# :func:`content`), so any two runs that differ differ in their params. ``head`` (resolved
# from model.head=auto) and ``seed`` are added by the runner. The report compares runs along
# these, in this order.
PARAMS = {
    "dataset": "dataset.name", "model": "model.name", "hidden": "model.hidden",
    "activation": "model.activation", "init": "model.init", "init_scale": "model.init_scale",
    "init_weight": "model.init_weight", "init_bias": "model.init_bias", "loss": "loss.name",
    "k": "loss.k", "M": "loss.M", "optimizer": "optimizer.name", "lr": "optimizer.lr",
    "momentum": "optimizer.momentum", "weight_decay": "optimizer.weight_decay",
    "batch_size": "trainer.batch_size", "epochs": "trainer.epochs",
    "label_noise": "dataset.label_noise", "noise_seed": "dataset.noise_seed",
    "n_samples": "dataset.n_samples", "noise": "dataset.noise",
    "n_classes": "dataset.n_classes", "n_features": "dataset.n_features",
    "data_seed": "dataset.seed", "train_limit": "dataset.train_limit",
    "test_fraction": "dataset.test_fraction", "split_seed": "dataset.split_seed",
    "val_fraction": "dataset.val_fraction",
    "standardize": "dataset.standardize", "target_accuracy": "trainer.target_accuracy",
    "per_decade": "trainer.per_decade", "log_every": "trainer.log_every",
    "eval_every": "trainer.eval_every", "eval_train_max": "trainer.eval_train_max",
    "label": "dataset.label", "features": "dataset.features", "data_sha256": "dataset.sha256",
}
# Params recorded as text, not as a list: a report's table groups runs by them.
TEXT_PARAMS = ("features",)
# model.head is in the hash as given (auto or a head); the params hold the resolved head.
PARAMS_LEAVE_OUT = ("model.head",)


def register() -> None:
    """Register the schema as ``schema``; ``configs/config.yaml`` names it first in its defaults,
    so every group file is merged onto (and checked against) the typed fields above. With it
    the resolvers that configs/dataset/file.yaml computes ``sha256`` and ``classes`` with."""
    ConfigStore.instance().store(name="schema", node=Config)
    OmegaConf.register_new_resolver("file_sha256", _file_sha256, replace=True)
    OmegaConf.register_new_resolver("file_classes", _file_classes, replace=True)


def _file_sha256(path: str | None) -> str | None:
    from ..core import data  # (sklearn: see validate)

    return data.file_sha256(path)


def _file_classes(path: str | None, label: str | None) -> list[str] | None:
    from ..core import data

    return data.file_classes(path, label)


GROUPS = {"dataset": DatasetConfig, "model": ModelConfig, "loss": LossConfig,
          "optimizer": OptimizerConfig, "trainer": TrainerConfig}


def _keys(cls, prefix: str = "") -> list[str]:
    """Every option of the schema as a dotted key, e.g. ``trainer.epochs``."""
    out = []
    for f in fields(cls):
        node = GROUPS.get(f.name) if cls is Config else None
        if f.name != "defaults":
            out += _keys(node, f"{f.name}.") if node else [prefix + f.name]
    return out


KEYS = _keys(Config)


def default_values() -> dict[str, Any]:
    """The schema's default of every option that has one, by dotted key (MISSING left out)."""
    out = {}
    for group, cls in GROUPS.items():
        for key, value in OmegaConf.to_container(OmegaConf.structured(cls)).items():
            if value != "???":
                out[f"{group}.{key}"] = value
    return out


def content(cfg: Any) -> dict:
    """The resolved configuration without the keys that do not change results
    (:data:`NOT_IN_HASH`; :data:`FILE_ONLY` but for dataset=file): what a run's hash
    identifies. Hydra's own node is left out before
    resolving: a sweep checks each job before Hydra fills it in."""
    container = {k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
                 for k, v in cfg.items() if k not in ("hydra", "defaults")}
    other = (container.get("dataset") or {}).get("name") != "file"
    for key in NOT_IN_HASH + (FILE_ONLY if other else ()):
        parent, _, leaf = key.rpartition(".")
        (container.get(parent, {}) if parent else container).pop(leaf, None)
    return container


def leaves(tree: dict, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every leaf of a nested dict, e.g. ``("trainer.epochs", 20)``."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def params(cfg: Any) -> dict:
    """The run's :data:`PARAMS`: name -> value (a list as a list, except
    :data:`TEXT_PARAMS`, e.g. ``"['alcohol', 'ash']"``)."""
    out = {name: OmegaConf.to_container(v) if OmegaConf.is_config(v) else v
           for name, key in PARAMS.items() for v in [OmegaConf.select(cfg, key)]}
    return {name: str(v) if name in TEXT_PARAMS and v is not None else v
            for name, v in out.items()}


def logging_options(cfg: Any) -> dict:
    """The run's :data:`LOGGING` keys, recorded beside (not in) its hash."""
    return {key: OmegaConf.select(cfg, key) for key in LOGGING}


def check_keys(cfg: Any) -> None:
    """Reject keys the schema does not know (``+trainer.epoch=5`` adds one), naming the
    nearest valid key."""
    container = OmegaConf.to_container(cfg, resolve=False)
    for top, value in container.items():
        if top in ("hydra", "defaults"):
            continue
        grouped = top in GROUPS and isinstance(value, dict)
        for key in [f"{top}.{k}" for k in value] if grouped else [top]:
            if key not in KEYS:
                raise ConfigError(f"{key} is not an option; {_nearest(key)}")


def _nearest(key: str, choices: list[str] | None = None) -> str:
    """"did you mean …?" with the closest of ``choices`` (default: every key and config
    group, so that ``los`` finds ``loss``, not ``loss.k``)."""
    choices = [*KEYS, *GROUPS] if choices is None else choices
    near = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    return f"did you mean {near[0]}?" if near else "see ce-vs-mse --cfg job"


# Hydra's composition errors (one line, runner.one_line) whose advice misleads here: "+key"
# for a key that does not exist, options listed without the near one, a type with no example.
_NO_KEY = re.compile(r"Could not override '([^']+)'\. To append to your config use \+\S+; .*")
_NO_OPTION = re.compile(r"In '[^']*': Could not find '([^'/]+)/([^']+)'; Available options in "
                        r"'[^']*': (.*)")
_NOT_LIST = re.compile(r"Error merging override ([^=\s]+)=(\S+); Invalid value assigned: "
                       r"\S+ is not a ListConfig, list or tuple\.?")


def advice(message: str) -> str:
    """A Hydra composition error, reworded where its own advice would mislead."""
    if m := _NO_KEY.fullmatch(message):
        if m[1] not in KEYS:
            return f"{m[1]} is not an option; {_nearest(m[1])}"
    elif m := _NO_OPTION.fullmatch(message):
        options = m[3].split("; ")
        near = difflib.get_close_matches(m[2], options, n=1, cutoff=0.6)
        hint = f"did you mean {m[1]}={near[0]}? " if near else ""
        return f"{m[1]}={m[2]} is not an option; {hint}choose one of: {', '.join(options)}"
    elif m := _NOT_LIST.fullmatch(message):
        return f"{m[1]}={m[2]}: {m[1]} takes a list; write {m[1]}=[{m[2]}]"
    return message


def check_pair(overrides: list[str]) -> None:
    """``pair=<head>_<loss>`` sets model.head and loss: a different loss= or model.head=
    beside it is a contradiction, not a choice."""
    from .tree import assignments

    given = assignments(overrides)
    pair = given.get("pair")
    if not pair or "_" not in pair:
        return
    head, loss = pair.split("_", 1)
    for key, implied in (("loss", loss), ("loss.name", loss), ("model.head", head)):
        if key in given and given[key] != implied:
            raise ConfigError(f"pair={pair} sets {key}={implied}, but {key}={given[key]} "
                              "was also given; drop one of them")


def check(cfg: Any, overrides: list[str]) -> None:
    """Every check of a job's configuration before it trains, as the sweeper makes them on
    every job first: its keys, its ``pair=`` against the other overrides, its values."""
    check_keys(cfg)
    check_pair(list(overrides))
    validate(cfg)


def _finite(cfg: Any) -> None:
    """Every number in the configuration must be finite (nan and inf pass a type check)."""
    for group in GROUPS:
        for key, value in OmegaConf.to_container(cfg[group]).items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{group}.{key}={value} must be a finite number")


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{key}={value!r} is not valid; choose one of: {', '.join(choices)}")


def _positive(key: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{key}={value!r} must be greater than 0")


def validate(cfg: Any) -> None:
    """Reject every value that would fail (or mislead) later, with a one-line message."""
    # here, not at the top: data imports scikit-learn, which the report (which reads
    # PARAMS from this module) would pay for nothing
    from ..core import data

    _choice("dataset", cfg.dataset.name, tuple(data.DATASETS))
    _choice("model", cfg.model.name, MODELS)
    _choice("loss", cfg.loss.name, tuple(losses.LOSSES))
    _choice("optimizer", cfg.optimizer.name, tuple(optim.OPTIMIZERS))
    _choice("model.activation", cfg.model.activation, ACTIVATIONS)
    _choice("model.head", cfg.model.head, HEADS)
    _choice("model.init", cfg.model.init, tuple(models.INITS))
    _choice("device", cfg.device, DEVICES)
    _finite(cfg)
    if not str(cfg.results_dir).strip():
        raise ConfigError("results_dir is empty; give a folder, e.g. results_dir=results/runs")
    _positive("optimizer.lr", cfg.optimizer.lr)
    _positive("trainer.epochs", cfg.trainer.epochs)
    _positive("trainer.batch_size", cfg.trainer.batch_size)
    _positive("model.init_scale", cfg.model.init_scale)
    if not 0 < cfg.trainer.target_accuracy <= 1:
        raise ConfigError(f"trainer.target_accuracy={cfg.trainer.target_accuracy!r} must be a "
                          "fraction in (0, 1], e.g. 0.9")
    for key in optim.OPTIONS:
        if cfg.optimizer[key] < 0:
            raise ConfigError(f"optimizer.{key}={cfg.optimizer[key]!r} must be >= 0")
    _optimizer_options(cfg.optimizer)
    if cfg.threads < 0:
        raise ConfigError(f"threads={cfg.threads} must be >= 0 (0: torch's default)")
    if not 0 < cfg.dataset.test_fraction < 1:
        raise ConfigError(f"dataset.test_fraction={cfg.dataset.test_fraction!r} must be in (0, 1)")
    _dataset(cfg.dataset)
    data.DATASETS[cfg.dataset.name].check(cfg.dataset)  # the dataset's own rules
    if cfg.trainer.eval_train_max < 0:
        raise ConfigError(f"trainer.eval_train_max={cfg.trainer.eval_train_max} must be >= 0 "
                          "(0: the whole training split)")
    for key in ("per_decade", "log_every", "eval_every"):
        if cfg.trainer[key] < 0:
            raise ConfigError(f"trainer.{key}={cfg.trainer[key]} must be >= 0")
    if cfg.trainer.hist_every_epochs < 0:
        raise ConfigError(f"trainer.hist_every_epochs={cfg.trainer.hist_every_epochs} must be "
                          ">= 0 (0: no histograms)")
    if cfg.model.name == "logreg" and len(cfg.model.hidden) > 0:
        raise ConfigError(
            f"model.hidden={list(cfg.model.hidden)} but model=logreg has no hidden layer; "
            "use model=mlp for hidden layers"
        )
    bad = [h for h in cfg.model.hidden if not (isinstance(h, int) and h > 0)]
    if bad:
        raise ConfigError(f"model.hidden={list(cfg.model.hidden)}: sizes must be positive integers")
    seeds = list(cfg.seeds)
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ConfigError(f"seeds={seeds} must be a non-empty list of distinct, non-negative "
                          "integers, e.g. seeds=[0,1,2,3,4]")
    if cfg.dataset.train_limit is not None:
        _positive("dataset.train_limit", cfg.dataset.train_limit)
    head = cfg.model.head
    if head != "auto" and head not in losses.LOSSES[cfg.loss.name].heads:
        pairs = "; ".join(f"loss={name}: model.head={'|'.join(loss.heads)}"
                          for name, loss in losses.LOSSES.items())
        raise ConfigError(
            f"loss={cfg.loss.name} cannot train model.head={head}. Valid pairs: {pairs} "
            "(model.head=auto picks one)"
        )


def _dataset(d: Any) -> None:
    """The dataset options that every dataset shares, one line each (what scikit-learn would
    otherwise raise on); a dataset's own are its entry's in data.DATASETS (Dataset.check)."""
    if d.split_seed < 0:
        raise ConfigError(f"dataset.split_seed={d.split_seed} must be >= 0")
    if d.seed < 0:
        raise ConfigError(f"dataset.seed={d.seed} must be >= 0")
    if not 0 <= d.label_noise < 1:
        raise ConfigError(f"dataset.label_noise={d.label_noise!r} must be in [0, 1): the share "
                          "of training labels moved to another class, e.g. 0.2")
    if d.noise_seed < 0:
        raise ConfigError(f"dataset.noise_seed={d.noise_seed} must be >= 0")
    if not 0 <= d.val_fraction < 1:
        raise ConfigError(f"dataset.val_fraction={d.val_fraction!r} must be in [0, 1): the share "
                          "of the training split held out for validation, e.g. 0.2 (0: none)")
    for key in ("sha256", "classes"):  # computed by configs/dataset/file.yaml, never given
        if (OmegaConf.is_interpolation(d, key) if d.name == "file"
                else OmegaConf.is_missing(d, key) or d[key] is None):
            continue
        raise ConfigError(f"dataset.{key} is computed from the file of dataset=file "
                          "(dataset.path); leave it unset")


def _optimizer_options(o: Any) -> None:
    """A nonzero option the optimizer does not read (optim.Optimizer.reads) would do nothing."""
    for key in optim.OPTIONS:
        if o[key] != 0 and key not in optim.OPTIMIZERS[o.name].reads:
            users = "|".join(name for name, entry in optim.OPTIMIZERS.items()
                             if key in entry.reads)
            raise ConfigError(f"optimizer.{key}={o[key]!r} is not used by optimizer={o.name}; "
                              f"leave it at 0 or choose optimizer={users}")
