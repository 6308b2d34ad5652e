"""How one training seed becomes independent random streams.

A seed fixes a replica's initial weights and its mini-batch order, each from its own stream,
so neither depends on the loss, the other seeds trained alongside, or how many steps ran.
"""

from __future__ import annotations

import numpy as np
import torch

STREAMS = {"init": 0, "order": 1}


def generator(seed: int, stream: str) -> torch.Generator:
    """A CPU generator for ``stream`` ("init" or "order") of training seed ``seed``."""
    state = np.random.SeedSequence([seed, STREAMS[stream]]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
