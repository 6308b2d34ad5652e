"""The report's answer in plain words: each section's answer (:class:`Answer`, its text with
the few numbers it stands on) and, built from those, the short answer REPORT.md opens with
(:func:`compose`), which tells SCIENCE.md's story of two effects: a smaller step and
saturation. A sentence whose sections were not drawn is left out; no number in it is written
here."""

from __future__ import annotations

import math

from .document import significant


class Answer(str):
    """A section's answer in words, with ``facts``: the numbers :func:`compose` may use.

    ``shared``: squared error's steps over the log-loss's per seed at a shared η, one dict
    (``mean``, ``ci_low``, ``ci_high``) per comparison with an interval; ``scaled``: the same
    with squared error's η scaled by 1/u from a clean start (means); ``by_k``: (K, mean at the
    shared η) in order of K, with ``grows``; ``stall``: settings where squared error's factor
    showed saturation, each (initial scale, seeds that reached the target at its best η,
    seeds, whether the log-loss reached it in every seed at some η); ``own``: the ratio with
    each loss at its own η; ``cancelled``: optimizers under which no difference was detected;
    ``flips``: whether the order of the losses flips with η; ``saturated``: whether a start
    of Nielsen's neuron is saturation."""

    facts: dict

    def __new__(cls, text: str, **facts) -> Answer:
        self = super().__new__(cls, text)
        self.facts = facts
        return self


def rough(x: float) -> str:
    """``5.9``, ``39``, ``0.83``, ``1.0``: two significant digits, for prose (the tables have
    three)."""
    if not math.isfinite(x) or x == 0:
        return f"{x:g}"
    places = 1 - math.floor(math.log10(abs(significant(x, 2))))
    return f"{significant(x, 2):.{max(places, 0)}f}"


def span(values: list[float]) -> str:
    """``1.8× to 5.9×``, or ``about 4.8×`` for one value (or all equal when rounded)."""
    lo, hi = rough(min(values)), rough(max(values))
    return f"about {lo}×" if lo == hi else f"{lo}× to {hi}×"


def every_or(k: int, n: int) -> str:
    """``every`` when ``k`` is ``n``, else ``3 of 10``."""
    return "every" if k == n else f"{k} of {n}"


def _facts(drawn: list[tuple[str, str, str]], key: str, parts: tuple[str, ...] = ()) -> list:
    """Every section's ``key`` fact (those of ``parts`` only, when named), in order; list
    facts are joined."""
    out = []
    for _, part, answer in drawn:
        facts = getattr(answer, "facts", {})
        if key in facts and (not parts or part in parts):
            value = facts[key]
            out += value if isinstance(value, list) else [value]
    return out


def compose(drawn: list[tuple[str, str, str]], phenomenon: str, cause: str) -> list[str]:
    """The opening answer, one sentence a line, from ``drawn``: (section, part, answer) in the
    report's order; ``phenomenon`` and ``cause`` name the parts whose sections measure the
    slowdown at a shared η and its cause."""
    shared = [r for r in _facts(drawn, "shared", (phenomenon,)) if math.isfinite(r["mean"])]
    scaled = [m for m in _facts(drawn, "scaled", (cause,)) if math.isfinite(m)]
    lines = []
    if shared:
        slower = sum(r["ci_low"] > 1 for r in shared)
        lines.append("On the datasets of part 1, at one shared learning rate η, squared error "
                     f"needed {span([r['mean'] for r in shared])} the mini-batch updates of "
                     "cross-entropy to reach the same test accuracy "
                     f"(clearly slower in {every_or(slower, len(shared))} comparison"
                     f"{'s' * (slower != len(shared))} where both reached it).")
    if scaled:
        # most: squared error at K·η closes more than half of the shared-η gap (log scale)
        most = ("Most" if not shared or _log_mean(scaled) < _log_mean(
            [r["mean"] for r in shared]) / 2 else "Part")
        by_k = _facts(drawn, "by_k", (cause,))
        grew = ""
        if len(by_k) > 1 and _facts(drawn, "grows", (cause,)) == [True]:
            (k0, a), (k1, b) = by_k[0], by_k[-1]
            grew = (f", so its lag at a shared η grew with K, from {rough(a)}× at K = {k0} to "
                    f"{rough(b)}× at K = {k1},")
        lead = f"{most} of that is" if shared else "Squared error's lag is mostly"
        lines.append(f"{lead} a step size: at a near-uniform output, as in a fresh network,"
                     " squared error's gradient at the output is cross-entropy's "
                     f"times 1/K (K classes; ¼ for a sigmoid unit){grew} and with its η scaled "
                     f"by K (or 4) it needed {span(scaled)} cross-entropy's updates from a "
                     "clean start (part 2).")
    stall = _facts(drawn, "stall", (cause,))
    if stall:
        scales = sorted({s for s, *_ in stall})
        best = max(stall, key=lambda s: s[1] / s[2])
        other = (" while the log-loss reached it in every seed at some η"
                 if all(every for *_, every in stall) else "")
        neuron = (", and in Nielsen's neuron from its bad start"
                  if True in _facts(drawn, "saturated", (cause,)) else "")
        large = ", ×".join(f"{s:g}" for s in scales)
        lines.append("Real saturation — the slope σ' near 0, outputs confidently wrong — "
                     f"appears from large initial weights (×{large}), "
                     f"where squared error reached the target in at most {best[1]} of {best[2]} "
                     f"seeds at any η{other}{neuron} (part 2).")
    limits = []
    own = [m for m in _facts(drawn, "own") if math.isfinite(m)]
    if own:
        limits.append(f"with each loss at its own tuned η the lag shrank to {span(own)}")
    cancelled = _facts(drawn, "cancelled")
    if cancelled:
        limits.append(f"under {' and '.join(cancelled)} no difference was detected")
    if limits:
        text = ", and ".join(limits)
        lines.append(text[0].upper() + text[1:] + " (part 3).")
    flips = [what for what in ("final accuracy under wrong labels", "calibration")
             if True in _facts([d for d in drawn if d[0] == _SOURCE[what]], "flips")]
    if flips:
        lines.append(f"Where a loss is chosen for its {' or its '.join(flips)}, the order of "
                     "the two flips with η: neither is better at every η (part 4).")
    return lines or ["No section drawn here measures squared error against cross-entropy's "
                     "speed; each section below answers its own question."]


def _log_mean(values: list[float]) -> float:
    return sum(math.log(v) for v in values) / len(values)


_SOURCE = {"final accuracy under wrong labels": "label_noise", "calibration": "calibration"}
