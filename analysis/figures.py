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

Two conventions hold for all of them:

* **SIMULATED label.** When any run behind a figure used a simulated backend (the runs'
  ``simulated`` column), the title says so (:func:`figure_title`).
* **Graceful degradation.** A study that lacks what a figure needs (one instance, no
  tools-off runs, no judges, no resource samples, ...) yields a placeholder figure that
  says "no data for ..." instead of raising (:func:`placeholder`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

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
    token_curves,
)

__all__ = [
    "SIMULATED_LABEL",
    "is_simulated",
    "figure_title",
    "placeholder",
    "CONFIG_KEYS",
    "key_label",
    "present_keys",
    "run_label",
    "pick_run",
    "delay_breakdown",
    "resources_by_instance",
    "resources_by_architecture",
    "message_volume",
    "message_sizes",
    "tokens_over_time",
    "TokenCurves",
    "token_curves",
    "tokens_over_time_by_group",
    "delay_breakdown_figure",
    "flame_graph",
    "resource_timeseries",
    "similarity_within_figure",
    "similarity_between_figure",
    "latency_vs_cost",
    "distributions",
    "by_model",
    "tool_deltas",
    "pareto_figure",
    "category_label",
    "failure_breakdown_figure",
    "judge_agreement_figure",
]

_PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c",
            "#ccb974", "#64b5cd"]
_SPAN_COLOURS = {"run": "#8c8c8c", "agent": "#4c72b0", "llm": "#dd8452", "tool": "#55a868",
                 "message": "#c44e52", "other": "#ccb974"}
_MARKERS = "osD^vP*Xph"


# --------------------------------------------------------------------------- helpers

def _new(figsize=(9, 4.5)) -> Figure:
    return Figure(figsize=figsize, layout="constrained")


def _finish(fig: Figure, title: str, simulated: bool) -> Figure:
    # wrapped to the figure's width so narrow figures (heatmaps) do not clip their titles
    width = max(30, int(fig.get_figwidth() * 11))
    fig.suptitle(textwrap.fill(figure_title(title, simulated), width=width), fontsize=11)
    return fig


def placeholder(title: str, missing: str, simulated: bool = False) -> Figure:
    """A small figure that says what is missing (used instead of raising)."""
    fig = _new((7, 2.6))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, f"no data for {missing}", ha="center", va="center", fontsize=12, color="#555555",
            transform=ax.transAxes)
    fig.placeholder = True  # lets the report and tests tell a placeholder from a real plot
    return _finish(fig, title, simulated)


def _boxes(ax, groups: list[tuple[str, pd.Series]], ylabel: str) -> bool:
    data = [(label, s.dropna().astype(float)) for label, s in groups]
    data = [(label, s) for label, s in data if len(s)]
    if not data:
        ax.axis("off")
        ax.text(0.5, 0.5, f"no data for {ylabel}", ha="center", va="center", transform=ax.transAxes)
        return False
    box = ax.boxplot([s.to_numpy() for _, s in data], tick_labels=[label for label, _ in data])
    for line in box["medians"]:
        line.set_gid("median")  # lets tests and callers find the drawn medians
    for i, (_, s) in enumerate(data, start=1):  # the points too: studies are often small
        jitter = np.linspace(-0.12, 0.12, len(s)) if len(s) > 1 else np.zeros(1)
        ax.scatter(i + jitter, s.to_numpy(), s=8, alpha=0.5, color="#4c72b0", zorder=3)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelsize=7)
    return True


def _panel(data: pd.DataFrame, metric: str) -> list[tuple[str, pd.Series]]:
    """One metric's boxes of a long box frame (``figure_data.BOX_COLUMNS``), in its order."""
    rows = data[data["metric"] == metric]
    return [(label, g["value"]) for label, g in rows.groupby("group", sort=False)]


def _n_groups(data: pd.DataFrame) -> int:
    return data["group"].nunique()


def _box_panels(data: pd.DataFrame, figsize: tuple[float, float], shape: tuple[int, int],
                panels: Sequence[tuple[str, str]]) -> Figure:
    """Box panels of a long box frame, one per ``(metric, y label)``, laid out in ``shape``
    ((1, n) side by side, (n, 1) stacked)."""
    fig = _new(figsize)
    for ax, (metric, ylabel) in zip(np.atleast_1d(fig.subplots(*shape)).ravel(), panels):
        _boxes(ax, _panel(data, metric), ylabel)
    return fig


# --------------------------------------------------------------------------- resources (fig 4, 5, 6)

def resources_by_instance(runs: pd.DataFrame) -> Figure:
    """Figure 4: per-run mean CPU and peak memory, one box per MAS instance (framework noted)
    (data: ``figure_data.resources_data``)."""
    title = "CPU and memory per run, by MAS instance (fig. 4)"
    sim = is_simulated(runs)
    data = D.resources_data(runs, ["instance", "framework"])
    if data is None:
        return placeholder(title, "resource samples (cpu_mean / peak memory)", sim)
    fig = _box_panels(data, (max(7, 1.6 * _n_groups(data) + 3), 4.2), (1, 2),
                      [("cpu_mean", "mean CPU % per run (100 = one core)"),
                       ("rss_peak_mb", "peak resident memory per run (MB)")])
    return _finish(fig, title, sim)


def resources_by_architecture(runs: pd.DataFrame) -> Figure:
    """Figure 6: mean CPU and peak memory per architecture, split by model and tool setting
    (data: ``figure_data.resources_data``)."""
    title = "CPU and memory by architecture, model and tools (fig. 6)"
    sim = is_simulated(runs)
    data = D.resources_data(runs, CONFIG_KEYS)
    if data is None:
        return placeholder(title, "resource samples (cpu_mean / peak memory)", sim)
    fig = _box_panels(data, (max(8, 1.3 * _n_groups(data) + 3), 7), (2, 1),
                      [("cpu_mean", "mean CPU % per run"), ("rss_peak_mb", "peak memory per run (MB)")])
    return _finish(fig, title, sim)


def message_volume(runs: pd.DataFrame) -> Figure:
    """Figure 5: communication volume per run (model HTTP bodies + agent-to-agent messages)
    by architecture, model and tool setting (data: ``figure_data.message_volume_data``)."""
    title = "Communication volume per run (fig. 5)"
    sim = is_simulated(runs)
    data = D.message_volume_data(runs)
    if data is None:
        return placeholder(title, "message byte counts", sim)
    fig = _box_panels(data, (max(8, 1.3 * _n_groups(data) + 3), 7), (2, 1),
                      [("total_kib", "total bytes per run (KiB)"), ("a2a_kib", "agent-to-agent bytes per run (KiB)")])
    return _finish(fig, title, sim)


def message_sizes(spans: pd.DataFrame, runs: pd.DataFrame | None = None) -> Figure:
    """Appendix A.1 message sizes: per agent (agent-to-agent in/out and model request/
    response, mean per run), per agent pair (heatmap of mean bytes per run) and per
    agent-to-model pair (mean bytes per call) (data: ``figure_data.message_sizes_data``)."""
    title = "Message sizes: per agent, per agent pair, agent to model"
    sim = is_simulated(runs, spans)
    data = D.message_sizes_data(spans)
    if data is None:
        return placeholder(title, "message or LLM spans", sim)
    fig = _new((15, 5))
    a, b, c = fig.subplots(1, 3, width_ratios=[1.2, 1, 1.2])

    per_agent = data.per_agent
    if len(per_agent):
        x = np.arange(len(per_agent))
        w = 0.8 / len(per_agent.columns)
        for i, col in enumerate(per_agent.columns):
            a.bar(x + i * w - 0.4 + w / 2, per_agent[col], w, label=col, color=_PALETTE[i])
        a.set_xticks(x, per_agent.index, rotation=30, ha="right", fontsize=7)
        a.set_ylabel("KiB per run (mean)")
        a.legend(fontsize=7)
    a.set_title("per agent", fontsize=9)

    pair = data.pairs
    if len(pair):
        im = b.imshow(pair.to_numpy(), cmap="viridis", aspect="auto")
        b.set_xticks(range(len(pair.columns)), pair.columns, rotation=45, ha="right", fontsize=7)
        b.set_yticks(range(len(pair.index)), pair.index, fontsize=7)
        b.set_xlabel("target agent")
        b.set_ylabel("source agent")
        fig.colorbar(im, ax=b, label="bytes per run (mean)")
    else:
        b.axis("off")
        b.text(0.5, 0.5, "no data for agent-to-agent messages", ha="center", transform=b.transAxes)
    b.set_title("per agent pair (agent-to-agent)", fontsize=9)

    am = data.agent_model
    if len(am):
        y = np.arange(len(am))
        c.barh(y - 0.2, am["input_bytes"], 0.4, label="request", color=_PALETTE[2])
        c.barh(y + 0.2, am["output_bytes"], 0.4, label="response", color=_PALETTE[3])
        c.set_yticks(y, list(am.index), fontsize=7)
        c.set_xlabel("bytes per call (mean)")
        c.legend(fontsize=7)
    else:
        c.axis("off")
        c.text(0.5, 0.5, "no data for LLM calls", ha="center", transform=c.transAxes)
    c.set_title("agent to model (HTTP body bytes)", fontsize=9)
    return _finish(fig, title, sim)


# --------------------------------------------------------------------------- one run (A.1)

def tokens_over_time(spans: pd.DataFrame, runs: pd.DataFrame | None = None, run_id: str | None = None) -> Figure:
    """Appendix A.1 token consumption: cumulative prompt and completion tokens of each agent
    over one run's time, plus the run total (data: ``figure_data.tokens_over_time_data``)."""
    data = D.tokens_over_time_data(spans, runs, run_id)
    title = f"Tokens over time per agent, run {data.run_id}"
    sim = is_simulated(runs, spans)
    calls = data.calls
    if not len(calls):
        return placeholder(title, "LLM spans with tokens", sim)
    fig = _new((10, 4.5))
    a, b = fig.subplots(1, 2, sharex=True)
    for i, (agent, g) in enumerate(calls.groupby("agent", sort=True)):
        colour = _PALETTE[i % len(_PALETTE)]
        a.step(g["t_s"], g["prompt_cum"], where="post", color=colour, label=f"{agent} prompt")
        a.step(g["t_s"], g["completion_cum"], where="post", color=colour, ls="--", label=f"{agent} completion")
    a.set_ylabel("cumulative tokens")
    a.set_xlabel("seconds since run start")
    a.legend(fontsize=6, ncol=2)
    a.set_title("per agent (solid: prompt, dashed: completion)", fontsize=9)
    b.step(calls["t_s"], calls["total_cum"], where="post", color="#333333")
    b.set_xlabel("seconds since run start")
    b.set_title("all agents", fontsize=9)
    return _finish(fig, title, sim)


def tokens_over_time_by_group(llm_calls: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                              by: str | Sequence[str] = ("instance",)) -> Figure:
    """Appendix A.1 average total tokens over time: per group of runs (default: per
    architecture), the mean cumulative tokens against seconds since run start, with the
    interquartile range across runs as a band (data: :func:`token_curves`)."""
    by_t = [by] if isinstance(by, str) else list(by)
    title = f"Average cumulative tokens over time, by {' / '.join(by_t) or 'study'} (band: interquartile range)"
    sim = is_simulated(runs, llm_calls)
    curves = token_curves(llm_calls, runs, by_t)
    if curves is None:
        return placeholder(title, "LLM spans with end times and tokens", sim)
    fig = _new((9, 4.8))
    ax = fig.add_subplot()
    for i, label in enumerate(curves.labels):
        colour = _PALETTE[i % len(_PALETTE)]
        ax.fill_between(curves.grid_s, curves.q25[i], curves.q75[i], color=colour, alpha=0.18, lw=0)
        ax.plot(curves.grid_s, curves.mean[i], color=colour, lw=1.6, label=f"{label} (n={curves.n_runs[i]})")
    ax.set_xlabel("seconds since run start")
    ax.set_ylabel("cumulative tokens (mean over runs)")
    ax.set_xlim(0, curves.grid_s[-1])
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=2 if len(curves.labels) > 8 else 1, loc="upper left")
    return _finish(fig, title, sim)


_DELAY_LABELS = {"agent_s": "agent compute", "model_s": "model calls", "tool_s": "tool calls (not in a model call)",
                 "handover_s": "hand-over (in no agent, model or tool span)"}


def delay_breakdown_figure(spans: pd.DataFrame, runs: pd.DataFrame | None = None) -> Figure:
    """Appendix A.1 delay: the mean run root span time per configuration cell split into
    agent compute, model calls, tool calls and hand-over (data:
    ``figure_data.delay_breakdown_data``, per run :func:`delay_breakdown`)."""
    title = "Delay breakdown per configuration (mean per run)"
    sim = is_simulated(runs, spans)
    means = D.delay_breakdown_data(spans, runs)
    if not len(means):
        return placeholder(title, "spans with timings", sim)
    fig = _new((max(7, 1.3 * len(means) + 3), 4.5))
    ax = fig.add_subplot()
    bottom = np.zeros(len(means))
    for i, (col, label) in enumerate(_DELAY_LABELS.items()):
        ax.bar(range(len(means)), means[col], bottom=bottom, label=label, color=_PALETTE[i])
        bottom += means[col].to_numpy()
    ax.set_xticks(range(len(means)), means.index, fontsize=7)
    ax.set_ylabel("seconds per run (mean)")
    ax.legend(fontsize=8)
    return _finish(fig, title, sim)


def flame_graph(spans: pd.DataFrame, runs: pd.DataFrame | None = None, run_id: str | None = None) -> Figure:
    """Flame graph (icicle layout) of one run's span tree: x is time since the run started,
    rows are tree depth, colour is span type; zero-length messages are drawn as ticks
    (data: ``figure_data.flame_graph_data``)."""
    data = D.flame_graph_data(spans, runs, run_id)
    title = f"Flame graph of run {data.run_id}"
    sim = is_simulated(runs, spans)
    s, total = data.spans, data.total_s
    if not len(s):
        return placeholder(title, f"spans of run {data.run_id}", sim)
    depth_max = data.max_depth
    fig = _new((12, 1.0 + 0.55 * (depth_max + 2)))
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
    ax.set_ylabel("depth")
    ax.set_xlabel("seconds since run start")
    handles = [Patch(color=c, label=k) for k, c in _SPAN_COLOURS.items() if k in set(s["span_type"])]
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    return _finish(fig, title, sim)


def resource_timeseries(resources: pd.DataFrame, spans: pd.DataFrame | None = None,
                        runs: pd.DataFrame | None = None, run_id: str | None = None) -> Figure:
    """Appendix A.1 CPU and memory of one run over time, with LLM calls (orange) and tool
    calls (green) shaded, and the mean CPU inside vs outside LLM calls in the legend
    (data: ``figure_data.resource_timeseries_data``)."""
    data = D.resource_timeseries_data(resources, spans, runs, run_id)
    title = f"CPU and memory over time, run {data.run_id}"
    sim = is_simulated(runs, spans)
    r = data.samples
    if not len(r):
        return placeholder(title, f"resource samples of run {data.run_id}", sim)
    fig = _new((10, 5.5))
    a, b = fig.subplots(2, 1, sharex=True)
    a.plot(r["t_s"], r["cpu_percent"], marker="o", ms=3, color="#4c72b0", label="CPU %")
    b.plot(r["t_s"], r["rss_mb"], marker="o", ms=3, color="#8172b3", label="RSS (MB)")
    for kind in ("llm", "tool"):
        for i, sp in enumerate(data.calls[data.calls["kind"] == kind].itertuples()):
            for ax in (a, b):
                ax.axvspan(sp.start_s, sp.end_s, color=_SPAN_COLOURS[kind], alpha=0.2, lw=0,
                           label=f"{kind} call" if i == 0 and ax is a else None)
    if not np.isnan(data.cpu_in_llm):
        a.plot([], [], " ", label=f"mean CPU in LLM calls {data.cpu_in_llm:.0f}%, outside {data.cpu_outside:.0f}%")
    a.set_ylabel("CPU % (100 = one core)")
    b.set_ylabel("resident memory (MB)")
    b.set_xlabel("seconds since run start")
    a.legend(fontsize=7, loc="upper right")
    return _finish(fig, title, sim)


# --------------------------------------------------------------------------- similarity (fig 7, 8)

_SIMILARITY_LABELS = {"jaccard": "Jaccard (edge set)", "lcs": "LCS (edge order)"}


def similarity_within_figure(within: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                             by: str | Sequence[str] | None = None) -> Figure:
    """Figure 7: mean pairwise Jaccard and LCS similarity of call graphs within each group.

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
    fig = _new((max(7, 1.0 * len(df) + 3), 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(df))
    w = 0.8 / len(metrics)
    for i, m in enumerate(metrics):
        ax.bar(x + i * w - 0.4 + w / 2, df[m], w, label=_SIMILARITY_LABELS[m], color=_PALETTE[i])
    ax.set_xticks(x, list(df["label"]), fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("mean pairwise similarity")
    ax.legend(fontsize=8)
    return _finish(fig, title, sim)


def similarity_between_figure(between, runs: pd.DataFrame | None = None, metric: str = "LCS") -> Figure:
    """Figure 8: median pairwise similarity between groups (e.g. models), one heatmap per
    facet (e.g. architecture).

    ``between`` is either a square DataFrame (one heatmap), a dict ``{facet: square
    DataFrame}``, or a long DataFrame with columns ``group_a``, ``group_b``, a value column
    (``lcs``/``jaccard``/``median``/``value``) and optionally ``facet`` (data:
    ``figure_data.similarity_between_data``)."""
    title = f"Call-graph {metric} similarity between groups, median pairwise (fig. 8)"
    sim = is_simulated(runs)
    mats = D.similarity_between_data(between, metric)
    if not mats:
        return placeholder(title, "between-group similarity (needs two or more groups)", sim)
    fig = _new((4.6 * len(mats) + 1, 4.4))
    axes = np.atleast_1d(fig.subplots(1, len(mats)))
    im = None
    for ax, (facet, m) in zip(axes, mats.items()):
        im = ax.imshow(m.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(m.columns)), [str(c) for c in m.columns], rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(m.index)), [str(i) for i in m.index], fontsize=7)
        for (i, j), v in np.ndenumerate(m.to_numpy(dtype=float)):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if v < 0.6 else "black")
        ax.set_title(str(facet), fontsize=9)
    fig.colorbar(im, ax=list(axes), shrink=0.8, label=f"median pairwise {metric}")
    return _finish(fig, title, sim)


# --------------------------------------------------------------------------- cost, latency, accuracy

def latency_vs_cost(runs: pd.DataFrame) -> Figure:
    """Figure 9a: latency versus cost per run, coloured by architecture (instance) and
    marked by model (data: ``figure_data.latency_vs_cost_data``)."""
    title = "Latency vs cost per task, by architecture and backend (fig. 9a)"
    sim = is_simulated(runs)
    points = D.latency_vs_cost_data(runs)
    if points is None:
        return placeholder(title, "run durations and costs (a study without prices has no cost)", sim)
    fig = _new((8, 5))
    ax = fig.add_subplot()
    for (i, j), h in points.groupby(["instance_index", "backend_index"], sort=True):
        ax.scatter(h["cost_usd"], h["duration_s"], color=_PALETTE[i % len(_PALETTE)],
                   marker=_MARKERS[j % len(_MARKERS)], alpha=0.7, s=22, label=h["label"].iloc[0])
    ax.set_xlabel("cost per task (USD)")
    ax.set_ylabel("latency per task (s)")
    ax.legend(fontsize=7)
    return _finish(fig, title, sim)


def _cost_latency_accuracy(data: pd.DataFrame, latency: str) -> Figure:
    """Figures 9b and 10: per group, boxes of cost and latency per run and of accuracy per
    (cell, repeat); a panel without values says "no data for ..."."""
    return _box_panels(data, (max(10, 2.5 * _n_groups(data) + 6), 4.2), (1, 3),
                       [("cost_usd", "cost per task (USD)"), ("duration_s", latency),
                        ("accuracy", "accuracy per repeat (judged runs)")])


def distributions(runs: pd.DataFrame) -> Figure:
    """Figure 9b: distributions of cost, latency and accuracy (per repeat, over tasks) per
    architecture (data: ``figure_data.cost_latency_accuracy_data``)."""
    title = "Cost, latency and accuracy by architecture (fig. 9b)"
    sim = is_simulated(runs)
    data = D.cost_latency_accuracy_data(runs, "instance")
    if data is None:
        return placeholder(title, "runs", sim)
    return _finish(_cost_latency_accuracy(data, "latency per task (s)"), title, sim)


def by_model(runs: pd.DataFrame) -> Figure:
    """Figure 10: cost, duration and accuracy per model (backend) (data:
    ``figure_data.cost_latency_accuracy_data``)."""
    title = "Cost, duration and accuracy by model backend (fig. 10)"
    sim = is_simulated(runs)
    data = D.cost_latency_accuracy_data(runs, "backend")
    if data is None:
        return placeholder(title, "runs", sim)
    return _finish(_cost_latency_accuracy(data, "duration per task (s)"), title, sim)


_DELTA_UNITS = {"latency": "latency delta (s)", "cost": "cost delta (USD)", "accuracy": "accuracy delta"}


def tool_deltas(deltas: pd.DataFrame | None, runs: pd.DataFrame | None = None) -> Figure:
    """Figure 12: paired deltas (tools on minus tools off, matched by task and seed) of
    latency, cost and accuracy per architecture and model.

    ``deltas`` has one row per matched pair with ``instance`` (and ``model`` or ``backend``)
    and delta columns ``delta_duration_s``, ``delta_cost_usd``, ``delta_correct`` (as
    ``cost.paired_tool_deltas`` returns them) (data: ``figure_data.tool_deltas_data``)."""
    title = "Effect of enabling tools: paired deltas, on minus off (fig. 12)"
    sim = is_simulated(runs, deltas)
    if deltas is None or not len(deltas):
        return placeholder(title, "tools-on/off pairs (the study needs both tool settings)", sim)
    data = D.tool_deltas_data(deltas)
    if data is None:
        return placeholder(title, "delta columns", sim)
    metrics = list(dict.fromkeys(data["metric"]))
    # one metric per row: side by side, 12 cells x 3 metrics made a 68-inch-wide image
    fig = _box_panels(data, (max(10, 1.3 * _n_groups(data) + 3), 3.4 * len(metrics)), (len(metrics), 1),
                      [(m, _DELTA_UNITS[m]) for m in metrics])
    for ax in fig.axes:
        ax.axhline(0, color="#999999", lw=0.8, ls="--")
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
    fig = _new((8, 5.2))
    ax = fig.add_subplot()
    ax.errorbar(p["cost"], p["accuracy"], xerr=data.cost_err, yerr=data.accuracy_err, fmt="none", ecolor="#bbbbbb",
                lw=0.7, zorder=1)
    # ~24 cells make per-point labels unreadable: the marker shape tells the architecture
    # (legend), and only frontier points carry their full label
    colour = dict(c=freq, cmap="viridis", vmin=0, vmax=1) if freq is not None else dict(color="#4c72b0")
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
        fig.colorbar(sc, ax=ax, label="bootstrap frequency on the frontier")
    f = data.frontier
    if len(f):
        (line,) = ax.step(f["cost"], f["accuracy"], where="post", color="#c44e52", lw=1.5, label="Pareto frontier",
                          zorder=2)
        handles.insert(0, line)
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="lower right",
                  title="marker: " + shape_key if shape_key else None, title_fontsize=7)
    ax.set_xlabel("mean cost per task (USD)")
    ax.set_ylabel("accuracy")
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
    fig = _new((max(7, 1.2 * len(share) + 4), 4.5))
    ax = fig.add_subplot()
    left = np.zeros(len(share))
    for i, cat in enumerate(share.columns):
        ax.barh(range(len(share)), share[cat], left=left, label=category_label(cat),
                color=_PALETTE[i % len(_PALETTE)])
        left += share[cat].to_numpy()
    ax.set_yticks(range(len(share)),
                  [f"{i} (n={int(v) if float(v).is_integer() else v:g})" for i, v in data.n.items()], fontsize=8)
    ax.set_xlabel("% of failures")
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
    fig = _new((1.2 * len(m) + 3.5, 1.0 * len(m) + 2.5))
    ax = fig.add_subplot()
    im = ax.imshow(m.to_numpy(dtype=float), vmin=-1, vmax=1, cmap="RdBu")
    ax.set_xticks(range(len(m.columns)), [str(c) for c in m.columns], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(m.index)), [str(i) for i in m.index], fontsize=8)
    for (i, j), v in np.ndenumerate(m.to_numpy(dtype=float)):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label="Cohen's kappa")
    return _finish(fig, title, sim)
