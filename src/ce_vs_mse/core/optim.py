"""Every optimizer, defined once: the registry :data:`OPTIMIZERS`, from which the schema (valid
optimizers, the options each reads) and the trainer (:func:`build`) read what they need.

An optimizer reads ``optimizer.lr`` and the options named in its ``reads``; a YAML file may
preset them (``configs/optimizer/momentum.yaml`` is ``sgd`` with momentum 0.9, not an entry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from .errors import ConfigError

OPTIONS = ("momentum", "weight_decay")  # the optimizer.<key> options beside lr


@dataclass(frozen=True)
class Optimizer:
    """One optimizer. ``make(cfg, params)`` builds it over the model's parameters from ``cfg``
    (an OptimizerConfig). ``reads``: the :data:`OPTIONS` it uses; a nonzero value of one it
    does not use would silently do nothing, so the schema refuses it."""

    name: str
    make: Callable[[Any, Iterable[torch.nn.Parameter]], torch.optim.Optimizer]
    reads: tuple[str, ...] = OPTIONS


OPTIMIZERS: dict[str, Optimizer] = {}  # name -> Optimizer, in the order messages list them


def register(optimizer: Optimizer) -> Optimizer:
    """Add ``optimizer`` to :data:`OPTIMIZERS`; with ``configs/optimizer/<name>.yaml`` it can
    be trained."""
    unknown = set(optimizer.reads) - set(OPTIONS)
    if unknown:
        raise ValueError(f"optimizer {optimizer.name!r}: reads={sorted(unknown)} are not "
                         f"options; choose from: {', '.join(OPTIONS)}")
    OPTIMIZERS[optimizer.name] = optimizer
    return optimizer


register(Optimizer("sgd", lambda cfg, params: torch.optim.SGD(
    params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)))
register(Optimizer("adam", reads=("weight_decay",), make=lambda cfg, params: torch.optim.Adam(
    params, lr=cfg.lr, weight_decay=cfg.weight_decay)))


def get(name: str) -> Optimizer:
    """The registered optimizer ``name``; a ConfigError naming the registered ones otherwise."""
    if name not in OPTIMIZERS:
        raise ConfigError(f"optimizer={name!r} is not registered; choose one of: "
                          f"{', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name]


def build(cfg, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """The optimizer that ``cfg`` (an OptimizerConfig) names, over ``params``."""
    return get(cfg.name).make(cfg, params)
