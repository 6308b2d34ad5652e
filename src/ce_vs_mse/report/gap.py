"""Whether the gap between squared error and cross-entropy grows along a setting (the initial
weight scale, the depth): the questions of the saturation and depth sections."""

from __future__ import annotations


def grows(gaps: list[float]) -> bool:
    """Whether ``gaps`` (squared error's steps over cross-entropy's, one per setting, in the
    setting's order; inf where only cross-entropy reached the target, the widest gap) never
    shrinks from one setting to the next and ends wider than it starts."""
    return (len(gaps) > 1 and gaps[-1] > gaps[0]
            and all(b >= a for a, b in zip(gaps, gaps[1:], strict=False)))
