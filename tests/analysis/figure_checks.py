"""What every report figure must satisfy, checked on the drawn figure: size, aspect ratio,
no overlapping text, units on every numeric axis.

Import from a test file with::

    sys.path.insert(0, str(Path(__file__).parent)); from figure_checks import figure_problems
"""

from __future__ import annotations

import re

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

DPI = 150
MAX_PX = 2400
ASPECT = (0.45, 3.0)
"""Width / height must lie in this range (a page, portrait to landscape)."""
UNIT = re.compile(r"\([^)]*\)|%")
"""An axis label names its unit in parentheses, e.g. "latency per task (s)", or in %."""
_NUMBER = re.compile(r"^[\u2212+\-]?[\d,]*\.?\d+(e[\u2212+\-]?\d+)?%?$")


def _visible_ticklabels(axis) -> list:
    lo, hi = sorted(axis.get_view_interval())
    out = []
    for tick in axis.get_major_ticks():
        loc = tick.get_loc()
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text() and lo - 1e-9 <= loc <= hi + 1e-9:
                out.append(label)
    return out


def _overlap(a: Bbox, b: Bbox, slack: float = 1.0) -> bool:
    return a.x0 + slack < b.x1 and b.x0 + slack < a.x1 and a.y0 + slack < b.y1 and b.y0 + slack < a.y1


def figure_problems(fig: Figure, name: str = "figure", dpi: int = DPI) -> list[str]:
    """Everything wrong with ``fig`` as a report figure, one line each (empty: fine)."""
    problems = []
    w, h = fig.get_size_inches()
    if w * dpi > MAX_PX + 0.5:
        problems.append(f"{name}: {w * dpi:.0f} px wide at {dpi} dpi (max {MAX_PX})")
    if not ASPECT[0] <= w / h <= ASPECT[1]:
        problems.append(f"{name}: aspect ratio {w / h:.2f} outside {ASPECT}")
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = fig.bbox
    texts: list[tuple[str, object, Bbox]] = []  # (owner, artist, box) of every text outside the plot areas
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        texts.append(("figure", suptitle, suptitle.get_window_extent(renderer)))
    for fig_legend in fig.legends:
        texts.append(("figure", fig_legend, fig_legend.get_window_extent(renderer)))
    for i, ax in enumerate(fig.axes):
        owner = f"axes {i}"
        if not ax.get_visible():
            continue
        inner = [t for t in ax.texts if t.get_visible() and t.get_text()]
        for a_i, a in enumerate(inner):
            box = a.get_window_extent(renderer)
            for b in inner[a_i + 1:]:
                if _overlap(box, b.get_window_extent(renderer)):
                    problems.append(f"{name}: texts {a.get_text()!r} and {b.get_text()!r} overlap in {owner}")
        if ax.get_title():
            texts.append((owner, ax.title, ax.title.get_window_extent(renderer)))
        legend = ax.get_legend()
        if legend is not None:
            texts.append((owner, legend, legend.get_window_extent(renderer)))
        if not ax.axison:
            continue
        for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labels = _visible_ticklabels(axis)
            boxes = [lab.get_window_extent(renderer) for lab in labels]
            for k, box in enumerate(boxes):
                for j in range(k + 1, len(boxes)):
                    if _overlap(box, boxes[j]):
                        problems.append(f"{name}: {axis_name} tick labels {labels[k].get_text()!r} and "
                                        f"{labels[j].get_text()!r} overlap in {owner}")
            texts += [(owner, lab, box) for lab, box in zip(labels, boxes)]
            if axis.label.get_visible() and axis.label.get_text():
                texts.append((owner, axis.label, axis.label.get_window_extent(renderer)))
            numeric = [lab for lab in labels if _NUMBER.match(lab.get_text().replace(" ", ""))]
            if numeric and not UNIT.search(axis.label.get_text()):
                problems.append(f"{name}: numeric {axis_name} axis of {owner} has no unit "
                                f"(label {axis.label.get_text()!r})")
    for k, (owner, artist, box) in enumerate(texts):
        if box.x0 < page.x0 - 1 or box.y0 < page.y0 - 1 or box.x1 > page.x1 + 1 or box.y1 > page.y1 + 1:
            problems.append(f"{name}: {_describe(artist)} runs off the figure")
        for other_owner, other, obox in texts[k + 1:]:
            if other_owner != owner and _overlap(box, obox):
                problems.append(f"{name}: {_describe(artist)} ({owner}) overlaps {_describe(other)} ({other_owner})")
    return problems


def _describe(artist) -> str:
    text = getattr(artist, "get_text", None)
    return f"text {text()!r}" if callable(text) else type(artist).__name__
