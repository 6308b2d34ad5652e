"""Logistic regression and MLPs, R independent copies ("replicas") trained in lockstep.

Every weight carries a leading replica dimension: a layer's weight is (R, fan_in, fan_out)
and its bias (R, 1, fan_out), so one batched matmul runs all R networks. Replica r is
initialised from its own seed alone, which makes it identical to a network trained with
that seed by itself. The model returns the output *pre-activation* z of shape (R, B, K);
the head (sigmoid, softmax or identity) is applied by :mod:`ce_vs_mse.heads` and by the
losses, which work from z directly so that saturated outputs never give inf or NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from . import heads, losses, seeding

ACTIVATION = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


def predict(z: torch.Tensor) -> torch.Tensor:
    """Predicted class: argmax over units, or z > 0 (σ(z) > ½) for a single sigmoid unit."""
    return (z[..., 0] > 0).long() if z.shape[-1] == 1 else z.argmax(dim=-1)


def _zero_bias(fan_out: int, gen: torch.Generator, value: float) -> torch.Tensor:
    return torch.zeros(fan_out)


@dataclass(frozen=True)
class Init:
    """One init scheme: a layer's initial ``weight(fan_in, fan_out, gen, value)``, shape
    (fan_in, fan_out), and ``bias(fan_out, gen, value)``, shape (fan_out,), each drawn from one
    replica's generator ``gen`` (weight first, then bias, layer by layer); ``value`` is
    ``model.init_weight`` for the weight and ``model.init_bias`` for the bias, which only
    ``constant`` reads. ``model.init_scale`` then multiplies the weight."""

    name: str
    weight: Callable[[int, int, torch.Generator, float], torch.Tensor]
    bias: Callable[[int, torch.Generator, float], torch.Tensor] = _zero_bias


INITS: dict[str, Init] = {}  # name -> Init, in the order messages list them


def register(init: Init) -> Init:
    """Add ``init`` to :data:`INITS`; ``model.init=<name>`` then uses it."""
    INITS[init.name] = init
    return init


def _xavier(fan_in: int, fan_out: int, gen: torch.Generator, value: float) -> torch.Tensor:
    """Glorot & Bengio (2010), uniform: U(-b, b), b = √(6 / (fan_in + fan_out))."""
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return (torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) * bound


def _lecun(fan_in: int, fan_out: int, gen: torch.Generator, value: float) -> torch.Tensor:
    """LeCun et al. (1998): N(0, 1/fan_in)."""
    return torch.randn(fan_in, fan_out, generator=gen) / math.sqrt(fan_in)


def _kaiming(fan_in: int, fan_out: int, gen: torch.Generator, value: float) -> torch.Tensor:
    """He et al. (2015): N(0, 2/fan_in)."""
    return torch.randn(fan_in, fan_out, generator=gen) * math.sqrt(2.0 / fan_in)


def _standard_normal(fan_in: int, fan_out: int, gen: torch.Generator,
                     value: float) -> torch.Tensor:
    """N(0, 1) (Nielsen ch. 1)."""
    return torch.randn(fan_in, fan_out, generator=gen)


def _standard_normal_bias(fan_out: int, gen: torch.Generator, value: float) -> torch.Tensor:
    """N(0, 1), as Nielsen draws biases (ch. 1, 3)."""
    return torch.randn(fan_out, generator=gen)


register(Init("xavier", weight=_xavier))
register(Init("lecun", weight=_lecun))
register(Init("kaiming", weight=_kaiming))
register(Init("normal", weight=_standard_normal, bias=_standard_normal_bias))  # Nielsen ch. 1
register(Init("nielsen", weight=_lecun, bias=_standard_normal_bias))  # Nielsen ch. 3
register(Init(  # every weight model.init_weight, every bias model.init_bias (Nielsen's neuron)
    "constant", weight=lambda fan_in, fan_out, gen, value: torch.full((fan_in, fan_out), value),
    bias=lambda fan_out, gen, value: torch.full((fan_out,), value)))


class ReplicaLinear(nn.Module):
    """R independent affine maps: x (R, B, fan_in) -> (R, B, fan_out)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(weight)  # (R, fan_in, fan_out)
        # (R, 1, fan_out): broadcasts over the batch as it is (an unsqueeze in every forward
        # pass would add an autograd node per layer and step)
        self.bias = nn.Parameter(bias.unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # the same inputs for every replica (evaluation): (N, fan_in)
            # one (N, fan_in) x (fan_in, R*fan_out) product for all replicas: faster than a
            # batched matmul of x broadcast over R (benchmarks/breakdown.py)
            replicas, fan_in, fan_out = self.weight.shape
            wide = self.weight.permute(1, 0, 2).reshape(fan_in, replicas * fan_out)
            z = torch.addmm(self.bias.reshape(-1), x, wide)
            return z.view(-1, replicas, fan_out).transpose(0, 1)
        return torch.baddbmm(self.bias, x, self.weight)


class ReplicaMLP(nn.Module):
    """An MLP (no hidden layer: logistic regression) replicated over seeds.

    Layers are named ``layer1`` … ``layerL`` (hidden) and ``output``; these names appear in
    every per-layer metric (e.g. ``grad_norm/layer1.weight``).
    """

    def __init__(self, sizes: list[int], activation: str, seeds: list[int],
                 init: str = "xavier", init_scale: float = 1.0,
                 constant: tuple[float, float] = (0.0, 0.0)):
        super().__init__()
        self.activation = ACTIVATION[activation]
        gens = [seeding.generator(s, "init") for s in seeds]
        layers = {}
        scheme = INITS[init]
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            name = "output" if i == len(sizes) - 2 else f"layer{i + 1}"
            weights, biases = [], []
            for g in gens:  # per replica: its weight, then its bias (the order of the draws)
                weights.append(scheme.weight(fan_in, fan_out, g, constant[0]))
                biases.append(scheme.bias(fan_out, g, constant[1]))
            layers[name] = ReplicaLinear(torch.stack(weights) * init_scale, torch.stack(biases))
        self.layers = nn.ModuleDict(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (R, B, D) per-replica batches or (N, D) shared inputs -> z: (R, B|N, K)."""
        *hidden, output = self.layers.values()
        for layer in hidden:
            x = self.activation(layer(x))
        return output(x)


def replicas(sizes: list[int], model_cfg, seeds: list[int]) -> ReplicaMLP:
    """The network ``model_cfg`` (a ModelConfig) describes, with these layer sizes (inputs,
    hidden..., outputs), one replica per seed."""
    m = model_cfg
    return ReplicaMLP(list(sizes), m.activation, list(seeds), m.init, m.init_scale,
                      (m.init_weight, m.init_bias))


def build(cfg, n_features: int, n_classes: int, seeds: list[int]) -> tuple[ReplicaMLP, str]:
    """The model that ``cfg.model`` describes and the head it uses, given the dataset's sizes."""
    head = losses.resolve_head(cfg.model.head, cfg.loss.name, n_classes)
    sizes = [n_features, *cfg.model.hidden, heads.n_outputs(head, n_classes)]
    return replicas(sizes, cfg.model, seeds), head
