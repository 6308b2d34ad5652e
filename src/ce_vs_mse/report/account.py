"""The step-size account in words (SCIENCE.md, "Two effects, not one"): of the settings of
:func:`.scaling.setting` (a head and initial scale, a depth), which a smaller step explains
(squared error's factor near its uniform value u, and η/u closing most of the gap) and which
saturation (the factor far below u, squared error stalled at every η). The lr_scaling and
lr_scaling_depth sections answer with it; the intervals are in their tables."""

from __future__ import annotations

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
    that show it."""
    step = [f for f in found if not saturated(f)]
    sat = [f for f in found if saturated(f)]
    parts = []
    if step:
        shared = [f["shared"]["mean"] for f in step if f["shared"]["n"]]
        scaled = [f["scaled"]["mean"] for f in step if f["scaled"]["n"]]
        never = [f["setting"] for f in step if not f["shared"]["n"]]
        lr0 = value(step[0]["lr"])
        text = (f"a smaller step at {_join([f['setting'] for f in step])}: squared error's "
                "factor stayed near its uniform value, and ")
        if scaled:
            text += (f"with its η scaled by 1/u it needed {span(scaled)} the log-loss's updates "
                     f"to {target}")
            if shared:
                text += f", against {span(shared)} at the shared η = {lr0}"
            if never:
                text += f" (at {_join(never)} only the log-loss reached it at η = {lr0})"
        else:
            text += f"with its η scaled by 1/u no seed pair reached {target}"
        parts.append(text)
    for f in sat:
        sq, ce = (reached(f["table"], p) for p in (f["pair"], f["log_pair"]))
        if not sq[0] and not ce[0]:
            parts.append(f"at {f['setting']} neither loss reached {target} at any η, so "
                         "there is no lag to explain")
            continue
        parts.append(f"saturation at {f['setting']}: squared error's factor fell far below "
                     f"its uniform value and it reached {target} in at most {sq[0]} of {sq[1]} "
                     "seeds at any η" + (", while the log-loss reached it in every seed at "
                                          "some η" if ce[2] else ""))
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "." if text else ""


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
