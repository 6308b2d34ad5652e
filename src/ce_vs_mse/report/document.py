"""REPORT.md and its files: text, figures (PNG, and SVG on request) and tables (CSV), each
written atomically, and the number formats every table uses.

A section's document is kept as blocks (text, a figure, a table), so that the report can show
what a student reads first in the body and the rest in the appendix (:func:`body`).

A table's numbers are shown to three significant digits (whole steps for step counts), as
``mean [95 % interval]`` in one cell (a geometric mean for step counts and their ratios); the
CSV holds the same rounded numbers, one per column.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import Locator

from ..store.files import write_atomic


def significant(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant digits (NaN and ±inf as they are)."""
    if not math.isfinite(x) or x == 0:
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def rounded(x: float, steps: bool = False) -> float:
    """``x`` as a table's CSV holds it: a whole number of steps, or :func:`significant`."""
    return float(round(x)) if steps and pd.notna(x) else significant(x)


def number(x: float, steps: bool = False) -> str:
    """Three significant digits (``0.973``, ``4.87``, ``258``, ``1100``), or a whole number of
    steps; "" for NaN."""
    if x is None or not math.isfinite(x):
        return ""
    if steps:
        return f"{round(x):d}"
    places = 2 - math.floor(math.log10(abs(x))) if x else 0
    return f"{significant(x):.{max(places, 0)}f}"


def percent(x: float) -> str:
    """``0.38`` as ``38 %``."""
    return f"{100 * x:.0f} %"


def interval(mean: float, low: float, high: float, steps: bool = False) -> str:
    """``mean [low, high]``; the mean alone when there is no interval (one value); "" for
    none."""
    if mean is None or not math.isfinite(mean):
        return ""
    if low is None or not math.isfinite(low):
        return number(mean, steps)
    return f"{number(mean, steps)} [{number(low, steps)}, {number(high, steps)}]"


def escape(text) -> str:
    """``text`` as Markdown and HTML show it, literally, in a line or a table cell: ``<``,
    ``>`` and ``&`` as entities (no tag, no ``<script>``), ``|`` escaped (no new cell), a line
    break as a space (no new row), and a backtick escaped (no code span). What a run folder
    holds (a name, an error, a parameter) reaches REPORT.md only through here."""
    text = html.escape(str(text), quote=False)
    return re.sub(r"[\r\n]+", " ", text).replace("|", "\\|").replace("`", "\\`")


def markdown(df: pd.DataFrame) -> str:
    """A Markdown table of ``df``'s cells as text (NaN as an empty cell), each
    :func:`escape` d."""
    cells = [["" if pd.isna(v) else escape(v) for v in row]
             for row in df.itertuples(index=False)]
    head = "| " + " | ".join(map(escape, df.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    return "\n".join([head, rule, *("| " + " | ".join(c) + " |" for c in cells)])


class InView(Locator):
    """Only the locations of ``locator`` that the axis shows: matplotlib makes a tick (three
    lines, two texts) for every location a locator returns, drawn or not, and a log axis's
    locator returns a decade beyond each end."""

    def __init__(self, locator: Locator, axis):
        self.locator = locator
        self.axis = axis

    def __call__(self):
        locs = np.asarray(self.locator())
        if not len(locs):
            return locs
        transform = self.axis.get_transform()
        low, high = sorted(transform.transform(self.axis.get_view_interval()))
        slack = (high - low) * 1e-10  # as matplotlib's own test of which ticks to draw
        at = transform.transform(locs)
        return locs[(at >= low - slack) & (at <= high + slack)]


@dataclass(frozen=True)
class Block:
    """Lines of a document that go together: ``kind`` "text", "note" (for the appendix),
    "figure" (``name``: its file's stem, ``caption``) or "table" (``name``: its CSV's
    stem)."""

    kind: str
    lines: tuple[str, ...]
    name: str = ""
    caption: str = ""


def body(blocks: list[Block], shown: tuple[str, ...] = ()) -> tuple[list[Block], list[Block]]:
    """A section's blocks split into what its part of the report shows and what goes to the
    appendix. The part shows the figures named in ``shown`` that it drew (or else its first
    figure), and the text it wrote before them, which says what they show; the appendix gets
    its other figures, every table, its notes and the text after."""
    figures = [b for b in blocks if b.kind == "figure"]
    lead = [b for b in figures if b.name in shown] or figures[:1]
    before = blocks[:blocks.index(lead[0])] if lead else []
    lead = [b for b in before if b.kind == "text"] + lead
    return lead, [b for b in blocks if b not in lead]


def anchor(heading: str) -> str:
    """The link target GitHub gives a Markdown heading: ``#quickstart-tables-and-figures``."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
    return f"#{slug}"


class Document:
    """The Markdown lines of a report (or of one section), as :class:`Block` s, and the files
    they show."""

    def __init__(self, out: Path, svg: bool = False):
        self.out = out
        self.svg = svg
        self.blocks: list[Block] = []
        (out / "figures").mkdir(parents=True, exist_ok=True)
        (out / "tables").mkdir(parents=True, exist_ok=True)

    @property
    def lines(self) -> list[str]:
        return [line for b in self.blocks for line in b.lines]

    def text(self, *lines: str) -> None:
        self.blocks.append(Block("text", (*lines, "")))

    def note(self, *lines: str) -> None:
        """Text that goes to the appendix wherever it stands (:func:`body`)."""
        self.blocks.append(Block("note", (*lines, "")))

    def add(self, blocks: list[Block]) -> None:
        """Show ``blocks`` (another document's) here."""
        self.blocks += blocks

    def figure(self, fig, name: str, caption: str) -> None:
        """Write ``fig`` (laid out by its maker) as figures/<name>.png, and .svg when asked
        for (drawing it costs about as much as the PNG); without, an older .svg of it is
        removed, so that none is left behind that the PNG no longer matches. Show it."""
        # with a layout engine set, savefig would lay out and draw the figure once more
        fig.set_layout_engine(None)
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                for ticker in (axis.major, axis.minor):
                    if not isinstance(ticker.locator, InView):
                        ticker.locator = InView(ticker.locator, axis)
        png, svg = (self.out / "figures" / f"{name}.{ext}" for ext in ("png", "svg"))
        write_atomic(png, lambda tmp: fig.savefig(tmp, format="png"))
        if self.svg:
            write_atomic(svg, lambda tmp: fig.savefig(tmp, format="svg", metadata={"Date": None}))
        else:
            svg.unlink(missing_ok=True)
        plt.close(fig)
        self.blocks.append(Block("figure", (f"![{name}](figures/{name}.png)", "", f"*{caption}*",
                                            ""), name, caption))

    def table(self, shown: pd.DataFrame, numbers: pd.DataFrame, name: str, caption: str) -> None:
        """Show ``shown`` (text cells) and write ``numbers`` (the same rows, one number per
        column) as tables/<name>.csv."""
        write_atomic(self.out / "tables" / f"{name}.csv",
                     lambda tmp: numbers.to_csv(tmp, index=False))
        self.blocks.append(Block("table", (f"**{caption}** ([{name}.csv](tables/{name}.csv))",
                                           "", markdown(shown), ""), name))

    def write(self, name: str = "REPORT.md") -> Path:
        path = self.out / name
        write_atomic(path, lambda tmp: tmp.write_text("\n".join(self.lines).rstrip() + "\n"))
        return path
