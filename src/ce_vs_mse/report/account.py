"""The step-size account in words (SCIENCE.md, "Two effects, not one"): of the settings of
:func:`.scaling.setting` (a head and initial scale, a depth), which a smaller step explains
(squared error's factor near its uniform value u, and η/u closing most of the gap) and which
saturation (the factor far below u, squared error stalled at every η). The lr_scaling and
lr_scaling_depth sections answer with it; the intervals are in their tables."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import scaling, seeds
from .headline import span
from .tables import value


def reached(at: pd.DataFrame, pair: str) -> tuple[int, int, bool]:
    """Over one setting's η grid, the most seeds of ``pair`` that reached the target at one
    η, that η's seeds, and whether some η had every seed reach it."""
    rows = at[at["pair"] == pair]
    if rows.empty:
        return 0, 0, False
    total = rows.groupby("lr").size()
    got = (seeds.done(rows)["steps_to_target"].notna().groupby(rows["lr"]).sum()
           .reindex(total.index, fill_value=0))
    best = (got / total).idxmax()
    return int(got[best]), int(total[best]), bool((got == total).any())


def saturated(f: dict) -> bool:
    return scaling.saturated(f["factor"][1])


def words(found: list[dict], target: str) -> str:
    """Which settings are a smaller step and which saturation, with the one or two ratios
    that show it; settings where neither loss reached the target at any η are said apart."""
    nothing = [f for f in found if not any(reached(f["table"], p)[0]
                                           for p in (f["pair"], f["log_pair"]))]
    step = [f for f in found if not saturated(f) and f not in nothing]
    sat = [f for f in found if saturated(f) and f not in nothing]
    parts = []
    if step:
        shared = [f["shared"]["mean"] for f in step if f["shared"]["n"]]
        scaled = [f["scaled"]["mean"] for f in step if f["scaled"]["n"]]
        alone = [f["setting"] for f in step if not f["shared"]["n"]
                 and f["shared"]["reached"][1] and not f["shared"]["reached"][0]]
        lr0 = value(step[0]["lr"])
        text = (f"a smaller step with {settings([f['setting'] for f in step])}: squared "
                f"error's factor stayed near or above its uniform value u, and with its η "
                f"scaled by 1/u ({_scales(step)}) ")
        text += (f"it needed {span(scaled)} the log-loss's updates to {target}" if scaled else
                 f"no seed pair reached {target}")
        if shared:
            text += f", against {span(shared)} at the shared η = {lr0}"
        if alone:
            text += f" (with {settings(alone)} only the log-loss reached it at η = {lr0})"
        parts.append(text)
    if sat:
        sq = [reached(f["table"], f["pair"]) for f in sat]
        every = all(reached(f["table"], f["log_pair"])[2] for f in sat)
        best = max(sq, key=lambda r: r[0] / r[1] if r[1] else 0)
        parts.append(f"saturation with {settings([f['setting'] for f in sat])}: squared "
                     "error's factor fell far below its uniform value, and it reached "
                     f"{target} in at most {best[0]} of {best[1]} seeds at any η"
                     + (", while the log-loss reached it in every seed at some η" if every
                        else ""))
    if nothing:
        parts.append(f"with {settings([f['setting'] for f in nothing])} neither loss reached "
                     f"{target} at any η, so there is no lag to explain")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "." if text else ""


def settings(names: list[str]) -> str:
    """``1, 2 and 3 hidden layers``; ``the softmax head at initial weights ×1 and ×3 and the
    sigmoid head at ×1``: setting names said in few words."""
    layers = [re.fullmatch(r"(\d+) hidden layers?", n) for n in names]
    if all(layers):
        count = [m.group(1) for m in layers]
        return f"{_join(count)} hidden layer{'s' if count != ['1'] else ''}"
    scales = [re.fullmatch(r"(.+), initial weights (×[\d.]+)", n) for n in names]
    if all(scales):
        by: dict[str, list[str]] = {}
        for m in scales:
            by.setdefault(m.group(1), []).append(m.group(2))
        return _join([f"the {head} at{' initial weights' * (i == 0)} {_join(s)}"
                      for i, (head, s) in enumerate(by.items())])
    return _join(names)


def _scales(found: list[dict]) -> str:
    """``10 for a softmax, 4 for a sigmoid unit``: 1/u of these settings."""
    by = {}
    for f in found:
        head = "a sigmoid unit" if f["pair"].startswith("sigmoid") else "a softmax"
        by.setdefault(f"{value(1 / f['u'])} for {head}", None)
    return ", ".join(by)


def stall(sat: list[dict]) -> list[tuple[float, int, int, bool]]:
    """The :class:`.headline.Answer` fact ``stall`` of saturated settings with an initial
    scale: (scale, seeds that reached the target at squared error's best η, its seeds,
    whether the log-loss reached it in every seed at some η)."""
    out = []
    for f in sat:
        sq, ce = (reached(f["table"], p) for p in (f["pair"], f["log_pair"]))
        if sq[1] and (sq[0] or ce[0]):
            out.append((float(np.median(f["table"]["init_scale"])), *sq[:2], ce[2]))
    return out


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
