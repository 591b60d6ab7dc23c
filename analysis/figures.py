"""Figure functions for the paper's figures 4 to 12 and appendix A.1.

Every function takes DataFrames (the tables of ``maestro.analysis.frames`` or the results
of the analysis core) and returns a :class:`matplotlib.figure.Figure`. Figures are built
with the object API on the Agg canvas: nothing is shown and no pyplot state is kept, so
they are safe in scripts, tests and notebooks (Jupyter displays a returned Figure).

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
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from maestro.analysis.columns import is_missing, key_label
from maestro.analysis.failures import FailureCategory

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

SIMULATED_LABEL = "SIMULATED backend"
"""Suffix of every title whose data came (at least partly) from maestro's simulated service."""

_MB = 1_000_000  # MB as in the frames' rss_*_mb columns (1e6 bytes)
_PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c",
            "#ccb974", "#64b5cd"]
_SPAN_COLOURS = {"run": "#8c8c8c", "agent": "#4c72b0", "llm": "#dd8452", "tool": "#55a868",
                 "message": "#c44e52", "other": "#ccb974"}


# --------------------------------------------------------------------------- helpers

def is_simulated(*frames: pd.DataFrame | None) -> bool:
    """True when any frame has a ``simulated`` column with a true value."""
    for df in frames:
        if df is not None and "simulated" in getattr(df, "columns", ()) and len(df):
            if df["simulated"].fillna(False).astype(bool).any():
                return True
    return False


def figure_title(title: str, simulated: bool) -> str:
    """The title with the SIMULATED label appended when the data is simulated."""
    return f"{title} [{SIMULATED_LABEL}]" if simulated else title


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


def _empty(df: pd.DataFrame | None, *columns: str) -> bool:
    return df is None or len(df) == 0 or any(c not in df.columns for c in columns)


CONFIG_KEYS = ("instance", "backend", "tools_enabled")
"""The configuration cell of a run: figures split runs by these (the backend, not the model
name: a run of your own MAS may report no model, and two backends may share one)."""


def present_keys(df: pd.DataFrame | None, keys: Sequence[str]) -> list[str]:
    """The ``keys`` that are columns of ``df`` with a value on at least one row: a dimension
    the study lacks (tools unknown, no model, ...) is left out of a split."""
    if df is None:
        return []
    return [k for k in keys if k in df.columns and not df[k].map(is_missing).all()]


def run_label(row: pd.Series | dict) -> str:
    """Short label of a run's configuration cell: instance / backend / tools (tools left out
    when unknown)."""
    keys = [k for k in CONFIG_KEYS if k != "tools_enabled" or not is_missing(row.get(k))]
    return "\n".join(key_label(k, row.get(k)) for k in keys)


def _cells(runs: pd.DataFrame, keys: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """Groups of runs by ``keys`` (those with values only, :func:`present_keys`), labelled
    one key per line; missing values form their own group (:func:`key_label`)."""
    keys = present_keys(runs, keys)
    if not keys:
        return [("all runs", runs)]
    labels = ["\n".join(key_label(k, v) for k, v in zip(keys, row)) for row in runs[keys].itertuples(index=False)]
    return [(label, group) for label, group in runs.groupby(pd.Series(labels, index=runs.index), sort=True)]


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


def _call_model(llm: pd.DataFrame) -> pd.Series:
    """The model of each LLM call: the response model, else the requested one (missing when
    neither was recorded)."""
    out = pd.Series(None, index=llm.index, dtype=object)
    for col in ("request_model", "model", "response_model"):  # last wins
        if col in llm.columns:
            out = llm[col].astype(object).where(~llm[col].map(is_missing), out)
    return out


def _rss_mb(runs: pd.DataFrame) -> pd.Series | None:
    """Peak resident memory in MB from either the frames column or the raw runs column."""
    if "rss_peak_mb" in runs.columns:
        return runs["rss_peak_mb"].astype(float)
    if "rss_peak_bytes" in runs.columns:
        return runs["rss_peak_bytes"].astype(float) / _MB
    return None


def _accuracy(runs: pd.DataFrame) -> pd.Series:
    """Per-run correctness as 1.0/0.0; NaN when the run was not judged correct or wrong."""
    if "judgement" not in runs.columns:
        return pd.Series(np.nan, index=runs.index)
    j = runs["judgement"]
    return j.map({"correct": 1.0, "wrong": 0.0}).astype(float)


def pick_run(runs: pd.DataFrame, run_id: str | None = None) -> str | None:
    """The run a single-run figure shows: ``run_id`` if given, else the run of median
    duration among the study's successful runs (a typical run, not an outlier)."""
    if run_id is not None:
        return run_id
    if _empty(runs, "run_id"):
        return None
    pool = runs
    if "status" in runs.columns and (runs["status"] == "success").any():
        pool = runs[runs["status"] == "success"]
    if "duration_s" in pool.columns and pool["duration_s"].notna().any():
        pool = pool.sort_values(["duration_s", "run_id"])
    return str(pool["run_id"].iloc[len(pool) // 2])


def _union_ns(starts: np.ndarray, ends: np.ndarray) -> int:
    """Total length of the union of [start, end) intervals (parallel spans counted once)."""
    if len(starts) == 0:
        return 0
    order = np.argsort(starts, kind="stable")
    total, cur_s, cur_e = 0, int(starts[order[0]]), int(ends[order[0]])
    for i in order[1:]:
        s, e = int(starts[i]), int(ends[i])
        if s > cur_e:
            total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    return total + cur_e - cur_s


# --------------------------------------------------------------------------- data helpers

def delay_breakdown(spans: pd.DataFrame) -> pd.DataFrame:
    """Per run (keyed by ``study_id`` and ``run_id`` when the spans carry a study id): the
    run root span's time split into four parts that add up to it (seconds), appendix A.1
    "Delay". With L, T and A the unions of the run's LLM, tool and agent span intervals,
    all clipped to the root span R (time counted once however many spans overlap):

    * ``model_s`` = |L|: waiting for models;
    * ``tool_s`` = |T \\ L|: in tool calls and not in a model call;
    * ``agent_s`` = |A \\ (L ∪ T)|: agent compute, inside an agent span but in no model or
      tool call;
    * ``handover_s`` = |R \\ (A ∪ L ∪ T)|: hand-over, inside the run but in no agent, model
      or tool span (the framework routing and passing state between agents);
    * ``e2e_s`` = |R|, the root span's duration (without a root span: first start to last end).
    """
    keys = ["study_id", "run_id"] if not _empty(spans, "study_id") else ["run_id"]
    cols = [*keys, "e2e_s", "agent_s", "model_s", "tool_s", "handover_s"]
    if _empty(spans, "run_id", "span_type", "start_time_ns", "end_time_ns"):
        return pd.DataFrame(columns=cols)
    rows = []
    # plain numpy arrays sliced by each run's row positions: per-run boolean indexing of the
    # frame cost milliseconds per run (about 10 s on a 1,440-run study)
    types = spans["span_type"].astype(object).to_numpy()
    starts = pd.to_numeric(spans["start_time_ns"]).to_numpy(dtype=np.int64)
    ends = pd.to_numeric(spans["end_time_ns"]).to_numpy(dtype=np.int64)
    for key, idx in sorted(spans.groupby(keys, sort=True).indices.items()):
        key = key if isinstance(key, tuple) else (key,)
        t, st, en = types[idx], starts[idx], ends[idx]
        root = t == "run"
        r0, r1 = (st[root].min(), en[root].max()) if root.any() else (st.min(), en.max())
        st, en = np.clip(st, r0, r1), np.clip(en, r0, r1)

        def union(*kinds):
            k = np.isin(t, kinds)
            return _union_ns(st[k], en[k]) / 1e9

        model, model_tool, busy = union("llm"), union("llm", "tool"), union("llm", "tool", "agent")
        e2e = (r1 - r0) / 1e9
        rows.append({**dict(zip(keys, key)), "e2e_s": e2e, "model_s": model, "tool_s": model_tool - model,
                     "agent_s": busy - model_tool, "handover_s": e2e - busy})
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- resources (fig 4, 5, 6)

def _box_pair(groups: list[tuple[str, pd.DataFrame]], figsize: tuple[float, float], shape: tuple[int, int],
              first: tuple[str, str], second: tuple[str, str]) -> Figure:
    """Two box panels over the same groups, side by side (``shape`` (1, 2)) or stacked
    ((2, 1)); ``first`` and ``second`` are each panel's (column, y label)."""
    fig = _new(figsize)
    for ax, (column, ylabel) in zip(fig.subplots(*shape), (first, second)):
        _boxes(ax, [(k, g[column]) for k, g in groups], ylabel)
    return fig


def _resource_runs(runs: pd.DataFrame) -> pd.DataFrame | None:
    """``runs`` with a ``_rss`` column (peak memory, MB), or None without resource samples."""
    if _empty(runs, "instance", "cpu_mean") or _rss_mb(runs) is None or runs["cpu_mean"].notna().sum() == 0:
        return None
    return runs.assign(_rss=_rss_mb(runs))


def resources_by_instance(runs: pd.DataFrame) -> Figure:
    """Figure 4: per-run mean CPU and peak memory, one box per MAS instance (framework noted)."""
    title = "CPU and memory per run, by MAS instance (fig. 4)"
    sim = is_simulated(runs)
    runs = _resource_runs(runs)
    if runs is None:
        return placeholder(title, "resource samples (cpu_mean / peak memory)", sim)
    groups = _cells(runs, ["instance", "framework"])
    fig = _box_pair(groups, (max(7, 1.6 * len(groups) + 3), 4.2), (1, 2),
                    ("cpu_mean", "mean CPU % per run (100 = one core)"), ("_rss", "peak resident memory per run (MB)"))
    return _finish(fig, title, sim)


def resources_by_architecture(runs: pd.DataFrame) -> Figure:
    """Figure 6: mean CPU and peak memory per architecture, split by model and tool setting."""
    title = "CPU and memory by architecture, model and tools (fig. 6)"
    sim = is_simulated(runs)
    runs = _resource_runs(runs)
    if runs is None:
        return placeholder(title, "resource samples (cpu_mean / peak memory)", sim)
    cells = _cells(runs, CONFIG_KEYS)
    fig = _box_pair(cells, (max(8, 1.3 * len(cells) + 3), 7), (2, 1),
                    ("cpu_mean", "mean CPU % per run"), ("_rss", "peak memory per run (MB)"))
    return _finish(fig, title, sim)


def message_volume(runs: pd.DataFrame) -> Figure:
    """Figure 5: communication volume per run (model HTTP bodies + agent-to-agent messages)
    by architecture, model and tool setting."""
    title = "Communication volume per run (fig. 5)"
    sim = is_simulated(runs)
    need = ("llm_request_bytes", "llm_response_bytes", "a2a_bytes")
    if _empty(runs, "instance", *need):
        return placeholder(title, "message byte counts", sim)
    runs = runs.copy()
    runs["_kib"] = runs[list(need)].fillna(0).sum(axis=1) / 1024
    runs["_a2a"] = runs["a2a_bytes"].fillna(0) / 1024
    cells = _cells(runs, CONFIG_KEYS)
    fig = _box_pair(cells, (max(8, 1.3 * len(cells) + 3), 7), (2, 1),
                    ("_kib", "total bytes per run (KiB)"), ("_a2a", "agent-to-agent bytes per run (KiB)"))
    return _finish(fig, title, sim)


def message_sizes(spans: pd.DataFrame, runs: pd.DataFrame | None = None) -> Figure:
    """Appendix A.1 message sizes: per agent (agent-to-agent in/out and model request/
    response, mean per run), per agent pair (heatmap of mean bytes per run) and per
    agent-to-model pair (mean bytes per call)."""
    title = "Message sizes: per agent, per agent pair, agent to model"
    sim = is_simulated(runs, spans)
    if _empty(spans, "span_type", "run_id", "input_bytes", "output_bytes"):
        return placeholder(title, "message or LLM spans", sim)
    run_keys = [k for k in ("study_id", "run_id") if k in spans.columns]
    n_runs = max(len(spans[run_keys].drop_duplicates()), 1)
    # nullable integer columns (frames API) become floats so pivots and imshow get numbers
    spans = spans.assign(input_bytes=pd.to_numeric(spans["input_bytes"], errors="coerce").astype(float),
                         output_bytes=pd.to_numeric(spans["output_bytes"], errors="coerce").astype(float))
    msgs = spans[spans["span_type"] == "message"]
    llm = spans[spans["span_type"] == "llm"]
    if not len(msgs) and not len(llm):
        return placeholder(title, "message or LLM spans", sim)
    fig = _new((15, 5))
    a, b, c = fig.subplots(1, 3, width_ratios=[1.2, 1, 1.2])

    per_agent = pd.DataFrame({
        "a2a sent": msgs.groupby("message_source")["input_bytes"].sum(),
        "a2a received": msgs.groupby("message_target")["input_bytes"].sum(),
        "LLM request": llm.groupby("agent_name")["input_bytes"].sum(),
        "LLM response": llm.groupby("agent_name")["output_bytes"].sum(),
    }).fillna(0) / n_runs / 1024
    per_agent = per_agent.drop(index=[i for i in ("__start__", "__end__") if i in per_agent.index])
    if len(per_agent):
        x = np.arange(len(per_agent))
        w = 0.8 / len(per_agent.columns)
        for i, col in enumerate(per_agent.columns):
            a.bar(x + i * w - 0.4 + w / 2, per_agent[col], w, label=col, color=_PALETTE[i])
        a.set_xticks(x, per_agent.index, rotation=30, ha="right", fontsize=7)
        a.set_ylabel("KiB per run (mean)")
        a.legend(fontsize=7)
    a.set_title("per agent", fontsize=9)

    if len(msgs):
        pair = msgs.pivot_table(index="message_source", columns="message_target", values="input_bytes",
                                aggfunc="sum", fill_value=0) / n_runs
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

    if len(llm):
        pairs = [f"{key_label('agent', ag)} -> {key_label('model', m)}"
                 for ag, m in zip(llm["agent_name"], _call_model(llm))]
        am = llm.groupby(pd.Series(pairs, index=llm.index), sort=True)[["input_bytes", "output_bytes"]].mean()
        labels = list(am.index)
        y = np.arange(len(am))
        c.barh(y - 0.2, am["input_bytes"], 0.4, label="request", color=_PALETTE[2])
        c.barh(y + 0.2, am["output_bytes"], 0.4, label="response", color=_PALETTE[3])
        c.set_yticks(y, labels, fontsize=7)
        c.set_xlabel("bytes per call (mean)")
        c.legend(fontsize=7)
    else:
        c.axis("off")
        c.text(0.5, 0.5, "no data for LLM calls", ha="center", transform=c.transAxes)
    c.set_title("agent to model (HTTP body bytes)", fontsize=9)
    return _finish(fig, title, sim)


# --------------------------------------------------------------------------- one run (A.1)

def _resolve_run(runs: pd.DataFrame | None, frame: pd.DataFrame | None,
                 run_id: str | None) -> tuple[str | None, str | None]:
    """``(run_id, study_id)`` of the run a single-run figure shows: the given or typical run
    (:func:`pick_run`), else the first run of ``frame``. The study id tells runs of equal id
    in different studies apart (None when the frames carry no ``study_id``)."""
    if runs is not None and not _empty(runs, "run_id"):
        run_id = pick_run(runs, run_id)
    elif run_id is None and not _empty(frame, "run_id"):
        run_id = str(sorted(frame["run_id"].unique())[0])
    study_id = None
    for df in (runs, frame):
        if run_id is not None and not _empty(df, "run_id", "study_id"):
            match = df.loc[df["run_id"] == run_id, "study_id"]
            if len(match):
                study_id = match.iloc[0]
                break
    return run_id, study_id


def _run_spans(spans: pd.DataFrame | None, run_id: str | None, study_id: str | None = None) -> pd.DataFrame:
    if _empty(spans, "run_id") or run_id is None:
        return pd.DataFrame()
    keep = spans["run_id"] == run_id
    if study_id is not None and "study_id" in spans.columns:
        keep &= spans["study_id"] == study_id
    return spans[keep]


def tokens_over_time(spans: pd.DataFrame, runs: pd.DataFrame | None = None, run_id: str | None = None) -> Figure:
    """Appendix A.1 token consumption: cumulative prompt and completion tokens of each agent
    over one run's time, plus the run total."""
    run_id, study_id = _resolve_run(runs, spans, run_id)
    title = f"Tokens over time per agent, run {run_id}"
    sim = is_simulated(runs, spans)
    s = _run_spans(spans, run_id, study_id)
    llm = s[s["span_type"] == "llm"] if len(s) else s
    if not len(llm) or "input_tokens" not in llm.columns:
        return placeholder(title, "LLM spans with tokens", sim)
    t0 = s["start_time_ns"].min()
    llm = llm.sort_values("end_time_ns")
    fig = _new((10, 4.5))
    a, b = fig.subplots(1, 2, sharex=True)
    for i, (agent, g) in enumerate(llm.groupby(llm["agent_name"].fillna("?"), sort=True)):
        t = (g["end_time_ns"] - t0) / 1e9
        colour = _PALETTE[i % len(_PALETTE)]
        a.step(t, g["input_tokens"].fillna(0).cumsum(), where="post", color=colour, label=f"{agent} prompt")
        a.step(t, g["output_tokens"].fillna(0).cumsum(), where="post", color=colour, ls="--",
               label=f"{agent} completion")
    a.set_ylabel("cumulative tokens")
    a.set_xlabel("seconds since run start")
    a.legend(fontsize=6, ncol=2)
    a.set_title("per agent (solid: prompt, dashed: completion)", fontsize=9)
    t = (llm["end_time_ns"] - t0) / 1e9
    total = (llm["input_tokens"].fillna(0) + llm["output_tokens"].fillna(0)).cumsum()
    b.step(t, total, where="post", color="#333333")
    b.set_xlabel("seconds since run start")
    b.set_title("all agents", fontsize=9)
    return _finish(fig, title, sim)


@dataclass(frozen=True)
class TokenCurves:
    """Cumulative tokens over time per group of runs, on one time grid shared by all groups
    (the data of :func:`tokens_over_time_by_group`)."""

    grid_s: np.ndarray
    """Seconds since run start, ascending, starting at 0."""
    labels: list[str]
    """One label per group (the ``by`` values joined by " / ")."""
    n_runs: np.ndarray
    """Runs per group."""
    mean: np.ndarray
    """(groups, grid) mean over the group's runs of the cumulative tokens at each grid time."""
    q25: np.ndarray
    """(groups, grid) 25th percentile over the group's runs."""
    q75: np.ndarray
    """(groups, grid) 75th percentile over the group's runs."""


def _ns(df: pd.DataFrame, column: str) -> np.ndarray:
    """A nanosecond column as float64 with NaN for missing values (nullable Int64 too)."""
    return pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def token_curves(llm_calls: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                 by: str | Sequence[str] = ("instance",), grid_points: int = 200) -> TokenCurves | None:
    """Cumulative total tokens (prompt + completion) against time since run start, averaged
    over the runs of each ``by`` group, with the interquartile range.

    ``llm_calls`` is ``llm_calls_df`` or ``spans_df`` (non-LLM rows are ignored except a
    ``run`` span, whose start is the run's start). A run's start is its ``run`` span's start,
    else the runs frame's ``started_at_ns``, else its first LLM call's start. A call counts
    once it has ended; a run keeps its final total after it finishes, so the curves level
    off at the groups' mean tokens per run. With ``runs`` given, its runs define the groups
    (``by`` columns looked up there) and runs without an LLM call count as zero tokens.
    Returns None when there is no LLM call with an end time and tokens.

    Fully vectorised: every (run, grid time) value is one ``searchsorted`` over the calls
    sorted by (run, end time), so thousands of runs take milliseconds.
    """
    by = [by] if isinstance(by, str) else list(by)
    if _empty(llm_calls, "run_id", "end_time_ns"):
        return None
    df = llm_calls
    is_llm = df["span_type"].astype(object).to_numpy() == "llm" if "span_type" in df.columns \
        else np.ones(len(df), dtype=bool)
    if not is_llm.any():
        return None
    keys = ["study_id", "run_id"] if "study_id" in df.columns and (runs is None or "study_id" in runs.columns) \
        else ["run_id"]
    # the run table: one row per run with its group columns
    if runs is not None and not _empty(runs, *keys):
        table = runs
    else:
        table = df.loc[is_llm]
    cols = present_keys(table, by)
    extra = ["started_at_ns"] if "started_at_ns" in table.columns else []
    table = table[[*keys, *cols, *extra]].drop_duplicates(keys).reset_index(drop=True)
    if not len(table):
        return None
    index = pd.MultiIndex.from_frame(table[keys].astype(str))
    code = index.get_indexer(pd.MultiIndex.from_frame(df[keys].astype(str)))  # -1: not in the run table
    n = len(table)

    # each run's start (NaN where unknown), most trusted source first
    start = np.full(n, np.nan)
    if "span_type" in df.columns and "start_time_ns" in df.columns:
        root = (df["span_type"].astype(object).to_numpy() == "run") & (code >= 0)
        np.fmin.at(start, code[root], _ns(df, "start_time_ns")[root])
    if extra:
        start = np.where(np.isnan(start), _ns(table, "started_at_ns"), start)
    llm = is_llm & (code >= 0)
    if "start_time_ns" in df.columns:
        first = np.full(n, np.nan)
        np.fmin.at(first, code[llm], _ns(df, "start_time_ns")[llm])
        start = np.where(np.isnan(start), first, start)

    # tokens per call: prompt + completion, the total where both are missing
    if not {"input_tokens", "output_tokens", "total_tokens"} & set(df.columns):
        return None
    missing = np.full(len(df), np.nan)
    tin = _ns(df, "input_tokens") if "input_tokens" in df.columns else missing
    tout = _ns(df, "output_tokens") if "output_tokens" in df.columns else missing
    tok = np.nan_to_num(tin) + np.nan_to_num(tout)
    if "total_tokens" in df.columns:
        tok = np.where(np.isnan(tin) & np.isnan(tout), np.nan_to_num(_ns(df, "total_tokens")), tok)
    end = _ns(df, "end_time_ns")
    ok = llm & ~np.isnan(end)
    if not ok.any():
        return None
    r = code[ok]
    t = (end[ok] - start[r]) / 1e9
    t = np.where(np.isnan(t), 0.0, np.maximum(t, 0.0))  # a run of unknown start: calls at 0
    tok = tok[ok]

    # calls sorted by (run, time); a cumulative sum over all of them, and per run its base
    order = np.lexsort((t, r))
    r, t, tok = r[order], t[order], tok[order]
    cum = np.concatenate([[0.0], np.cumsum(tok)])
    span = float(t.max()) if len(t) else 0.0
    grid = np.linspace(0.0, span if span > 0 else 1.0, grid_points)
    width = grid[-1] * 2 + 1.0  # runs laid end to end on one axis: run k occupies [k*width, k*width + span]
    pos = r * width + t
    base = np.searchsorted(pos, np.arange(n) * width, side="left")  # index of each run's first call
    query = (np.arange(n)[:, None] * width + grid[None, :]).ravel()
    upto = np.searchsorted(pos, query, side="right").reshape(n, grid_points)  # calls ended by each time
    values = cum[upto] - cum[base][:, None]  # (runs, grid) cumulative tokens

    if cols:
        names = [" / ".join(key_label(k, v) for k, v in zip(cols, row)) for row in table[cols].itertuples(index=False)]
        groups = pd.Series(np.arange(n)).groupby(names, sort=True).indices
    else:
        groups = {"all runs": np.arange(n)}
    labels, sizes, mean, q25, q75 = [], [], [], [], []
    for label, idx in groups.items():
        labels.append(label)
        v = values[idx]
        sizes.append(len(idx))
        mean.append(v.mean(axis=0))
        lo, hi = np.percentile(v, [25, 75], axis=0)
        q25.append(lo)
        q75.append(hi)
    return TokenCurves(grid_s=grid, labels=labels, n_runs=np.array(sizes), mean=np.array(mean),
                       q25=np.array(q25), q75=np.array(q75))


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


def delay_breakdown_figure(spans: pd.DataFrame, runs: pd.DataFrame | None = None) -> Figure:
    """Appendix A.1 delay: the mean run root span time per configuration cell split into
    agent compute, model calls, tool calls and hand-over (:func:`delay_breakdown`)."""
    title = "Delay breakdown per configuration (mean per run)"
    sim = is_simulated(runs, spans)
    d = delay_breakdown(spans)
    if not len(d):
        return placeholder(title, "spans with timings", sim)
    if runs is not None and not _empty(runs, "run_id"):
        keys = present_keys(runs, CONFIG_KEYS)
        on = [k for k in ("study_id", "run_id") if k in d.columns and k in runs.columns]
        d = d.merge(runs[[*on, *keys]], on=on, how="left")
    else:
        keys = []
    parts = [("agent_s", "agent compute"), ("model_s", "model calls"), ("tool_s", "tool calls (not in a model call)"),
             ("handover_s", "hand-over (in no agent, model or tool span)")]
    cells = _cells(d, keys)
    means = pd.DataFrame([g[[p for p, _ in parts]].mean() for _, g in cells], index=[k for k, _ in cells])
    fig = _new((max(7, 1.3 * len(cells) + 3), 4.5))
    ax = fig.add_subplot()
    bottom = np.zeros(len(means))
    for i, (col, label) in enumerate(parts):
        ax.bar(range(len(means)), means[col], bottom=bottom, label=label, color=_PALETTE[i])
        bottom += means[col].to_numpy()
    ax.set_xticks(range(len(means)), means.index, fontsize=7)
    ax.set_ylabel("seconds per run (mean)")
    ax.legend(fontsize=8)
    return _finish(fig, title, sim)


def _depths(s: pd.DataFrame) -> pd.Series:
    parent = dict(zip(s["span_id"], s["parent_span_id"]))
    memo: dict[str, int] = {}

    def depth(sid):
        chain = []
        while sid in parent and sid not in memo and len(chain) < 1000:
            chain.append(sid)
            sid = parent[sid]
        d = memo.get(sid, -1)
        for c in reversed(chain):
            d += 1
            memo[c] = d
        return memo.get(chain[0], d) if chain else d

    return s["span_id"].map(depth)


def flame_graph(spans: pd.DataFrame, runs: pd.DataFrame | None = None, run_id: str | None = None) -> Figure:
    """Flame graph (icicle layout) of one run's span tree: x is time since the run started,
    rows are tree depth, colour is span type; zero-length messages are drawn as ticks."""
    run_id, study_id = _resolve_run(runs, spans, run_id)
    title = f"Flame graph of run {run_id}"
    sim = is_simulated(runs, spans)
    s = _run_spans(spans, run_id, study_id)
    if not len(s) or "span_id" not in s.columns:
        return placeholder(title, f"spans of run {run_id}", sim)
    s = s.assign(flame_depth=_depths(s))
    t0 = s["start_time_ns"].min()
    total = max((s["end_time_ns"].max() - t0) / 1e9, 1e-9)
    depth_max = int(s["flame_depth"].max())
    fig = _new((12, 1.0 + 0.55 * (depth_max + 2)))
    ax = fig.add_subplot()
    for r in s.itertuples():
        x = (r.start_time_ns - t0) / 1e9
        w = (r.end_time_ns - r.start_time_ns) / 1e9
        colour = _SPAN_COLOURS.get(r.span_type, _SPAN_COLOURS["other"])
        if r.span_type == "message" or w <= 0:
            ax.plot([x, x], [r.flame_depth - 0.4, r.flame_depth + 0.4], color=colour, lw=1)
            continue
        ax.barh(r.flame_depth, w, left=x, height=0.8, color=colour, edgecolor="white", linewidth=0.5)
        if w > total * 0.06:
            label = (r.span_type if is_missing(r.name) else str(r.name)).replace("invoke_agent ", "") \
                .replace("execute_tool ", "")
            ax.text(x + w / 2, r.flame_depth, label[: max(int(w / total * 90), 3)], ha="center", va="center",
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
    calls (green) shaded, and the mean CPU inside vs outside LLM calls in the legend."""
    run_id, study_id = _resolve_run(runs, resources, run_id)
    title = f"CPU and memory over time, run {run_id}"
    sim = is_simulated(runs, spans)
    r = _run_spans(resources, run_id, study_id)
    if not len(r) or "cpu_percent" not in r.columns:
        return placeholder(title, f"resource samples of run {run_id}", sim)
    r = r.sort_values("time_ns")
    s = _run_spans(spans, run_id, study_id)
    t0 = min(r["time_ns"].min(), s["start_time_ns"].min()) if len(s) else r["time_ns"].min()
    t = (r["time_ns"] - t0) / 1e9
    fig = _new((10, 5.5))
    a, b = fig.subplots(2, 1, sharex=True)
    a.plot(t, r["cpu_percent"], marker="o", ms=3, color="#4c72b0", label="CPU %")
    b.plot(t, r["rss_bytes"] / _MB, marker="o", ms=3, color="#8172b3", label="RSS (MB)")
    in_llm = np.zeros(len(r), dtype=bool)
    for kind, colour in (("llm", _SPAN_COLOURS["llm"]), ("tool", _SPAN_COLOURS["tool"])):
        k = s[s["span_type"] == kind] if len(s) else s
        for i, sp in enumerate(k.itertuples()):
            x0, x1 = (sp.start_time_ns - t0) / 1e9, (sp.end_time_ns - t0) / 1e9
            for ax in (a, b):
                ax.axvspan(x0, x1, color=colour, alpha=0.2, lw=0, label=f"{kind} call" if i == 0 and ax is a else None)
            if kind == "llm":
                in_llm |= ((r["time_ns"] >= sp.start_time_ns) & (r["time_ns"] <= sp.end_time_ns)).to_numpy()
    cpu = r["cpu_percent"].to_numpy()
    if in_llm.any() and (~in_llm).any():
        a.plot([], [], " ", label=f"mean CPU in LLM calls {cpu[in_llm].mean():.0f}%, "
                                  f"outside {cpu[~in_llm].mean():.0f}%")
    a.set_ylabel("CPU % (100 = one core)")
    b.set_ylabel("resident memory (MB)")
    b.set_xlabel("seconds since run start")
    a.legend(fontsize=7, loc="upper right")
    return _finish(fig, title, sim)


# --------------------------------------------------------------------------- similarity (fig 7, 8)

def _metric_columns(df: pd.DataFrame) -> dict[str, str]:
    """metric -> column holding its group mean (``jaccard_mean`` or plain ``jaccard``)."""
    out = {}
    for m in ("jaccard", "lcs"):
        col = next((c for c in (f"{m}_mean", m) if c in df.columns), None)
        if col:
            out[m] = col
    return out


def similarity_within_figure(within: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                             by: str | Sequence[str] | None = None) -> Figure:
    """Figure 7: mean pairwise Jaccard and LCS similarity of call graphs within each group.

    ``within`` has one row per group: the group key column(s), ``jaccard_mean`` and
    ``lcs_mean`` (or ``jaccard``/``lcs``) and optionally ``n_runs``, as returned by
    ``callgraph.similarity_within``; groups of fewer than two runs score 0 (paper's
    convention) and are marked "n<2"."""
    title = "Call-graph similarity within groups (fig. 7)"
    sim = is_simulated(runs)
    if within is None or not len(within) or not _metric_columns(within):
        return placeholder(title, "call-graph similarity (needs at least two runs per group)", sim)
    df = within.reset_index() if not isinstance(within.index, pd.RangeIndex) else within
    metrics = _metric_columns(df)
    skip = {"n_runs", "n_pairs", "pairs", "n", "index", "runs"}
    keys = [by] if isinstance(by, str) else list(by) if by else [
        c for c in df.columns if not c.startswith(("jaccard", "lcs")) and c not in skip]
    labels = ["\n".join(key_label(k, v) for k, v in zip(keys, row))
              for row in df[keys].itertuples(index=False)] if keys else [str(i) for i in range(len(df))]
    if "n_runs" in df.columns:
        labels = [f"{lab}\nn={n}" + (" (n<2)" if n < 2 else "") for lab, n in zip(labels, df["n_runs"])]
    fig = _new((max(7, 1.0 * len(df) + 3), 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(df))
    w = 0.8 / len(metrics)
    for i, (m, col) in enumerate(metrics.items()):
        ax.bar(x + i * w - 0.4 + w / 2, df[col].astype(float), w, label={"jaccard": "Jaccard (edge set)",
                                                                     "lcs": "LCS (edge order)"}[m],
               color=_PALETTE[i])
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("mean pairwise similarity")
    ax.legend(fontsize=8)
    return _finish(fig, title, sim)


def similarity_between_figure(between, runs: pd.DataFrame | None = None, metric: str = "LCS") -> Figure:
    """Figure 8: median pairwise similarity between groups (e.g. models), one heatmap per
    facet (e.g. architecture).

    ``between`` is either a square DataFrame (one heatmap), a dict ``{facet: square
    DataFrame}``, or a long DataFrame with columns ``group_a``, ``group_b``, a value column
    (``lcs``/``jaccard``/``median``/``value``) and optionally ``facet``."""
    title = f"Call-graph {metric} similarity between groups, median pairwise (fig. 8)"
    sim = is_simulated(runs)
    mats = {facet: m for facet, m in _as_matrices(between, metric.lower()).items() if len(m) >= 2}
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


def _as_matrices(between, metric: str) -> dict[str, pd.DataFrame]:
    if between is None:
        return {}
    if isinstance(between, dict):
        return {str(k): v for k, v in between.items() if isinstance(v, pd.DataFrame) and v.size}
    if not isinstance(between, pd.DataFrame) or not len(between):
        return {}
    a = next((c for c in ("group_a", "a", "left") if c in between.columns), None)
    b = next((c for c in ("group_b", "b", "right") if c in between.columns), None)
    if a is None or b is None:  # already a square matrix
        return {"all": between}
    value = next((c for c in (metric, f"{metric}_median", "median", "value") if c in between.columns), None)
    if value is None:
        return {}
    facet = next((c for c in ("facet", "instance") if c in between.columns), None)
    out = {}
    between = between.assign(**{c: between[c].map(lambda v: key_label("group", v)) for c in (a, b)})
    for key, g in (_cells(between, [facet]) if facet else [("all", between)]):
        m = g.pivot_table(index=a, columns=b, values=value, aggfunc="median")
        groups = sorted(set(m.index) | set(m.columns), key=str)
        m = m.reindex(index=groups, columns=groups)
        m = m.combine_first(m.T)  # symmetric: fill the mirror of one-sided pairs
        out[str(key)] = m
    return out


# --------------------------------------------------------------------------- cost, latency, accuracy

def latency_vs_cost(runs: pd.DataFrame) -> Figure:
    """Figure 9a: latency versus cost per run, coloured by architecture (instance) and
    marked by model."""
    title = "Latency vs cost per task, by architecture and backend (fig. 9a)"
    sim = is_simulated(runs)
    if _empty(runs, "duration_s", "cost_usd") or not (runs["duration_s"].notna() & runs["cost_usd"].notna()).any():
        return placeholder(title, "run durations and costs (a study without prices has no cost)", sim)
    fig = _new((8, 5))
    ax = fig.add_subplot()
    backends = _cells(runs, ["backend"])
    for i, (inst, g) in enumerate(_cells(runs, ["instance"])):
        for j, (backend, b) in enumerate(backends):
            h = g.loc[g.index.intersection(b.index)]
            if len(h):
                ax.scatter(h["cost_usd"], h["duration_s"], color=_PALETTE[i % len(_PALETTE)],
                           marker=_MARKERS[j % len(_MARKERS)], alpha=0.7, s=22,
                           label=inst if len(backends) < 2 else f"{inst} / {backend}")
    ax.set_xlabel("cost per task (USD)")
    ax.set_ylabel("latency per task (s)")
    ax.legend(fontsize=7)
    return _finish(fig, title, sim)


def _acc_per_repeat(runs: pd.DataFrame) -> pd.Series:
    """Accuracy of each (configuration cell, repeat) over its tasks (the spread of accuracy
    across repeats); NaN where no run of it was judged."""
    keys = present_keys(runs, [*CONFIG_KEYS, "repeat"])
    acc = _accuracy(runs)
    if not keys:
        return pd.Series([acc.mean()])
    return acc.groupby([runs[k].astype(object).map(lambda v: key_label(k, v)) for k in keys]).mean()


def _cost_latency_accuracy(runs: pd.DataFrame, key: str, latency: str) -> Figure:
    """Figures 9b and 10: per group of ``key``, boxes of cost and latency per run and of
    accuracy per (cell, repeat); a panel without values says "no data for ..."."""
    groups = _cells(runs, [key])
    fig = _new((max(10, 2.5 * len(groups) + 6), 4.2))
    a, b, c = fig.subplots(1, 3)
    _boxes(a, [(k, g["cost_usd"]) for k, g in groups], "cost per task (USD)")
    _boxes(b, [(k, g["duration_s"]) for k, g in groups], latency)
    _boxes(c, [(k, _acc_per_repeat(g)) for k, g in groups], "accuracy per repeat (judged runs)")
    return fig


def distributions(runs: pd.DataFrame) -> Figure:
    """Figure 9b: distributions of cost, latency and accuracy (per repeat, over tasks) per
    architecture."""
    title = "Cost, latency and accuracy by architecture (fig. 9b)"
    sim = is_simulated(runs)
    if _empty(runs, "cost_usd", "duration_s"):
        return placeholder(title, "runs", sim)
    return _finish(_cost_latency_accuracy(runs, "instance", "latency per task (s)"), title, sim)


def by_model(runs: pd.DataFrame) -> Figure:
    """Figure 10: cost, duration and accuracy per model (backend)."""
    title = "Cost, duration and accuracy by model backend (fig. 10)"
    sim = is_simulated(runs)
    if _empty(runs, "cost_usd", "duration_s"):
        return placeholder(title, "runs", sim)
    return _finish(_cost_latency_accuracy(runs, "backend", "duration per task (s)"), title, sim)


_DELTA_COLUMNS = {"latency": ("delta_duration_s", "delta_latency_s", "delta_duration", "delta_latency"),
                  "cost": ("delta_cost_usd", "delta_cost"),
                  "accuracy": ("delta_accuracy", "delta_correct", "delta_acc")}


def tool_deltas(deltas: pd.DataFrame | None, runs: pd.DataFrame | None = None) -> Figure:
    """Figure 12: paired deltas (tools on minus tools off, matched by task and seed) of
    latency, cost and accuracy per architecture and model.

    ``deltas`` has one row per matched pair with ``instance`` (and ``model`` or ``backend``)
    and delta columns ``delta_duration_s``, ``delta_cost_usd``, ``delta_correct`` (as
    ``cost.paired_tool_deltas`` returns them)."""
    title = "Effect of enabling tools: paired deltas, on minus off (fig. 12)"
    sim = is_simulated(runs, deltas)
    if deltas is None or not len(deltas):
        return placeholder(title, "tools-on/off pairs (the study needs both tool settings)", sim)
    cols = {k: next((c for c in names if c in deltas.columns), None) for k, names in _DELTA_COLUMNS.items()}
    cols = {k: v for k, v in cols.items() if v}
    if not cols:
        return placeholder(title, "delta columns", sim)
    cells = _cells(deltas, ["instance", "backend"])
    # one metric per row: side by side, 12 cells x 3 metrics made a 68-inch-wide image
    fig = _new((max(10, 1.3 * len(cells) + 3), 3.4 * len(cols)))
    axes = np.atleast_1d(fig.subplots(len(cols), 1))
    units = {"latency": "latency delta (s)", "cost": "cost delta (USD)", "accuracy": "accuracy delta"}
    for ax, (k, col) in zip(axes, cols.items()):
        _boxes(ax, [(label, g[col]) for label, g in cells], units[k])
        ax.axhline(0, color="#999999", lw=0.8, ls="--")
    return _finish(fig, title, sim)


_MARKERS = "osD^vP*Xph"


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
    colour). ``bootstrap`` (optional) supplies ``frontier_freq`` row for row instead.

    Readable with many cells: the marker shape gives the architecture (``instance``, in the
    legend) and only frontier points are labelled, each label placed clear of the others."""
    title = "Cost-accuracy Pareto frontier with bootstrap uncertainty"
    sim = is_simulated(runs, points)
    if points is None or not len(points):
        return placeholder(title, "configuration cells with judged runs", sim)
    cost = next((c for c in ("cost", "mean_cost_usd", "cost_usd") if c in points.columns), None)
    acc = next((c for c in ("accuracy", "acc") if c in points.columns), None)
    if cost is None or acc is None or not (points[cost].notna() & points[acc].notna()).any():
        return placeholder(title, "cost and accuracy per cell (needs prices and judged runs)", sim)
    p = points.reset_index(drop=True)
    labels = p["label"].astype(str) if "label" in p.columns else pd.Series(
        [run_label(r).replace("\n", " / ") for _, r in p.iterrows()])
    freq = p["frontier_freq"].to_numpy(dtype=float) if "frontier_freq" in p.columns else None
    if freq is None and bootstrap is not None and len(bootstrap):
        fcol = next((c for c in ("frontier_freq", "p_frontier", "frequency") if c in bootstrap.columns), None)
        if fcol and len(bootstrap) == len(p):
            freq = bootstrap[fcol].to_numpy(dtype=float)
    fig = _new((8, 5.2))
    ax = fig.add_subplot()
    def err(col: str, short: str):
        lo = next((c for c in (f"{col}_low", f"{short}_lo") if c in p.columns), None)
        hi = next((c for c in (f"{col}_high", f"{short}_hi") if c in p.columns), None)
        if lo is None or hi is None:
            return None
        return np.vstack([p[col] - p[lo], p[hi] - p[col]]).astype(float).clip(min=0)

    xerr, yerr = err(cost, "cost"), err(acc, "accuracy")
    ax.errorbar(p[cost], p[acc], xerr=xerr, yerr=yerr, fmt="none", ecolor="#bbbbbb", lw=0.7, zorder=1)
    # ~24 cells make per-point labels unreadable: the marker shape tells the architecture
    # (legend), and only frontier points carry their full label
    shape_col = next((c for c in ("instance", "framework") if c in p.columns), None)
    shapes = p[shape_col].map(lambda v: key_label(shape_col, v)) if shape_col else \
        pd.Series("all cells", index=p.index)
    colour = dict(c=freq, cmap="viridis", vmin=0, vmax=1) if freq is not None else dict(color="#4c72b0")
    sc = None
    handles = []
    for i, name in enumerate(sorted(shapes.unique())):
        m = (shapes == name).to_numpy()
        kw = {k: (v[m] if k == "c" else v) for k, v in colour.items()}
        sc = ax.scatter(p.loc[m, cost], p.loc[m, acc], marker=_MARKERS[i % len(_MARKERS)], s=46, zorder=3,
                        edgecolors="#333333", linewidths=0.5, **kw)
        if shape_col:
            handles.append(Line2D([], [], ls="", marker=_MARKERS[i % len(_MARKERS)], color="#777777",
                                  markeredgecolor="#333333", label=name))
    if freq is not None and sc is not None:
        fig.colorbar(sc, ax=ax, label="bootstrap frequency on the frontier")
    frontier = p["on_frontier"].fillna(False).astype(bool).to_numpy() if "on_frontier" in p.columns \
        else np.zeros(len(p), dtype=bool)
    if frontier.any():
        f = p[frontier].sort_values(cost)
        (line,) = ax.step(f[cost], f[acc], where="post", color="#c44e52", lw=1.5, label="Pareto frontier", zorder=2)
        handles.insert(0, line)
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="lower right",
                  title="marker: " + shape_col if shape_col else None, title_fontsize=7)
    ax.set_xlabel("mean cost per task (USD)")
    ax.set_ylabel("accuracy")
    fig = _finish(fig, title, sim)
    if frontier.any():  # last: the placement needs the final layout
        _label_points(ax, f[cost].to_numpy(float), f[acc].to_numpy(float), [labels[i] for i in f.index],
                      obstacles=p[[cost, acc]].to_numpy(float))
    return fig


# --------------------------------------------------------------------------- failures (fig 11)

def category_label(category) -> str:
    """The human label of a failure category value (``"wrong_fact_entity"`` -> "Wrong fact /
    entity"); a value that is not a category is shown as it is."""
    try:
        return FailureCategory(str(category)).label
    except ValueError:
        return str(category)


def failure_breakdown_figure(breakdown: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                             by: str = "backend") -> Figure:
    """Figure 11a: failure categories per model backend (or another ``by``) as stacked
    percentage bars.

    ``breakdown``: a wide table (index = ``by`` values, columns = categories, counts or shares) or a
    long one with ``by``, ``category`` and ``count`` (or ``share``/``percent``) columns."""
    title = f"Failure taxonomy by {by} (fig. 11a)"
    sim = is_simulated(runs, breakdown)
    wide = _wide_breakdown(breakdown, by)
    if wide is None or not wide.size or float(np.nansum(wide.to_numpy(dtype=float))) == 0:
        return placeholder(title, "failed runs", sim)
    share = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0) * 100
    fig = _new((max(7, 1.2 * len(share) + 4), 4.5))
    ax = fig.add_subplot()
    left = np.zeros(len(share))
    for i, cat in enumerate(share.columns):
        ax.barh(range(len(share)), share[cat], left=left, label=category_label(cat),
                color=_PALETTE[i % len(_PALETTE)])
        left += share[cat].to_numpy()
    n = wide.sum(axis=1)
    ax.set_yticks(range(len(share)), [f"{i} (n={int(v) if float(v).is_integer() else v:g})" for i, v in n.items()],
                  fontsize=8)
    ax.set_xlabel("% of failures")
    ax.set_xlim(0, 100)
    ax.legend(fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
    return _finish(fig, title, sim)


def _wide_breakdown(breakdown, by: str) -> pd.DataFrame | None:
    if breakdown is None or not isinstance(breakdown, pd.DataFrame) or not len(breakdown):
        return None
    if "category" in breakdown.columns:
        value = next((c for c in ("count", "n", "share", "percent", "pct") if c in breakdown.columns), None)
        key = by if by in breakdown.columns else breakdown.columns[0]
        breakdown = breakdown.assign(**{key: breakdown[key].map(lambda v: key_label(key, v))})
        if value is None:
            return breakdown.groupby([key, "category"]).size().unstack(fill_value=0)
        return breakdown.pivot_table(index=key, columns="category", values=value, aggfunc="sum", fill_value=0)
    wide = breakdown.set_index(breakdown[by].map(lambda v: key_label(by, v))) if by in breakdown.columns else breakdown
    return wide.select_dtypes(include="number").drop(columns=[c for c in ("total", "n", "runs") if c in wide.columns],
                                                    errors="ignore")


def judge_agreement_figure(kappa: pd.DataFrame | None, runs: pd.DataFrame | None = None) -> Figure:
    """Figure 11b: pairwise Cohen's kappa between failure judges as a heatmap.

    ``kappa``: a square judges x judges table, or a long one with ``judge_a``, ``judge_b``,
    ``kappa`` columns."""
    title = "Agreement between failure judges, Cohen's kappa (fig. 11b)"
    sim = is_simulated(runs)
    if kappa is None or not isinstance(kappa, pd.DataFrame) or not len(kappa):
        return placeholder(title, "judges (run the failure classifier with two or more judges)", sim)
    if {"judge_a", "judge_b", "kappa"} <= set(kappa.columns):
        m = kappa.pivot_table(index="judge_a", columns="judge_b", values="kappa", aggfunc="mean")
        names = sorted(set(m.index) | set(m.columns), key=str)
        m = m.reindex(index=names, columns=names)
        m = m.combine_first(m.T)
        for n in names:
            if np.isnan(m.loc[n, n]):
                m.loc[n, n] = 1.0
    else:
        m = kappa.select_dtypes(include="number")
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

