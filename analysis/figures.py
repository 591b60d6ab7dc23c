"""Figure functions for the paper's figures 4 to 12 and appendix A.1.

Every function takes DataFrames (the tables of ``maestro.analysis.frames`` or the results
of the analysis core) and returns a :class:`matplotlib.figure.Figure`. Figures are built
with the object API on the Agg canvas: nothing is shown and no pyplot state is kept, so
they are safe in scripts, tests and notebooks (Jupyter displays a returned Figure).

The numbers come from :mod:`maestro.analysis.figure_data`: each figure function here calls
its data function (``flame_graph`` -> ``figure_data.flame_graph_data``, ...) and only draws
what that returned, so every computation is tested there without matplotlib. The helpers
and data functions this module always offered (``delay_breakdown``, ``token_curves``,
``TokenCurves``, ``pick_run``, ``present_keys``, ``CONFIG_KEYS``, ...) are re-exported here.

Conventions that hold for all of them:

* **SIMULATED label.** When any run behind a figure used a simulated backend (the runs'
  ``simulated`` column), the title says so (:func:`figure_title`), and every time axis
  says ``simulated, time factor F`` (``time_note=``, from ``figure_data.time_note``: the
  simulated service sleeps F x a real model's latency, so seconds are not real seconds).
* **Graceful degradation.** A study that lacks what a figure needs (one instance, no
  tools-off runs, no judges, no resource samples, ...) yields a placeholder figure that
  says "no data for ..." instead of raising (:func:`placeholder`).
* **Readable on a page.** No figure is wider than :data:`MAX_WIDTH_IN` inches (2,400 px at
  the report's 150 dpi); group labels wrap at "/", "_" and spaces to at most
  :data:`LABEL_CHARS` characters a line; a figure with more groups than fit side by side
  facets them (one panel per architecture, the first label line, in a grid), so tick
  labels never overlap; every numeric axis names its unit.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Arc, FancyArrowPatch, Patch

from maestro.analysis import figure_data as D
from maestro.analysis.figure_data import (  # noqa: F401 - re-exported: figures' public names since the start
    CONFIG_KEYS,
    SIMULATED_LABEL,
    TokenCurves,
    category_label,
    delay_breakdown,
    figure_title,
    is_simulated,
    key_label,
    pick_run,
    present_keys,
    run_label,
    time_label,
    time_note,
    token_curves,
)

__all__ = [
    "SIMULATED_LABEL",
    "MAX_WIDTH_IN",
    "MAX_ASPECT",
    "LABEL_CHARS",
    "wrap_label",
    "is_simulated",
    "figure_title",
    "time_note",
    "time_label",
    "placeholder",
    "CONFIG_KEYS",
    "key_label",
    "present_keys",
    "run_label",
    "pick_run",
    "delay_breakdown",
    "resources_by_instance",
    "resources_by_architecture",
    "resources_min_mean_peak",
    "message_volume",
    "message_sizes",
    "tokens_over_time",
    "TokenCurves",
    "token_curves",
    "tokens_over_time_by_group",
    "delay_breakdown_figure",
    "flame_graph",
    "resource_timeseries",
    "call_graphs",
    "similarity_within_figure",
    "similarity_between_figure",
    "latency_vs_cost",
    "distributions",
    "by_model",
    "tool_deltas",
    "tool_accuracy",
    "pareto_figure",
    "category_label",
    "failure_breakdown_figure",
    "judge_agreement_figure",
]

MAX_WIDTH_IN = 16.0
"""Widest figure in inches: 2,400 px at the report's 150 dpi."""
LABEL_CHARS = 14
"""Group labels wrap to at most this many characters a line (where they can break)."""

_PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c",
            "#ccb974", "#64b5cd"]
_SPAN_COLOURS = {"run": "#8c8c8c", "agent": "#4c72b0", "llm": "#dd8452", "tool": "#55a868",
                 "message": "#c44e52", "other": "#ccb974"}
_MARKERS = "osD^vP*Xph"
_TICK_FS = 7
_MAX_FLAT = 8  # more groups than this in one panel: facet by the first label line


# --------------------------------------------------------------------------- helpers

MAX_ASPECT = 2.9
"""No figure is flatter than this (width / height), so it reads on a page."""


def _new(figsize=(9, 4.5)) -> Figure:
    w = min(float(figsize[0]), MAX_WIDTH_IN)
    return Figure(figsize=(w, max(float(figsize[1]), w / MAX_ASPECT)), layout="constrained")


def _finish(fig: Figure, title: str, simulated: bool) -> Figure:
    # wrapped to the figure's width so narrow figures (heatmaps) do not clip their titles
    width = max(30, int(fig.get_figwidth() * 11))
    fig.suptitle(textwrap.fill(figure_title(title, simulated), width=width), fontsize=11)
    _fit_axis_labels(fig)
    return fig


def _split_label(text: str) -> str:
    """A one-line axis label on two lines, before its unit when it has one."""
    head, sep, unit = text.partition(" (")
    if sep and head:
        return f"{head}\n({unit}"
    return textwrap.fill(text, width=max(12, len(text) // 2 + 1))


def _fit_axis_labels(fig: Figure) -> None:
    """Axis labels longer than their axis (a long unit note on a short panel) go on two
    lines, so they neither run past the panel nor into the next one."""
    labelled = [ax for ax in fig.axes if ax.get_ylabel() or ax.get_xlabel()]
    if not labelled:
        return
    fig.draw_without_rendering()  # the laid-out axes sizes
    for ax in labelled:
        pos = ax.get_position()
        for label, length in ((ax.yaxis.label, pos.height * fig.get_figheight()),
                              (ax.xaxis.label, pos.width * fig.get_figwidth())):
            text = label.get_text()
            if text and "\n" not in text and len(text) * float(label.get_fontsize()) * 0.58 / 72 > 0.95 * length:
                label.set_text(_split_label(text))


def _note(time_note_: str | None, *frames: pd.DataFrame | None) -> str | None:
    """The time axes' note: the one given, else ``simulated`` when the data is."""
    if time_note_ is not None:
        return time_note_ or None
    return "simulated" if is_simulated(*frames) else None


def placeholder(title: str, missing: str, simulated: bool = False) -> Figure:
    """A small figure that says what is missing (used instead of raising)."""
    fig = _new((7, 2.6))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, f"no data for {missing}", ha="center", va="center", fontsize=12, color="#555555",
            transform=ax.transAxes)
    fig.placeholder = True  # type: ignore[attr-defined]  # lets the report and tests tell a placeholder apart
    return _finish(fig, title, simulated)


def wrap_label(label: str, width: int = LABEL_CHARS) -> str:
    """``label`` with every line longer than ``width`` broken after "/", "_", "-" or a
    space (a part without such a break stays whole)."""
    out = []
    for line in str(label).split("\n"):
        cur = ""
        for part in re.split(r"(?<=[/_\- ])", line):
            if cur and len(cur) + len(part.rstrip()) > width:
                out.append(cur.rstrip())
                cur = part
            else:
                cur += part
        out.append(cur.rstrip())
    return "\n".join(out)


def _slot_in(ticks: Sequence[str], fontsize: float = _TICK_FS) -> float:
    """Inches one tick label of ``ticks`` needs side by side with the next."""
    chars = max((len(line) for t in ticks for line in str(t).split("\n")), default=1)
    return max(0.55, chars * fontsize * 0.58 / 72 + 0.16)


@dataclass
class _Panel:
    ax: Axes
    row: int
    """Index of the panel's metric (row block of the grid)."""
    first_of_row: bool
    """The first panel of its metric (holds the y label; the others share its y axis)."""
    title: str | None
    """Facet title (the first label line), None when not faceted."""
    labels: list[str]
    """The groups drawn in the panel (full labels)."""
    ticks: list[str]
    """Their tick labels (wrapped, without the facet line)."""


def _facets(labels: Sequence[str], max_flat: int = _MAX_FLAT,
            extra_w: float = 1.1) -> list[tuple[str | None, list[str], list[str]]]:
    """``(title, labels, ticks)`` per panel: by the first label line when there are more
    than ``max_flat`` multi-line labels with several first lines, else one panel; a panel
    with more groups than fit in :data:`MAX_WIDTH_IN` is split into several."""
    labels = list(labels)
    lines = [str(lab).split("\n") for lab in labels]
    heads = {x[0] for x in lines}
    # facets of one group each would be no better than one row of boxes
    if len(labels) > max_flat and all(len(x) >= 2 for x in lines) and 2 <= len(heads) < len(labels):
        groups: list[tuple[str | None, list[str], list[str]]] = []
        for head in dict.fromkeys(x[0] for x in lines):
            members = [(lab, x) for lab, x in zip(labels, lines) if x[0] == head]
            groups.append((head, [lab for lab, _ in members], [wrap_label("\n".join(x[1:])) for _, x in members]))
    else:
        groups = [(None, labels, [wrap_label(lab) for lab in labels])]
    out: list[tuple[str | None, list[str], list[str]]] = []
    for title, full, ticks in groups:
        k = max(1, int((MAX_WIDTH_IN - extra_w) // _slot_in(ticks)))
        for i in range(0, len(full), k):
            out.append((title, full[i:i + k], ticks[i:i + k]))
    return out


def _panel_grid(labels: Sequence[str], n_rows: int, *, side_by_side: bool = True, max_cols: int = 4,
                row_h: float = 3.0, extra_w: float = 1.1, slot_min: float = 0.0,
                min_w: float = 6.5) -> tuple[Figure, list[_Panel]]:
    """A figure with one block of panels per metric (``n_rows`` metrics) over the groups
    ``labels``: one panel per facet (:func:`_facets`), at most ``max_cols`` across; with a
    single facet and ``side_by_side``, the metrics sit next to each other when they fit.
    Panels of one metric share their y axis (only the first column shows its ticks)."""
    facets = _facets(labels, extra_w=extra_w)
    slot = max(max(_slot_in(t) for _, _, t in facets), slot_min)
    n_max = max(len(f[1]) for f in facets)
    pw = n_max * slot + extra_w
    nf = len(facets)
    lines = max((t.count("\n") + 1 for _, _, ts in facets for t in ts), default=1)
    cell_h = row_h + 0.11 * lines
    side = nf == 1 and side_by_side and n_rows * pw <= MAX_WIDTH_IN and n_rows <= 3
    if side:
        grid_rows, grid_cols, per = 1, n_rows, 1
    else:
        grid_cols = max(1, min(max_cols, nf, int(MAX_WIDTH_IN // pw)))
        per = math.ceil(nf / grid_cols)
        grid_cols = math.ceil(nf / per)  # balanced rows: 4 facets as 2 x 2, not 3 + 1
        grid_rows = n_rows * per
    fig = _new((max(min_w, grid_cols * pw), grid_rows * cell_h + 0.6))
    gs = fig.add_gridspec(grid_rows, grid_cols)
    panels = []
    for r in range(n_rows):
        first = None
        for i, (title, full, ticks) in enumerate(facets):
            row, col = (0, r) if side else (r * per + i // grid_cols, i % grid_cols)
            ax = fig.add_subplot(gs[row, col], sharey=first)
            panels.append(_Panel(ax, r, first is None, title, full, ticks))
            if first is None:
                first = ax
            elif col != 0:
                ax.tick_params(labelleft=False)
    return fig, panels


def _boxes(ax, groups: list[tuple[str, pd.Series]], ylabel: str | None, ticks: Sequence[str] | None = None) -> bool:
    ticks = list(ticks) if ticks is not None else [wrap_label(label) for label, _ in groups]
    data = [(tick, s.dropna().astype(float)) for tick, (_, s) in zip(ticks, groups)]
    data = [(tick, s) for tick, s in data if len(s)]
    if not data:
        ax.axis("off")
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return False
    box = ax.boxplot([s.to_numpy() for _, s in data], tick_labels=[tick for tick, _ in data])
    for line in box["medians"]:
        line.set_gid("median")  # lets tests and callers find the drawn medians
    for i, (_, s) in enumerate(data, start=1):  # the points too: studies are often small
        jitter = np.linspace(-0.12, 0.12, len(s)) if len(s) > 1 else np.zeros(1)
        ax.scatter(i + jitter, s.to_numpy(), s=8, alpha=0.5, color="#4c72b0", zorder=3)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelsize=_TICK_FS)
    return True


def _panel(data: pd.DataFrame, metric: str) -> list[tuple[str, pd.Series]]:
    """One metric's boxes of a long box frame (``figure_data.BOX_COLUMNS``), in its order."""
    rows = data[data["metric"] == metric]
    return [(label, g["value"]) for label, g in rows.groupby("group", sort=False)]


def _n_groups(data: pd.DataFrame) -> int:
    return data["group"].nunique()


def _box_panels(data: pd.DataFrame, panels: Sequence[tuple[str, str]], *, side_by_side: bool = True,
                zero_line: bool = False) -> Figure:
    """Box panels of a long box frame, one block per ``(metric, y label)``: side by side
    when they fit, else stacked; groups faceted by their first label line when there are
    many (:func:`_panel_grid`)."""
    labels = list(dict.fromkeys(data["group"]))
    fig, grid = _panel_grid(labels, len(panels), side_by_side=side_by_side)
    for p in grid:
        metric, ylabel = panels[p.row]
        by_label = dict(_panel(data, metric))
        groups = [(lab, by_label.get(lab, pd.Series(dtype=float))) for lab in p.labels]
        _boxes(p.ax, groups, ylabel if _ylabel_here(p) else None, ticks=p.ticks)
        if p.title:
            p.ax.set_title(p.title, fontsize=9)
        if zero_line:
            p.ax.axhline(0, color="#999999", lw=0.8, ls="--")
    return fig


def _ylabel_here(p: _Panel) -> bool:
    """The panel shows y tick labels: the first of its metric or in the first column."""
    spec = p.ax.get_subplotspec()
    return p.first_of_row or (spec is not None and spec.colspan.start == 0)


def _heat_ticks(ax, m: pd.DataFrame, fontsize: float = _TICK_FS) -> None:
    """Wrapped tick labels of a square heatmap; x labels upright when there are more than
    three (turned 45 degrees, their boxes would still collide)."""
    cols = [wrap_label(str(c)) for c in m.columns]
    ax.set_xticks(range(len(cols)), cols, rotation=0 if len(cols) <= 3 else 90, fontsize=fontsize)
    ax.set_yticks(range(len(m.index)), [wrap_label(str(i)) for i in m.index], fontsize=fontsize)


# --------------------------------------------------------------------------- resources (fig 4, 5, 6)

_CPU_LABEL = "mean CPU per run (% of one core)"
_MEM_LABEL = "peak memory per run (MB)"


def resources_by_instance(runs: pd.DataFrame) -> Figure:
    """Figure 4: per-run mean CPU and peak memory, one box per MAS instance (framework noted)
    (data: ``figure_data.resources_data``)."""
    title = "CPU and memory per run, by MAS instance (fig. 4)"
    sim = is_simulated(runs)
    data = D.resources_data(runs, ["instance", "framework"])
    if data is None:
        return placeholder(title, "resource samples (cpu_mean / peak memory)", sim)
    fig = _box_panels(data, [("cpu_mean", _CPU_LABEL), ("rss_peak_mb", _MEM_LABEL)])
    return _finish(fig, title, sim)


def resources_by_architecture(runs: pd.DataFrame) -> Figure:
    """Figure 6: mean CPU and peak memory per architecture, split by model and tool setting,
    one panel per architecture when there are many cells (data:
    ``figure_data.resources_data``)."""
    title = "CPU and memory by architecture, model and tools (fig. 6)"
    sim = is_simulated(runs)
    data = D.resources_data(runs, CONFIG_KEYS)
    if data is None:
        return placeholder(title, "resource samples (cpu_mean / peak memory)", sim)
    fig = _box_panels(data, [("cpu_mean", _CPU_LABEL), ("rss_peak_mb", _MEM_LABEL)], side_by_side=False)
    return _finish(fig, title, sim)


_STAT_COLOURS = {"min": "#55a868", "mean": "#4c72b0", "peak": "#c44e52"}


def resources_min_mean_peak(runs: pd.DataFrame) -> Figure:
    """Appendix A.1 "mean, peak and minimum CPU and memory usage" over multiple runs: per
    architecture, boxes of each run's minimum, time-weighted mean and peak CPU and memory
    sample (data: ``figure_data.resource_stats_data``)."""
    title = "Minimum, mean and peak CPU and memory per run, by architecture"
    sim = is_simulated(runs)
    data = D.resource_stats_data(runs, ["instance"])
    if data is None:
        return placeholder(title, "resource samples (cpu_min / cpu_mean / cpu_peak, memory)", sim)
    labels = list(dict.fromkeys(data["group"]))
    resources = [r for r in ("cpu", "memory") if (data["resource"] == r).any()]
    ylabels = {"cpu": "CPU per run (% of one core)", "memory": "memory per run (MB)"}
    fig, grid = _panel_grid(labels, len(resources), slot_min=1.1)
    for p in grid:
        resource = resources[p.row]
        rows = data[data["resource"] == resource]
        for j, stat in enumerate(("min", "mean", "peak")):
            vals = [rows[(rows["group"] == lab) & (rows["stat"] == stat)]["value"].dropna().to_numpy()
                    for lab in p.labels]
            pos = [i + 1 + (j - 1) * 0.27 for i, v in enumerate(vals) if len(v)]
            vals = [v for v in vals if len(v)]
            if not vals:
                continue
            box = p.ax.boxplot(vals, positions=pos, widths=0.22, patch_artist=True, manage_ticks=False,
                               flierprops={"markersize": 3})
            for patch in box["boxes"]:
                patch.set_facecolor(_STAT_COLOURS[stat])
                patch.set_alpha(0.75)
            for line in box["medians"]:
                line.set_color("#222222")
                line.set_gid(f"median-{stat}")
        p.ax.set_xticks(range(1, len(p.labels) + 1), p.ticks, fontsize=_TICK_FS)
        p.ax.set_xlim(0.4, len(p.labels) + 0.6)
        if _ylabel_here(p):
            p.ax.set_ylabel(ylabels[resource])
        if p.title:
            p.ax.set_title(p.title, fontsize=9)
    fig.legend(handles=[Patch(color=c, alpha=0.75, label=f"{k} per run") for k, c in _STAT_COLOURS.items()],
               loc="outside lower center", ncols=3, fontsize=8)
    return _finish(fig, title, sim)


def message_volume(runs: pd.DataFrame) -> Figure:
    """Figure 5: communication volume per run (model HTTP bodies + agent-to-agent messages)
    by architecture, model and tool setting (data: ``figure_data.message_volume_data``)."""
    title = "Communication volume per run (fig. 5)"
    sim = is_simulated(runs)
    data = D.message_volume_data(runs)
    if data is None:
        return placeholder(title, "message byte counts", sim)
    fig = _box_panels(data, [("total_kib", "total bytes per run (KiB)"),
                             ("a2a_kib", "agent-to-agent bytes per run (KiB)")], side_by_side=False)
    return _finish(fig, title, sim)


def message_sizes(spans: pd.DataFrame, runs: pd.DataFrame | None = None) -> Figure:
    """Appendix A.1 message sizes, one row per system (agents of different systems are never
    mixed): per agent (agent-to-agent sent/received and model request/response, KiB per run),
    per agent pair (heatmap of mean bytes per run) and per agent-to-model pair (mean bytes
    per call) (data: ``figure_data.message_sizes_by_system_data``)."""
    title = "Message sizes per system: per agent, per agent pair, agent to model"
    sim = is_simulated(runs, spans)
    systems = D.message_sizes_by_system_data(spans)
    if not systems:
        return placeholder(title, "message or LLM spans", sim)
    heights = [max(2.8, 0.26 * max(len(m.per_agent), len(m.agent_model), len(m.pairs)) + 1.4)
               for m in systems.values()]
    fig = _new((MAX_WIDTH_IN if len(systems) > 1 else 13.0, sum(heights) + 0.6))
    gs = fig.add_gridspec(len(systems), 3, width_ratios=[1.1, 1, 1.25], height_ratios=heights)
    for row, (system, data) in enumerate(systems.items()):
        a, b, c = (fig.add_subplot(gs[row, k]) for k in range(3))
        name = "" if system == "all runs" else f"{system}: "
        per_agent = data.per_agent
        if len(per_agent):
            y = np.arange(len(per_agent))
            h = 0.8 / len(per_agent.columns)
            for i, col in enumerate(per_agent.columns):
                a.barh(y + i * h - 0.4 + h / 2, per_agent[col], h, label=col, color=_PALETTE[i])
            a.set_yticks(y, [wrap_label(str(i), 22) for i in per_agent.index], fontsize=_TICK_FS)
            a.invert_yaxis()
            a.set_xlabel("mean per run (KiB)")
        else:
            a.axis("off")
        a.set_title(f"{name}per agent", fontsize=9)

        pair = data.pairs
        if len(pair):
            im = b.imshow(pair.to_numpy(dtype=float), cmap="viridis", aspect="auto")
            b.set_xticks(range(len(pair.columns)), [wrap_label(str(x)) for x in pair.columns], rotation=90,
                         fontsize=_TICK_FS)
            b.set_yticks(range(len(pair.index)), [wrap_label(str(x), 22) for x in pair.index], fontsize=_TICK_FS)
            b.set_xlabel("target agent")
            b.set_ylabel("source agent")
            fig.colorbar(im, ax=b, label="mean per run (bytes)")
        else:
            b.axis("off")
            b.text(0.5, 0.5, "no data for agent-to-agent messages", ha="center", transform=b.transAxes)
        b.set_title(f"{name}per agent pair (agent-to-agent)", fontsize=9)

        am = data.agent_model
        if len(am):
            y = np.arange(len(am))
            c.barh(y - 0.2, am["input_bytes"], 0.4, label="request", color=_PALETTE[2])
            c.barh(y + 0.2, am["output_bytes"], 0.4, label="response", color=_PALETTE[3])
            c.set_yticks(y, list(am.index), fontsize=6.5)
            c.invert_yaxis()
            c.set_xlabel("mean per call (bytes)")
        else:
            c.axis("off")
            c.text(0.5, 0.5, "no data for LLM calls", ha="center", transform=c.transAxes)
        c.set_title(f"{name}agent to model (HTTP body bytes)", fontsize=9)
    series = ["a2a sent", "a2a received", "LLM request", "LLM response"]
    fig.legend(handles=[Patch(color=_PALETTE[i], label=lab) for i, lab in enumerate(series)],
               loc="outside lower center", ncols=4, fontsize=8)
    return _finish(fig, title, sim)


# --------------------------------------------------------------------------- one run (A.1)

_LEGEND_ROW_CHARS = 170
"""Characters of 6.5-pt legend text that fit one row of an 11-inch-wide figure."""


def tokens_over_time(spans: pd.DataFrame, runs: pd.DataFrame | None = None, run_id: str | None = None, *,
                     time_note: str | None = None) -> Figure:
    """Appendix A.1 token consumption: cumulative prompt and completion tokens of each agent
    over one run's time, plus the run total; every call is a marker, so an agent with a
    single model call shows too (data: ``figure_data.tokens_over_time_data``)."""
    data = D.tokens_over_time_data(spans, runs, run_id)
    title = f"Tokens over time per agent, run {data.run_id}"
    sim = is_simulated(runs, spans)
    calls = data.calls
    if not len(calls):
        return placeholder(title, "LLM spans with tokens", sim)
    note = _note(time_note, runs, spans)
    fig = _new((11, 4.6))
    a, b = fig.subplots(1, 2, sharex=True)
    for i, (agent, g) in enumerate(calls.groupby("agent", sort=True)):
        colour = _PALETTE[i % len(_PALETTE)]
        a.step(g["t_s"], g["prompt_cum"], where="post", color=colour, marker="o", ms=3.5,
               label=f"{agent} prompt ({len(g)} call{'s' if len(g) > 1 else ''})")
        a.step(g["t_s"], g["completion_cum"], where="post", color=colour, ls="--", marker="^", ms=3.5,
               label=f"{agent} completion")
    a.set_ylabel("cumulative tokens (count)")
    a.set_xlabel(time_label("time since run start", note))
    a.set_title("per agent (solid: prompt, dashed: completion)", fontsize=9)
    b.step(calls["t_s"], calls["total_cum"], where="post", color="#333333", marker="o", ms=3)
    b.set_xlabel(time_label("time since run start", note))
    b.set_ylabel("cumulative tokens, all agents (count)")
    b.set_title("all agents", fontsize=9)
    handles, labels = a.get_legend_handles_labels()
    # as many columns as fit the figure's width at this font size (long agent names: fewer)
    per_row = max(1, _LEGEND_ROW_CHARS // (max(len(lab) for lab in labels) + 6))
    fig.legend(handles, labels, loc="outside lower center", ncols=min(6, 2 * len(set(calls["agent"])), per_row),
               fontsize=6.5)
    return _finish(fig, title, sim)


def tokens_over_time_by_group(llm_calls: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                              by: str | Sequence[str] = ("instance",), *, time_note: str | None = None) -> Figure:
    """Appendix A.1 average total tokens over time: per group of runs (default: per
    architecture), the mean cumulative tokens against seconds since run start, with the
    interquartile range across runs as a band (data: :func:`token_curves`)."""
    by_t = [by] if isinstance(by, str) else list(by)
    title = f"Average cumulative tokens over time, by {' / '.join(by_t) or 'study'} (band: interquartile range)"
    sim = is_simulated(runs, llm_calls)
    curves = token_curves(llm_calls, runs, by_t)
    if curves is None:
        return placeholder(title, "LLM spans with end times and tokens", sim)
    note = _note(time_note, runs, llm_calls)
    fig = _new((9.5, 5))
    ax = fig.add_subplot()
    for i, label in enumerate(curves.labels):
        colour = _PALETTE[i % len(_PALETTE)]
        ax.fill_between(curves.grid_s, curves.q25[i], curves.q75[i], color=colour, alpha=0.18, lw=0)
        ax.plot(curves.grid_s, curves.mean[i], color=colour, lw=1.6, label=f"{label} (n={curves.n_runs[i]})")
    ax.set_xlabel(time_label("time since run start", note))
    ax.set_ylabel("cumulative tokens, mean over runs (count)")
    ax.set_xlim(0, curves.grid_s[-1])
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=2 if len(curves.labels) > 8 else 1, loc="upper left", bbox_to_anchor=(1.01, 1))
    return _finish(fig, title, sim)


_DELAY_LABELS = {"agent_s": "agent compute", "model_s": "model calls", "tool_s": "tool calls (not in a model call)",
                 "handover_s": "hand-over (in no agent, model or tool span)"}


def delay_breakdown_figure(spans: pd.DataFrame, runs: pd.DataFrame | None = None, *,
                           time_note: str | None = None) -> Figure:
    """Appendix A.1 delay: the mean run root span time per configuration cell split into
    agent compute, model calls, tool calls and hand-over, one panel per architecture when
    there are many cells (data: ``figure_data.delay_breakdown_data``, per run
    :func:`delay_breakdown`)."""
    title = "Delay breakdown per configuration (mean per run)"
    sim = is_simulated(runs, spans)
    means = D.delay_breakdown_data(spans, runs)
    if not len(means):
        return placeholder(title, "spans with timings", sim)
    note = _note(time_note, runs, spans)
    fig, grid = _panel_grid([str(i) for i in means.index], 1)
    for p in grid:
        m = means.loc[p.labels]
        bottom = np.zeros(len(m))
        for i, (col, label) in enumerate(_DELAY_LABELS.items()):
            p.ax.bar(range(len(m)), m[col], bottom=bottom, label=label, color=_PALETTE[i])
            bottom += m[col].to_numpy()
        p.ax.set_xticks(range(len(m)), p.ticks, fontsize=_TICK_FS)
        if _ylabel_here(p):
            p.ax.set_ylabel(time_label("time per run, mean", note))
        if p.title:
            p.ax.set_title(p.title, fontsize=9)
    fig.legend(*grid[0].ax.get_legend_handles_labels(), loc="outside lower center",
               ncols=4 if fig.get_figwidth() >= 10 else 2, fontsize=8)
    return _finish(fig, title, sim)


def flame_graph(spans: pd.DataFrame, runs: pd.DataFrame | None = None, run_id: str | None = None, *,
                time_note: str | None = None) -> Figure:
    """Flame graph (icicle layout) of one run's span tree: x is time since the run started,
    rows are tree depth, colour is span type; zero-length messages are drawn as ticks
    (data: ``figure_data.flame_graph_data``)."""
    data = D.flame_graph_data(spans, runs, run_id)
    title = f"Flame graph of run {data.run_id}"
    sim = is_simulated(runs, spans)
    s, total = data.spans, data.total_s
    if not len(s):
        return placeholder(title, f"spans of run {data.run_id}", sim)
    note = _note(time_note, runs, spans)
    depth_max = data.max_depth
    fig = _new((12, max(4.2, 1.4 + 0.55 * (depth_max + 2))))
    ax = fig.add_subplot()
    for r in s.itertuples():
        x, w = r.start_s, r.duration_s
        colour = _SPAN_COLOURS.get(r.span_type, _SPAN_COLOURS["other"])
        if r.span_type == "message" or w <= 0:
            ax.plot([x, x], [r.depth - 0.4, r.depth + 0.4], color=colour, lw=1)
            continue
        ax.barh(r.depth, w, left=x, height=0.8, color=colour, edgecolor="white", linewidth=0.5)
        if w > total * 0.06:
            ax.text(x + w / 2, r.depth, r.label[: max(int(w / total * 90), 3)], ha="center", va="center",
                    fontsize=6, color="white", clip_on=True)
    ax.set_ylim(depth_max + 0.6, -0.6)
    ax.set_yticks(range(depth_max + 1))
    ax.set_ylabel("span depth (levels, 0 = run)")
    ax.set_xlabel(time_label("time since run start", note))
    handles = [Patch(color=c, label=k) for k, c in _SPAN_COLOURS.items() if k in set(s["span_type"])]
    fig.legend(handles=handles, fontsize=7, loc="outside lower center", ncols=len(handles), title="span type",
               title_fontsize=7)
    return _finish(fig, title, sim)


def resource_timeseries(resources: pd.DataFrame, spans: pd.DataFrame | None = None,
                        runs: pd.DataFrame | None = None, run_id: str | None = None, *,
                        time_note: str | None = None) -> Figure:
    """Appendix A.1 CPU and memory of one run over time, with LLM calls (orange) and tool
    calls (green) shaded, and the mean CPU inside vs outside LLM calls in the legend
    (data: ``figure_data.resource_timeseries_data``)."""
    data = D.resource_timeseries_data(resources, spans, runs, run_id)
    title = f"CPU and memory over time, run {data.run_id}"
    sim = is_simulated(runs, spans)
    r = data.samples
    if not len(r):
        return placeholder(title, f"resource samples of run {data.run_id}", sim)
    note = _note(time_note, runs, spans)
    fig = _new((11, 5.5))
    a, b = fig.subplots(2, 1, sharex=True)
    a.plot(r["t_s"], r["cpu_percent"], marker="o", ms=3, color="#4c72b0", label="CPU")
    b.plot(r["t_s"], r["rss_mb"], marker="o", ms=3, color="#8172b3", label="memory")
    for kind in ("llm", "tool"):
        for i, sp in enumerate(data.calls[data.calls["kind"] == kind].itertuples()):
            for ax in (a, b):
                ax.axvspan(sp.start_s, sp.end_s, color=_SPAN_COLOURS[kind], alpha=0.2, lw=0,
                           label=f"{kind} call" if i == 0 and ax is a else None)
    if not np.isnan(data.cpu_in_llm):
        a.plot([], [], " ", label=f"mean CPU in LLM calls {data.cpu_in_llm:.0f}%, outside {data.cpu_outside:.0f}%")
    a.set_ylabel("CPU (% of one core)")
    a.set_ylim(bottom=0)
    b.set_ylabel("memory (MB)")
    b.ticklabel_format(axis="y", useOffset=False, style="plain")
    b.set_xlabel(time_label("time since run start", note))
    a.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return _finish(fig, title, sim)


# --------------------------------------------------------------------------- call graphs (A.1, fig 7, 8)

def _text_box(ax, x: float, y: float, text: str, fontsize: float) -> tuple[float, float, float, float]:
    """Estimated display box (points) of ``text`` centred at data (x, y)."""
    px, py = ax.transData.transform((x, y)) * 72 / ax.figure.dpi
    lines = text.split("\n")
    w, h = 0.62 * fontsize * max(len(line) for line in lines) + 4, 1.25 * fontsize * len(lines) + 3
    return px - w / 2, py - h / 2, px + w / 2, py + h / 2


def _hits(box, boxes) -> bool:
    return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes)


def _to_edge(box: tuple[float, float, float, float], other: tuple[float, float, float, float]) -> float:
    """Points from the centre of ``box`` to its border towards the centre of ``other``
    (how far an arrow between the two must stop short)."""
    hw, hh = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    dx = (other[0] + other[2] - box[0] - box[2]) / 2
    dy = (other[1] + other[3] - box[1] - box[3]) / 2
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = abs(dx) / norm, abs(dy) / norm
    return min(hw / ux if ux > 1e-9 else math.inf, hh / uy if uy > 1e-9 else math.inf) + 2


def _arc3_middle(ax, a: tuple[float, float], b: tuple[float, float], rad: float) -> np.ndarray:
    """Display point halfway along matplotlib's ``arc3,rad=rad`` curve from ``a`` to ``b``
    (data coordinates in; the curve is defined in display space)."""
    p0, p2 = ax.transData.transform(np.array([a, b], dtype=float))
    (dx, dy), mid = p2 - p0, (p0 + p2) / 2
    control = mid + rad * np.array([dy, -dx])
    return 0.25 * p0 + 0.5 * control + 0.25 * p2


def call_graphs(edges: pd.DataFrame | None, runs: pd.DataFrame | None = None, by: str = "instance") -> Figure:
    """Appendix A.1 call graph per architecture: agents as nodes (networkx layered layout,
    left to right from ``__start__``), hand-overs as arrows whose width is the hand-over
    frequency (mean hand-overs per run over all the architecture's runs, also written on
    the arrow where it fits); pale arrows occur in fewer than half of the runs (data:
    ``figure_data.call_graph_data``)."""
    title = f"Agent call graph per {by} (arrow width and label: hand-overs per run, mean)"
    sim = is_simulated(runs, edges)
    graphs = D.call_graph_data(edges, runs, by)
    if not graphs:
        return placeholder(title, "agent-to-agent hand-overs", sim)
    cols = 1 if len(graphs) == 1 else 2
    rows = math.ceil(len(graphs) / cols)
    spread = [float(np.ptp(g.nodes["y"].to_numpy())) for g in graphs.values()]
    # a chain of agents needs little height, a fan-out more
    heights = [min(5.0, 1.9 + 1.9 * max(spread[r * cols:(r + 1) * cols])) for r in range(rows)]
    fig = _new((7.5 * cols, sum(heights) + 1.0))
    gs = fig.add_gridspec(rows, cols, height_ratios=heights)
    axes = [fig.add_subplot(gs[i // cols, i % cols]) for i in range(len(graphs))]
    top = max(float(g.edges["per_run"].max()) for g in graphs.values())
    for ax, (system, g) in zip(axes, graphs.items()):
        ax.set_title(f"{system} (n={g.n_runs} runs)", fontsize=9)
        ax.axis("off")
        xs, ys = g.nodes["x"].to_numpy(), g.nodes["y"].to_numpy()
        padx = 0.12 * float(np.ptp(xs)) + 0.12
        half_y = max(0.5 * float(np.ptp(ys)) + 0.15, 0.45)
        ax.set_xlim(xs.min() - padx, xs.max() + padx)
        ax.set_ylim(ys.mean() - half_y, ys.mean() + half_y)
    fig.legend(handles=[Line2D([], [], color="#4c72b0", lw=2, label="in at least half of the runs"),
                        Line2D([], [], color="#9fb3d6", lw=2, label="in fewer than half")],
               loc="outside lower center", ncols=2, fontsize=7)
    fig = _finish(fig, title, sim)
    fig.draw_without_rendering()  # final axes positions: arrows and labels are placed in display space
    to_pt = 72 / fig.dpi
    for ax, g in zip(axes, graphs.values()):
        xy = {r.node: (r.x, r.y) for r in g.nodes.itertuples()}
        node_fs = 7 if len(g.nodes) <= 10 else 6
        names = {r.node: wrap_label(r.node, 12) for r in g.nodes.itertuples()}
        placed = [_text_box(ax, *xy[v], names[v], node_fs) for v in xy]
        pairs = set(zip(g.edges["source"], g.edges["target"]))
        inv = ax.transData.inverted()
        for e in g.edges.itertuples():
            width = 0.6 + 5.4 * float(e.per_run) / top
            colour = "#4c72b0" if e.share_runs >= 0.5 else "#9fb3d6"
            if e.source == e.target:  # a self hand-over: a loop above the node
                px, py = ax.transData.transform(xy[e.source])
                centre = inv.transform((px, py + 20 / to_pt))
                size = np.abs(inv.transform((px + 24 / to_pt, py + 22 / to_pt)) - inv.transform((px, py)))
                ax.add_patch(Arc(tuple(centre), 2 * size[0] / 2, 2 * size[1] / 2, theta1=-50, theta2=230, lw=width,
                                 color=colour, zorder=1))
                mid = np.array([px, py + 36 / to_pt])
            else:
                rad = 0.25 if (e.target, e.source) in pairs else 0.08
                a_box, b_box = (_text_box(ax, *xy[v], names[v], node_fs) for v in (e.source, e.target))
                ax.add_patch(FancyArrowPatch(xy[e.source], xy[e.target], connectionstyle=f"arc3,rad={rad}",
                                             arrowstyle="-|>", mutation_scale=8 + 2 * width, lw=width,
                                             color=colour, shrinkA=_to_edge(a_box, b_box),
                                             shrinkB=_to_edge(b_box, a_box) + 1, zorder=1))
                mid = _arc3_middle(ax, xy[e.source], xy[e.target], rad)
            text = f"{e.per_run:.2g}"
            for dx, dy in ((0, 0), (0, 9), (0, -9), (12, 0), (-12, 0), (0, 16), (0, -16)):
                sx, sy = inv.transform(mid + np.array([dx, dy]) / to_pt)
                box = _text_box(ax, sx, sy, text, 6)
                if not _hits(box, placed):
                    placed.append(box)
                    ax.text(sx, sy, text, fontsize=6, ha="center", va="center", color="#333333", zorder=3,
                            in_layout=False,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
                    break
        for r in g.nodes.itertuples():
            io = r.kind == "io"
            ax.text(r.x, r.y, names[r.node], fontsize=node_fs, ha="center", va="center", zorder=4, in_layout=False,
                    bbox={"boxstyle": "round,pad=0.3", "fc": "#eeeeee" if io else "#dde6f3",
                          "ec": "#888888" if io else "#4c72b0", "lw": 0.8})
    return fig


_SIMILARITY_LABELS = {"jaccard": "Jaccard (edge set)", "lcs": "LCS (edge order)"}


def similarity_within_figure(within: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                             by: str | Sequence[str] | None = None) -> Figure:
    """Figure 7: mean pairwise Jaccard and LCS similarity of call graphs within each group,
    one panel per architecture when there are many groups.

    ``within`` has one row per group: the group key column(s), ``jaccard_mean`` and
    ``lcs_mean`` (or ``jaccard``/``lcs``) and optionally ``n_runs``, as returned by
    ``callgraph.similarity_within``; groups of fewer than two runs score 0 (paper's
    convention) and are marked "n<2" (data: ``figure_data.similarity_within_data``)."""
    title = "Call-graph similarity within groups (fig. 7)"
    sim = is_simulated(runs)
    df = D.similarity_within_data(within, by)
    if df is None:
        return placeholder(title, "call-graph similarity (needs at least two runs per group)", sim)
    metrics = [m for m in _SIMILARITY_LABELS if m in df.columns]
    df = df.set_index("label")
    fig, grid = _panel_grid(list(df.index), 1)
    w = 0.8 / len(metrics)
    for p in grid:
        x = np.arange(len(p.labels))
        for i, m in enumerate(metrics):
            p.ax.bar(x + i * w - 0.4 + w / 2, df.loc[p.labels, m], w, label=_SIMILARITY_LABELS[m],
                     color=_PALETTE[i])
        p.ax.set_xticks(x, p.ticks, fontsize=_TICK_FS)
        p.ax.set_ylim(0, 1.05)
        if _ylabel_here(p):
            p.ax.set_ylabel("mean pairwise similarity (0-1)")
        if p.title:
            p.ax.set_title(p.title, fontsize=9)
    fig.legend(*grid[0].ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    return _finish(fig, title, sim)


def similarity_between_figure(between, runs: pd.DataFrame | None = None, metric: str = "LCS") -> Figure:
    """Figure 8: median pairwise similarity between groups (e.g. models), one heatmap per
    facet (architecture and tool setting: tools on and off are never pooled), in a grid.

    ``between`` is either a square DataFrame (one heatmap), a dict ``{facet: square
    DataFrame}``, or a long DataFrame with columns ``group_a``, ``group_b``, a value column
    (``lcs``/``jaccard``/``median``/``value``) and facet columns such as ``instance`` and
    ``tools_enabled`` (data: ``figure_data.similarity_between_data``)."""
    title = f"Call-graph {metric} similarity between model backends, median pairwise (fig. 8)"
    sim = is_simulated(runs)
    mats = D.similarity_between_data(between, metric)
    if not mats:
        return placeholder(title, "between-group similarity (needs two or more groups)", sim)
    n = max(len(m) for m in mats.values())
    cell = max(3.4, 0.75 * n + 1.9)
    cols = max(1, min(4, len(mats), int((MAX_WIDTH_IN - 1.2) // cell)))
    rows = math.ceil(len(mats) / cols)
    fig = _new((cols * cell + 1.2, rows * (cell - 0.2) + 0.8))
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(len(mats))]
    im = None
    for ax, (facet, m) in zip(axes, mats.items()):
        im = ax.imshow(m.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis")
        _heat_ticks(ax, m)
        for (i, j), v in np.ndenumerate(m.to_numpy(dtype=float)):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if v < 0.6 else "black")
        ax.set_title(str(facet).replace("\n", " / "), fontsize=9)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.8, label=f"median pairwise {metric} (0-1)")
    return _finish(fig, title, sim)


# --------------------------------------------------------------------------- cost, latency, accuracy

def latency_vs_cost(runs: pd.DataFrame, *, time_note: str | None = None) -> Figure:
    """Figure 9a: latency versus cost per run, coloured by architecture (instance) and
    marked by model (data: ``figure_data.latency_vs_cost_data``)."""
    title = "Latency vs cost per task, by architecture and backend (fig. 9a)"
    sim = is_simulated(runs)
    points = D.latency_vs_cost_data(runs)
    if points is None:
        return placeholder(title, "run durations and costs (a study without prices has no cost)", sim)
    note = _note(time_note, runs)
    fig = _new((9.5, 5))
    ax = fig.add_subplot()
    for (i, j), h in points.groupby(["instance_index", "backend_index"], sort=True):
        ax.scatter(h["cost_usd"], h["duration_s"], color=_PALETTE[i % len(_PALETTE)],
                   marker=_MARKERS[j % len(_MARKERS)], alpha=0.7, s=22, label=h["label"].iloc[0])
    ax.set_xlabel("cost per task (USD)")
    ax.set_ylabel(time_label("latency per task", note))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return _finish(fig, title, sim)


_ACCURACY_LABEL = "accuracy per repeat (share correct)"


def _cost_latency_accuracy(data: pd.DataFrame, latency: str) -> Figure:
    """Figures 9b and 10: per group, boxes of cost and latency per run and of accuracy per
    (cell, repeat); a panel without values says "no data"."""
    return _box_panels(data, [("cost_usd", "cost per task (USD)"), ("duration_s", latency),
                              ("accuracy", _ACCURACY_LABEL)])


def distributions(runs: pd.DataFrame, *, time_note: str | None = None) -> Figure:
    """Figure 9b: distributions of cost, latency and accuracy (per repeat, over tasks) per
    architecture (data: ``figure_data.cost_latency_accuracy_data``)."""
    title = "Cost, latency and accuracy by architecture (fig. 9b)"
    sim = is_simulated(runs)
    data = D.cost_latency_accuracy_data(runs, "instance")
    if data is None:
        return placeholder(title, "runs", sim)
    return _finish(_cost_latency_accuracy(data, time_label("latency per task", _note(time_note, runs))), title, sim)


def by_model(runs: pd.DataFrame, *, time_note: str | None = None) -> Figure:
    """Figure 10: cost, duration and accuracy per model (backend) (data:
    ``figure_data.cost_latency_accuracy_data``)."""
    title = "Cost, duration and accuracy by model backend (fig. 10)"
    sim = is_simulated(runs)
    data = D.cost_latency_accuracy_data(runs, "backend")
    if data is None:
        return placeholder(title, "runs", sim)
    return _finish(_cost_latency_accuracy(data, time_label("duration per task", _note(time_note, runs))), title, sim)


def tool_deltas(deltas: pd.DataFrame | None, runs: pd.DataFrame | None = None, *,
                time_note: str | None = None) -> Figure:
    """Figure 12a: paired deltas (tools on minus tools off, matched by task and repeat) of
    latency and cost per architecture and model; accuracy is figure 12b,
    :func:`tool_accuracy`.

    ``deltas`` has one row per matched pair with ``instance`` (and ``model`` or ``backend``)
    and delta columns ``delta_duration_s`` and ``delta_cost_usd`` (as
    ``cost.paired_tool_deltas`` returns them) (data: ``figure_data.tool_deltas_data``)."""
    title = "Effect of enabling tools on latency and cost: paired deltas, on minus off (fig. 12a)"
    sim = is_simulated(runs, deltas)
    if deltas is None or not len(deltas):
        return placeholder(title, "tools-on/off pairs (the study needs both tool settings)", sim)
    data = D.tool_deltas_data(deltas)
    if data is None:
        return placeholder(title, "latency or cost delta columns", sim)
    units = {"latency": time_label("latency change, on - off", _note(time_note, runs, deltas)),
             "cost": "cost change, on - off (USD)"}
    metrics = list(dict.fromkeys(data["metric"]))
    fig = _box_panels(data, [(m, units[m]) for m in metrics], side_by_side=False, zero_line=True)
    return _finish(fig, title, sim)


def tool_accuracy(deltas: pd.DataFrame | None, runs: pd.DataFrame | None = None, *, n: int = 2000,
                  seed: int = 0) -> Figure:
    """Figure 12b: accuracy with tools off and on per architecture and model as rates with
    95 % task-clustered bootstrap intervals, from the matched pairs both judged; the tick
    labels give the paired change in percentage points with its interval (data:
    ``figure_data.tool_accuracy_data``)."""
    title = "Effect of enabling tools on accuracy: matched pairs, 95% CI (fig. 12b)"
    sim = is_simulated(runs, deltas)
    data = D.tool_accuracy_data(deltas, n=n, seed=seed)
    if data is None:
        return placeholder(title, "judged tools-on/off pairs (the study needs both tool settings and a scorer)", sim)
    data = data.set_index("group")
    ticks = {g: f"{g}\nchange {r.delta * 100:+.0f} pp\n[{r.delta_low * 100:+.0f}, {r.delta_high * 100:+.0f}]"
             for g, r in data.iterrows()}
    fig, grid = _panel_grid([ticks[g] for g in data.index], 1, slot_min=0.8)
    back = {v: k for k, v in ticks.items()}
    for p in grid:
        rows = data.loc[[back[lab] for lab in p.labels]]
        x = np.arange(len(rows))
        for side, dx, colour, marker in (("off", -0.12, "#8c8c8c", "o"), ("on", 0.12, "#4c72b0", "s")):
            est = rows[side].to_numpy() * 100
            err = np.vstack([est - rows[f"{side}_low"].to_numpy() * 100,
                             rows[f"{side}_high"].to_numpy() * 100 - est]).clip(min=0)
            p.ax.errorbar(x + dx, est, yerr=err, fmt=marker, color=colour, ms=5, capsize=3, lw=1,
                          label=f"tools {side}")
        p.ax.set_xticks(x, p.ticks, fontsize=_TICK_FS)
        p.ax.set_xlim(-0.6, len(rows) - 0.4)
        p.ax.set_ylim(-5, 105)
        if _ylabel_here(p):
            p.ax.set_ylabel("accuracy (% of judged runs correct)")
        if p.title:
            p.ax.set_title(p.title, fontsize=9)
    fig.legend(*grid[0].ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    return _finish(fig, title, sim)


def _label_points(ax, x: np.ndarray, y: np.ndarray, texts: list[str], obstacles: np.ndarray | None = None,
                  fontsize: float = 6.5) -> None:
    """Annotate points (data coordinates), each label at the first of a few offsets around
    its point whose estimated box stays inside the axes and overlaps neither a label placed
    before it nor a marker (``obstacles``: (n, 2) data coordinates of every drawn point);
    failing that, the first offset inside and clear of other labels, then the first inside."""
    fig = ax.figure
    fig.draw_without_rendering()  # final layout and limits, so data map to the drawn points
    scale = 72 / fig.dpi

    def to_pt(xy):
        return ax.transData.transform(np.asarray(xy, dtype=float).reshape(-1, 2)) * scale

    r = 4.5  # half a marker, in points
    marks = [(px - r, py - r, px + r, py + r) for px, py in to_pt(obstacles)] if obstacles is not None else []
    placed: list[tuple[float, float, float, float]] = []
    d, far = 5, 14
    candidates = [(d, d, "left", "bottom"), (d, -d, "left", "top"), (-d, d, "right", "bottom"),
                  (-d, -d, "right", "top"), (0, far, "center", "bottom"), (0, -far, "center", "top"),
                  (d, far, "left", "bottom"), (-d, -far, "right", "top")]

    frame = ax.get_window_extent()
    ax0, ay0, ax1, ay1 = frame.x0 * scale, frame.y0 * scale, frame.x1 * scale, frame.y1 * scale

    def inside(box):  # a label poking out of the axes covers tick labels or the colour bar
        return ax0 <= box[0] and box[2] <= ax1 and ay0 <= box[1] and box[3] <= ay1

    def hits(box, boxes):
        return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes)

    for (x_, y_), (px, py), text in zip(zip(x, y), to_pt(np.column_stack([x, y])), texts):
        w, h = 0.6 * fontsize * len(text), 1.3 * fontsize
        boxes = []
        for dx, dy, ha, va in candidates:
            x0 = px + dx - {"left": 0, "center": w / 2, "right": w}[ha]
            y0 = py + dy - (h if va == "top" else 0)
            boxes.append((x0, y0, x0 + w, y0 + h))
        rules = (lambda bx: inside(bx) and not hits(bx, placed) and not hits(bx, marks),
                 lambda bx: inside(bx) and not hits(bx, placed), inside, lambda bx: True)
        pick = next(i for rule in rules for i, bx in enumerate(boxes) if rule(bx))
        placed.append(boxes[pick])
        dx, dy, ha, va = candidates[pick]
        ax.annotate(text, (x_, y_), xycoords="data", fontsize=fontsize, ha=ha, va=va, xytext=(dx, dy),
                    textcoords="offset points", gid="pareto-label", in_layout=False)


def pareto_figure(points: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                  bootstrap: pd.DataFrame | None = None) -> Figure:
    """Cost-accuracy Pareto frontier of configuration cells, with bootstrap uncertainty.

    ``points``: one row per cell with ``cost`` (or ``mean_cost_usd``/``cost_usd``),
    ``accuracy`` and optionally ``on_frontier``, ``label``, CI columns (``cost_usd_low``/
    ``cost_usd_high``, ``accuracy_low``/``accuracy_high``, as ``cost.pareto_bootstrap``
    returns) and ``frontier_freq`` (share of bootstrap draws on the frontier, drawn as
    colour). ``bootstrap`` (optional) supplies ``frontier_freq`` row for row instead
    (data: ``figure_data.pareto_data``).

    Readable with many cells: the marker shape gives the architecture (``instance``, in the
    legend) and only frontier points are labelled, each label placed clear of the others."""
    title = "Cost-accuracy Pareto frontier with bootstrap uncertainty"
    sim = is_simulated(runs, points)
    if points is None or not len(points):
        return placeholder(title, "configuration cells with judged runs", sim)
    data = D.pareto_data(points, bootstrap)
    if data is None:
        return placeholder(title, "cost and accuracy per cell (needs prices and judged runs)", sim)
    p, freq, shape_key = data.points, data.frontier_freq, data.shape_key
    fig = _new((8.5, 5.4))
    ax = fig.add_subplot()
    ax.errorbar(p["cost"], p["accuracy"], xerr=data.cost_err, yerr=data.accuracy_err, fmt="none", ecolor="#bbbbbb",
                lw=0.7, zorder=1)
    # ~24 cells make per-point labels unreadable: the marker shape tells the architecture
    # (legend), and only frontier points carry their full label
    colour: dict[str, Any] = dict(c=freq, cmap="viridis", vmin=0, vmax=1) if freq is not None \
        else dict(color="#4c72b0")
    sc = None
    handles = []
    for i, name in enumerate(sorted(p["shape"].unique())):
        m = (p["shape"] == name).to_numpy()
        kw = {k: (v[m] if k == "c" else v) for k, v in colour.items()}
        sc = ax.scatter(p.loc[m, "cost"], p.loc[m, "accuracy"], marker=_MARKERS[i % len(_MARKERS)], s=46, zorder=3,
                        edgecolors="#333333", linewidths=0.5, **kw)
        if shape_key:
            handles.append(Line2D([], [], ls="", marker=_MARKERS[i % len(_MARKERS)], color="#777777",
                                  markeredgecolor="#333333", label=name))
    if freq is not None and sc is not None:
        fig.colorbar(sc, ax=ax, label="on the frontier (share of bootstrap draws)")
    f = data.frontier
    if len(f):
        (line,) = ax.step(f["cost"], f["accuracy"], where="post", color="#c44e52", lw=1.5, label="Pareto frontier",
                          zorder=2)
        handles.insert(0, line)
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="lower right",
                  title="marker: " + shape_key if shape_key else None, title_fontsize=7)
    ax.set_xlabel("mean cost per task (USD)")
    ax.set_ylabel("accuracy (share of judged runs correct)")
    fig = _finish(fig, title, sim)
    if len(f):  # last: the placement needs the final layout
        _label_points(ax, f["cost"].to_numpy(float), f["accuracy"].to_numpy(float), list(f["label"]),
                      obstacles=p[["cost", "accuracy"]].to_numpy(float))
    return fig


# --------------------------------------------------------------------------- failures (fig 11)

def failure_breakdown_figure(breakdown: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                             by: str = "backend") -> Figure:
    """Figure 11a: failure categories per model backend (or another ``by``) as stacked
    percentage bars.

    ``breakdown``: a wide table (index = ``by`` values, columns = categories, counts or shares) or a
    long one with ``by``, ``category`` and ``count`` (or ``share``/``percent``) columns
    (data: ``figure_data.failure_breakdown_data``)."""
    title = f"Failure taxonomy by {by} (fig. 11a)"
    sim = is_simulated(runs, breakdown)
    data = D.failure_breakdown_data(breakdown, by)
    if data is None:
        return placeholder(title, "failed runs", sim)
    share = data.percent
    fig = _new((9, max(3.2, 0.6 * len(share) + 1.8)))
    ax = fig.add_subplot()
    left = np.zeros(len(share))
    for i, cat in enumerate(share.columns):
        ax.barh(range(len(share)), share[cat], left=left, label=category_label(cat),
                color=_PALETTE[i % len(_PALETTE)])
        left += share[cat].to_numpy()
    ax.set_yticks(range(len(share)),
                  [f"{i} (n={int(v) if float(v).is_integer() else v:g})" for i, v in data.n.items()], fontsize=8)
    ax.set_xlabel("share of the group's failures (%)")
    ax.set_xlim(0, 100)
    ax.legend(fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
    return _finish(fig, title, sim)


def judge_agreement_figure(kappa: pd.DataFrame | None, runs: pd.DataFrame | None = None) -> Figure:
    """Figure 11b: pairwise Cohen's kappa between failure judges as a heatmap.

    ``kappa``: a square judges x judges table, or a long one with ``judge_a``, ``judge_b``,
    ``kappa`` columns (data: ``figure_data.judge_agreement_data``)."""
    title = "Agreement between failure judges, Cohen's kappa (fig. 11b)"
    sim = is_simulated(runs)
    m = D.judge_agreement_data(kappa)
    if m is None:
        return placeholder(title, "judges (run the failure classifier with two or more judges)", sim)
    if m.shape[0] < 2:
        return placeholder(title, "two or more judges", sim)
    fig = _new((max(5.5, 1.2 * len(m) + 3.5), max(4.0, 1.0 * len(m) + 2.5)))
    ax = fig.add_subplot()
    im = ax.imshow(m.to_numpy(dtype=float), vmin=-1, vmax=1, cmap="RdBu")
    _heat_ticks(ax, m, fontsize=8)
    for (i, j), v in np.ndenumerate(m.to_numpy(dtype=float)):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label="Cohen's kappa (-1 to 1)")
    return _finish(fig, title, sim)
