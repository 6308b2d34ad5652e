"""How every figure looks, defined once: one colour per loss family and one line style per head.

A head+loss pair (``softmax+ce``, ``sigmoid+mse``, ``linear+sq_rescaled(k=1,M=15)``) always
has the same look, in every figure and section:

- colour = the loss's family (its ``family`` in losses.LOSSES): cross-entropy (softmax CE and
  sigmoid BCE alike) blue, squared error vermilion, Hui & Belkin's rescaled square loss bluish
  green (Okabe & Ito's palette, which colour-blind readers tell apart);
- line style (and bar hatching, and marker) = the head: softmax solid, sigmoid dashed, linear
  dash-dotted.

Anything else in a figure (a sweep's second value, a reference line) is drawn in grey or by
line width, never in a pair's colour. Nothing outside this module picks a colour for a pair.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from ..core import losses  # noqa: E402

# A loss's colour is its family's (losses.LOSSES: each loss's ``family``), in the order pairs
# are listed.
FAMILY_COLOUR = {"cross-entropy": "#0072B2", "squared error": "#D55E00",
                 "rescaled square": "#009E73"}
HEAD_LINE = {"softmax": "-", "sigmoid": "--", "linear": "-."}
HEAD_HATCH = {"softmax": "", "sigmoid": "//", "linear": ".."}
HEAD_MARKER = {"softmax": "o", "sigmoid": "s", "linear": "^"}
UNKNOWN = "#666666"  # a loss family or head added later, until it is given its own look here
NEUTRAL = ("#222222", "#888888")  # lines that are not a pair (e.g. y = 1 and y = 0)

plt.rcParams.update({"svg.hashsalt": "ce-vs-mse", "svg.fonttype": "none",  # text stays text
                     "figure.dpi": 100, "savefig.dpi": 100,
                     "axes.grid": True, "grid.alpha": 0.3, "legend.fontsize": 8})
# Titles sit just above their panel, where matplotlib would put them anyway (no figure has
# tick labels on top); left to it, it measures every titled panel's ticks once more to check.
plt.rcParams["axes.titley"] = 1.0


def split(pair: str) -> tuple[str, str]:
    """(head, loss) of a pair label such as ``linear+sq_rescaled(k=1,M=15)``."""
    head, _, loss = pair.partition("+")
    return head, loss.partition("(")[0]


def loss(pair: str) -> str:
    """The loss of a pair without its options: ``sq_rescaled`` of
    ``linear+sq_rescaled(k=1,M=15)``."""
    return split(pair)[1]


def family(pair: str) -> str | None:
    """The loss family of a pair (``cross-entropy`` for ``sigmoid+bce``); None for a loss that
    is not registered."""
    loss = losses.LOSSES.get(split(pair)[1])
    return loss.family if loss else None


TAG = "_pair:"  # artists drawn for a pair are labelled TAG + pair (a leading _: no legend)


def line(pair: str) -> dict:
    """Keyword arguments for ``ax.plot`` (and ``fill_between``, ``errorbar``) that draw
    ``pair`` in its look, the artist labelled as the pair's (:func:`pair_of`)."""
    return {"color": FAMILY_COLOUR.get(family(pair), UNKNOWN),
            "linestyle": HEAD_LINE.get(split(pair)[0], ":"), "label": TAG + pair}


def colour(pair: str) -> str:
    return line(pair)["color"]


def bar(pair: str) -> dict:
    """Keyword arguments for ``ax.barh`` that fill a bar in ``pair``'s look."""
    head, _ = split(pair)
    return {"facecolor": colour(pair), "hatch": HEAD_HATCH.get(head, "xx"), "edgecolor": "white"}


def pair_of(artist) -> str | None:
    """The pair an artist was drawn for, or None (e.g. for a test that reads figures back)."""
    label = str(artist.get_label())
    return label.removeprefix(TAG) if label.startswith(TAG) else None


def marker(pair: str) -> str:
    return HEAD_MARKER.get(split(pair)[0], "x")


def _key(pair: str) -> tuple:
    heads, families, names = list(HEAD_LINE), list(FAMILY_COLOUR), list(losses.LOSSES)
    head, loss = split(pair)
    return (heads.index(head) if head in heads else len(heads),
            families.index(family(pair)) if family(pair) in families else len(families),
            names.index(loss) if loss in names else len(names), pair)


def order(pairs) -> list[str]:
    """Pairs in the one order every legend, table and bar chart uses: by head (softmax,
    sigmoid, linear), then by loss family (cross-entropy before squared error before the
    rescaled loss), then as losses.LOSSES lists them."""
    return sorted(set(pairs), key=_key)


def ranks(pairs) -> list[int]:
    """Positions that put a column of pairs in :func:`order`, keeping ties in their order."""
    pairs = list(pairs)
    return sorted(range(len(pairs)), key=lambda i: (_key(pairs[i]), i))


def handles(pairs, bars: bool = False) -> list:
    """Legend entries of ``pairs``, in :func:`order`: lines, or filled patches for bars."""
    if bars:
        return [Patch(**bar(p), label=p) for p in order(pairs)]
    return [Line2D([], [], lw=1.8, **{**line(p), "label": p}) for p in order(pairs)]
