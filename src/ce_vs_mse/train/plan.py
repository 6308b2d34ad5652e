"""What one job will do, resolved once from its configuration and dataset.

A :class:`Plan` holds the resolved head (``model.head=auto`` decided), the loss bound to it
and its options, the network's layer sizes, the optimizer's and the trainer's settings, the
run's name, folder, hash and params. The runner makes one per job and hands it down: the
trainer, the model and every summary read it instead of the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ..config import schema
from ..core import heads, losses, models
from ..store import layout
from ..store.summary import RunSummary


@dataclass(frozen=True)
class Plan:
    experiment: str
    run: str  # the run's name below its experiment (store.layout.run_name)
    folder: Path  # the job's folder; each seed's is inside it
    config_hash: str
    head: str
    loss: losses.Bound
    sizes: tuple[int, ...]  # input, hidden..., output units
    model: Any  # cfg.model: activation and initialisation
    optimizer: Any  # cfg.optimizer
    trainer: Any  # cfg.trainer
    params: dict  # schema.params with the resolved head; "hidden" as text (HParams needs it)
    logging: dict  # schema.LOGGING options, out of the hash
    cfg: Any  # the whole configuration, for config.yaml
    overrides: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """``<experiment>/<run>``, as a job is named on the console."""
        return f"{self.experiment}/{self.run}"

    @property
    def n_parameters(self) -> int:
        """Weights and biases of one replica."""
        pairs = zip(self.sizes[:-1], self.sizes[1:], strict=True)
        return sum((fan_in + 1) * fan_out for fan_in, fan_out in pairs)

    def build_model(self, seeds: list[int]) -> models.ReplicaMLP:
        """The replicated network, one replica per seed."""
        return models.replicas(list(self.sizes), self.model, seeds)

    def config_yaml(self, seed: int) -> str:
        """The resolved configuration of seed ``seed``'s run, as its ``config.yaml``."""
        return OmegaConf.to_yaml(OmegaConf.merge(self.cfg, {"seeds": [seed]}), resolve=True)

    def seed_dir(self, seed: int) -> Path:
        return layout.seed_dir(self.folder, seed)

    def summary(self, seed: int, status: str = "failed", **fields) -> RunSummary:
        """Seed ``seed``'s summary: what identifies the run, and ``fields``."""
        return RunSummary(status=status, experiment=self.experiment, run=self.run, seed=seed,
                          config_hash=self.config_hash, head=self.head,
                          params={**self.params, "seed": seed}, **fields)


def make(cfg, experiment: str, overrides: list[str], n_features: int, n_classes: int) -> Plan:
    """The plan of ``cfg`` (validated) on a dataset of this many features and classes."""
    head = losses.resolve_head(cfg.model.head, cfg.loss.name, n_classes)
    params = {**schema.params(cfg), "head": head}
    params["hidden"] = str(list(params["hidden"]))
    run = layout.run_name(cfg, head, experiment)
    return Plan(
        experiment=experiment, run=run, folder=layout.job_dir(cfg.results_dir, experiment, run),
        config_hash=layout.config_hash(cfg), head=head,
        loss=losses.Bound(cfg.loss.name, head, cfg.loss.k, cfg.loss.M),
        sizes=(n_features, *cfg.model.hidden, heads.n_outputs(head, n_classes)),
        model=cfg.model, optimizer=cfg.optimizer, trainer=cfg.trainer, params=params,
        logging=schema.logging_options(cfg), cfg=cfg, overrides=tuple(overrides))
