"""The numbers behind every figure of :mod:`maestro.analysis.figures`, without drawing.

Each figure function of ``figures`` has a data function here, named after it with a
``_data`` suffix (``flame_graph`` -> :func:`flame_graph_data`), that takes the same frames
and returns a pandas DataFrame or a small dataclass of arrays; the figure function only
draws what it returned (or a "no data for ..." placeholder when it returned nothing). So
the numbers can be unit-tested against hand-computed values, reused in notebooks and
exported, and this module never imports matplotlib.

=====================================  ===========================================
figure (``figures``)                   data (this module)
=====================================  ===========================================
``resources_by_instance`` (fig. 4)     :func:`resources_data` (by instance, framework)
``resources_by_architecture`` (fig. 6) :func:`resources_data` (by configuration cell)
``message_volume`` (fig. 5)            :func:`message_volume_data`
``message_sizes``                      :func:`message_sizes_data` -> :class:`MessageSizes`
``tokens_over_time``                   :func:`tokens_over_time_data` -> :class:`RunTokens`
``tokens_over_time_by_group``          :func:`token_curves` -> :class:`TokenCurves`
``delay_breakdown_figure``             :func:`delay_breakdown_data` (per cell; per run:
                                       :func:`delay_breakdown`)
``flame_graph``                        :func:`flame_graph_data` -> :class:`FlameGraph`
``resource_timeseries``                :func:`resource_timeseries_data` -> :class:`RunResources`
``similarity_within_figure`` (fig. 7)  :func:`similarity_within_data`
``similarity_between_figure`` (fig. 8) :func:`similarity_between_data`
``latency_vs_cost`` (fig. 9a)          :func:`latency_vs_cost_data`
``distributions``, ``by_model``        :func:`cost_latency_accuracy_data`
(fig. 9b, 10)
``tool_deltas`` (fig. 12)              :func:`tool_deltas_data`
``pareto_figure``                      :func:`pareto_data` -> :class:`ParetoData`
``failure_breakdown_figure`` (11a)     :func:`failure_breakdown_data` -> :class:`FailureShares`
``judge_agreement_figure`` (11b)       :func:`judge_agreement_data`
=====================================  ===========================================

Box-plot figures share one long ("tidy") shape, :data:`BOX_COLUMNS`: one row per value with
``metric`` (the panel), ``group`` (the box label, one configuration key per line) and
``value`` (float, NaN kept: the drawing drops it); rows are ordered by metric, then group
(sorted by label, as the boxes are drawn), then the runs' order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

from maestro.analysis.columns import is_missing, key_label
from maestro.analysis.failures import FailureCategory

__all__ = [
    "SIMULATED_LABEL",
    "is_simulated",
    "figure_title",
    "CONFIG_KEYS",
    "key_label",
    "present_keys",
    "run_label",
    "pick_run",
    "category_label",
    "BOX_COLUMNS",
    "time_note",
    "time_label",
    "resources_data",
    "RESOURCE_STAT_COLUMNS",
    "resource_stats_data",
    "message_volume_data",
    "MessageSizes",
    "message_sizes_data",
    "message_sizes_by_system_data",
    "RunTokens",
    "tokens_over_time_data",
    "TokenCurves",
    "token_curves",
    "delay_breakdown",
    "delay_breakdown_data",
    "FlameGraph",
    "flame_graph_data",
    "RunResources",
    "resource_timeseries_data",
    "similarity_within_data",
    "similarity_between_data",
    "latency_vs_cost_data",
    "cost_latency_accuracy_data",
    "tool_deltas_data",
    "TOOL_ACCURACY_COLUMNS",
    "tool_accuracy_data",
    "CallGraphLayout",
    "call_graph_data",
    "ParetoData",
    "pareto_data",
    "FailureShares",
    "failure_breakdown_data",
    "judge_agreement_data",
]

SIMULATED_LABEL = "SIMULATED backend"
"""Suffix of every title whose data came (at least partly) from maestro's simulated service."""

CONFIG_KEYS = ("instance", "backend", "tools_enabled")
"""The configuration cell of a run: figures split runs by these (the backend, not the model
name: a run of your own MAS may report no model, and two backends may share one)."""

BOX_COLUMNS = ("metric", "group", "value")
"""Columns of the long frames behind the box-plot figures (see the module docstring)."""

_MB = 1_000_000  # MB as in the frames' rss_*_mb columns (1e6 bytes)


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


def time_note(infos: Mapping[str, Mapping[str, Any]] | None = None, runs: pd.DataFrame | None = None) -> str | None:
    """What a time axis must say about simulated latencies: ``"simulated, time factor
    0.02"`` (the simulated service sleeps ``time_factor`` x a real model's latency; the
    factor is the studies' ``config.time_factor`` in ``study.json``), ``"simulated, time
    factors 0, 0.02"`` for several, ``"simulated"`` when it is unknown, and None when no
    study or run is simulated.

    ``infos``: study_id -> study.json contents (``frames.study_infos``); ``runs``: a runs
    frame whose ``simulated`` column marks simulated runs."""
    sim_runs = is_simulated(runs)
    sim_ids: set[Any] = set()
    if sim_runs and runs is not None and "study_id" in runs.columns:
        sim_ids = set(runs.loc[runs["simulated"].fillna(False).astype(bool), "study_id"])
    factors = set()
    any_sim = sim_runs
    for sid, info in (infos or {}).items():
        if info.get("simulated") or sid in sim_ids or (sim_runs and not sim_ids):
            any_sim = True
            f = (info.get("config") or {}).get("time_factor")
            if isinstance(f, (int, float)) and not isinstance(f, bool):
                factors.add(float(f))
    if not any_sim:
        return None
    if not factors:
        return "simulated"
    listed = ", ".join(f"{f:g}" for f in sorted(factors))
    return f"simulated, time factor{'s' if len(factors) > 1 else ''} {listed}"


def time_label(text: str, note: str | None = None, unit: str = "s") -> str:
    """An axis label in ``unit`` with the simulated-time note: ``"latency per task (s,
    simulated, time factor 0.02)"``."""
    return f"{text} ({unit}, {note})" if note else f"{text} ({unit})"


def _has(df: pd.DataFrame | None, *columns: str) -> TypeGuard[pd.DataFrame]:
    """``df`` is a frame with rows and every one of ``columns``."""
    return df is not None and len(df) > 0 and all(c in df.columns for c in columns)


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
    one key per line and sorted by label; missing values form their own group
    (:func:`key_label`)."""
    keys = present_keys(runs, keys)
    if not keys:
        return [("all runs", runs)]
    labels = ["\n".join(key_label(k, v) for k, v in zip(keys, row)) for row in runs[keys].itertuples(index=False)]
    return [(label, group) for label, group in runs.groupby(pd.Series(labels, index=runs.index), sort=True)]


def _long(groups: list[tuple[str, pd.DataFrame]],
          metrics: dict[str, Callable[[pd.DataFrame], pd.Series]]) -> pd.DataFrame:
    """The long box frame (:data:`BOX_COLUMNS`): for each metric, each group's values."""
    parts = [pd.DataFrame({"metric": metric, "group": label, "value": get(g).astype(float).to_numpy()})
             for metric, get in metrics.items() for label, g in groups]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "value" else object) for c in BOX_COLUMNS})
    return pd.concat(parts, ignore_index=True)[list(BOX_COLUMNS)]


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
    if not _has(runs, "run_id"):
        return None
    pool = runs
    if "status" in runs.columns and (runs["status"] == "success").any():
        pool = runs[runs["status"] == "success"]
    if "duration_s" in pool.columns and pool["duration_s"].notna().any():
        pool = pool.sort_values(["duration_s", "run_id"])
    return str(pool["run_id"].iloc[len(pool) // 2])


def category_label(category) -> str:
    """The human label of a failure category value (``"wrong_fact_entity"`` -> "Wrong fact /
    entity"); a value that is not a category is shown as it is."""
    try:
        return FailureCategory(str(category)).label
    except ValueError:
        return str(category)


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


def _ns(df: pd.DataFrame, column: str) -> np.ndarray:
    """A nanosecond column as float64 with NaN for missing values (nullable Int64 too)."""
    return pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


# --------------------------------------------------------------------------- resources (fig 4, 5, 6)

def resources_data(runs: pd.DataFrame | None, by: Sequence[str] = ("instance", "framework")) -> pd.DataFrame | None:
    """Figures 4 and 6: per run its mean CPU (``cpu_mean``, % of one core) and peak resident
    memory (``rss_peak_mb``, MB; from ``rss_peak_mb`` or ``rss_peak_bytes``), grouped by
    ``by`` (figure 4: instance and framework; figure 6: :data:`CONFIG_KEYS`), as a long box
    frame (:data:`BOX_COLUMNS`). None without resource samples (no ``cpu_mean`` value or no
    peak memory column)."""
    if not _has(runs, "instance", "cpu_mean") or _rss_mb(runs) is None or runs["cpu_mean"].notna().sum() == 0:
        return None
    runs = runs.assign(_rss=_rss_mb(runs))
    return _long(_cells(runs, by), {"cpu_mean": lambda g: g["cpu_mean"], "rss_peak_mb": lambda g: g["_rss"]})


RESOURCE_STAT_COLUMNS = ("resource", "stat", "group", "value")
"""Columns of :func:`resource_stats_data`."""

_RESOURCE_STATS: dict[str, dict[str, str | tuple[str, str]]] = {"cpu": {"min": "cpu_min", "mean": "cpu_mean", "peak": "cpu_peak"},
                   "memory": {"min": ("rss_min_mb", "rss_min_bytes"), "mean": ("rss_mean_mb", "rss_mean_bytes"),
                              "peak": ("rss_peak_mb", "rss_peak_bytes")}}


def _memory_mb(runs: pd.DataFrame, cols: tuple[str, str]) -> pd.Series | None:
    mb, raw = cols
    if mb in runs.columns:
        return pd.to_numeric(runs[mb], errors="coerce").astype(float)
    if raw in runs.columns:
        return pd.to_numeric(runs[raw], errors="coerce").astype(float) / _MB
    return None


def resource_stats_data(runs: pd.DataFrame | None, by: Sequence[str] = ("instance",)) -> pd.DataFrame | None:
    """Appendix A.1 "mean, peak and minimum CPU and memory usage" over multiple runs: one row
    per run and statistic (:data:`RESOURCE_STAT_COLUMNS`): ``resource`` (``cpu``, % of one
    core; ``memory``, MB), ``stat`` (``min``, ``mean``, ``peak``: the run's minimum,
    time-weighted mean and peak sample), ``group`` (the ``by`` labels, one per line) and
    ``value``. Rows are ordered by resource, group (sorted), stat, then the runs' order.
    None without resource columns or values."""
    if not _has(runs, "cpu_mean"):
        return None
    parts = []
    for resource, stats in _RESOURCE_STATS.items():
        for label, g in _cells(runs, by):
            for stat, col in stats.items():
                v = pd.to_numeric(g[col], errors="coerce").astype(float) if isinstance(col, str) and col in g.columns \
                    else (_memory_mb(g, col) if isinstance(col, tuple) else None)
                if v is None:
                    continue
                parts.append(pd.DataFrame({"resource": resource, "stat": stat, "group": label,
                                           "value": v.to_numpy()}))
    if not parts:
        return None
    out = pd.concat(parts, ignore_index=True)[list(RESOURCE_STAT_COLUMNS)]
    return out if out["value"].notna().any() else None


def message_volume_data(runs: pd.DataFrame | None, by: Sequence[str] = CONFIG_KEYS) -> pd.DataFrame | None:
    """Figure 5: per run the bytes it exchanged, in KiB (1024 bytes), grouped by ``by``, as a
    long box frame: ``total_kib`` = model request + response bodies + agent-to-agent
    messages, ``a2a_kib`` = agent-to-agent messages only (a missing count is 0). None when
    the runs lack the byte columns."""
    need = ["llm_request_bytes", "llm_response_bytes", "a2a_bytes"]
    if not _has(runs, "instance", *need):
        return None
    runs = runs.assign(_kib=runs[need].fillna(0).sum(axis=1) / 1024, _a2a=runs["a2a_bytes"].fillna(0) / 1024)
    return _long(_cells(runs, by), {"total_kib": lambda g: g["_kib"], "a2a_kib": lambda g: g["_a2a"]})


@dataclass(frozen=True)
class MessageSizes:
    """The three panels of the message-size figure (data of :func:`message_sizes_data`)."""

    n_runs: int
    """Runs the spans cover (the per-run means divide by it; at least 1)."""
    per_agent: pd.DataFrame
    """Index agent name (``__start__``/``__end__`` left out), columns ``a2a sent``,
    ``a2a received`` (message bytes, by source and by target), ``LLM request``, ``LLM
    response`` (HTTP body bytes of the agent's LLM calls): KiB per run, mean over runs."""
    pairs: pd.DataFrame
    """Agent-to-agent bytes per run (mean), index source agent, columns target agent;
    empty without message spans."""
    agent_model: pd.DataFrame
    """Index ``"<agent> -> <model>"``, columns ``input_bytes`` and ``output_bytes``: mean
    request and response body bytes per LLM call; empty without LLM spans."""


def message_sizes_data(spans: pd.DataFrame | None) -> MessageSizes | None:
    """Message sizes per agent, per agent pair and per agent-to-model pair (see
    :class:`MessageSizes`); None without message or LLM spans with byte counts."""
    if not _has(spans, "span_type", "run_id", "input_bytes", "output_bytes"):
        return None
    run_keys = [k for k in ("study_id", "run_id") if k in spans.columns]
    n_runs = max(len(spans[run_keys].drop_duplicates()), 1)
    # nullable integer columns (frames API) become floats so pivots and images get numbers
    spans = spans.assign(input_bytes=pd.to_numeric(spans["input_bytes"], errors="coerce").astype(float),
                         output_bytes=pd.to_numeric(spans["output_bytes"], errors="coerce").astype(float))
    msgs = spans[spans["span_type"] == "message"]
    llm = spans[spans["span_type"] == "llm"]
    if not len(msgs) and not len(llm):
        return None
    per_agent = pd.DataFrame({
        "a2a sent": msgs.groupby("message_source")["input_bytes"].sum(),
        "a2a received": msgs.groupby("message_target")["input_bytes"].sum(),
        "LLM request": llm.groupby("agent_name")["input_bytes"].sum(),
        "LLM response": llm.groupby("agent_name")["output_bytes"].sum(),
    }).fillna(0) / n_runs / 1024
    per_agent = per_agent.drop(index=[i for i in ("__start__", "__end__") if i in per_agent.index])
    pairs = pd.DataFrame()
    if len(msgs):
        pairs = msgs.pivot_table(index="message_source", columns="message_target", values="input_bytes",
                                 aggfunc="sum", fill_value=0) / n_runs
    agent_model = pd.DataFrame(columns=["input_bytes", "output_bytes"], dtype=float)
    if len(llm):
        names = [f"{key_label('agent', ag)} -> {key_label('model', m)}"
                 for ag, m in zip(llm["agent_name"], _call_model(llm))]
        agent_model = llm.groupby(pd.Series(names, index=llm.index), sort=True)[["input_bytes", "output_bytes"]].mean()
    return MessageSizes(n_runs=n_runs, per_agent=per_agent, pairs=pairs, agent_model=agent_model)


def message_sizes_by_system_data(spans: pd.DataFrame | None, by: str = "instance") -> dict[str, MessageSizes]:
    """:func:`message_sizes_data` for each system (``by`` value, label-sorted), so no panel
    or heatmap mixes the agents of different systems; ``{"all runs": ...}`` when the spans
    carry no ``by`` column. Systems without message or LLM spans are left out."""
    if not _has(spans, "span_type"):
        return {}
    groups = _cells(spans, [by]) if by in spans.columns else [("all runs", spans)]
    out = {}
    for label, g in groups:
        m = message_sizes_data(g)
        if m is not None:
            out[label] = m
    return out


# --------------------------------------------------------------------------- one run (A.1)

def _resolve_run(runs: pd.DataFrame | None, frame: pd.DataFrame | None,
                 run_id: str | None) -> tuple[str | None, str | None]:
    """``(run_id, study_id)`` of the run a single-run figure shows: the given or typical run
    (:func:`pick_run`), else the first run of ``frame``. The study id tells runs of equal id
    in different studies apart (None when the frames carry no ``study_id``)."""
    if runs is not None and _has(runs, "run_id"):
        run_id = pick_run(runs, run_id)
    elif run_id is None and _has(frame, "run_id"):
        run_id = str(sorted(frame["run_id"].unique())[0])
    study_id = None
    for df in (runs, frame):
        if run_id is not None and _has(df, "run_id", "study_id"):
            match = df.loc[df["run_id"] == run_id, "study_id"]
            if len(match):
                study_id = match.iloc[0]
                break
    return run_id, study_id


def _run_spans(spans: pd.DataFrame | None, run_id: str | None, study_id: str | None = None) -> pd.DataFrame:
    if not _has(spans, "run_id") or run_id is None:
        return pd.DataFrame()
    keep = spans["run_id"] == run_id
    if study_id is not None and "study_id" in spans.columns:
        keep &= spans["study_id"] == study_id
    return spans[keep]


_RUN_TOKEN_COLUMNS = ["agent", "t_s", "input_tokens", "output_tokens", "prompt_cum", "completion_cum", "total_cum"]


@dataclass(frozen=True)
class RunTokens:
    """Token use of one run over its time (data of :func:`tokens_over_time_data`)."""

    run_id: str | None
    """The run shown (given, else the typical run, :func:`pick_run`); None without runs."""
    calls: pd.DataFrame
    """One row per LLM call, in end-time order: ``agent`` (``?`` when unknown), ``t_s``
    (its end, seconds since the run's first span started), ``input_tokens``,
    ``output_tokens``, ``prompt_cum`` and ``completion_cum`` (cumulative within the agent,
    missing counted as 0) and ``total_cum`` (prompt + completion, cumulative over all
    agents). Empty when the run has no LLM call with token columns."""


def tokens_over_time_data(spans: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                          run_id: str | None = None) -> RunTokens:
    """Cumulative prompt and completion tokens of each agent over one run (see
    :class:`RunTokens`)."""
    run_id, study_id = _resolve_run(runs, spans, run_id)
    s = _run_spans(spans, run_id, study_id)
    llm = s[s["span_type"] == "llm"] if len(s) else s
    if not len(llm) or "input_tokens" not in llm.columns:
        return RunTokens(run_id, pd.DataFrame(columns=_RUN_TOKEN_COLUMNS))
    t0 = s["start_time_ns"].min()
    llm = llm.sort_values("end_time_ns")
    agent = llm["agent_name"].fillna("?")
    prompt, completion = llm["input_tokens"].fillna(0), llm["output_tokens"].fillna(0)
    calls = pd.DataFrame({"agent": agent, "t_s": (llm["end_time_ns"] - t0) / 1e9,
                          "input_tokens": llm["input_tokens"], "output_tokens": llm["output_tokens"],
                          "prompt_cum": prompt.groupby(agent.to_numpy()).cumsum(),
                          "completion_cum": completion.groupby(agent.to_numpy()).cumsum(),
                          "total_cum": (prompt + completion).cumsum()})
    return RunTokens(run_id, calls[_RUN_TOKEN_COLUMNS])


@dataclass(frozen=True)
class TokenCurves:
    """Cumulative tokens over time per group of runs, on one time grid shared by all groups
    (the data of ``figures.tokens_over_time_by_group``)."""

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
    if not _has(llm_calls, "run_id", "end_time_ns"):
        return None
    df = llm_calls
    is_llm = df["span_type"].astype(object).to_numpy() == "llm" if "span_type" in df.columns \
        else np.ones(len(df), dtype=bool)
    if not is_llm.any():
        return None
    keys = ["study_id", "run_id"] if "study_id" in df.columns and (runs is None or "study_id" in runs.columns) \
        else ["run_id"]
    # the run table: one row per run with its group columns
    if runs is not None and _has(runs, *keys):
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


_DELAY_PARTS = ["agent_s", "model_s", "tool_s", "handover_s"]


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
    keys = ["study_id", "run_id"] if _has(spans, "study_id") else ["run_id"]
    cols = [*keys, "e2e_s", "agent_s", "model_s", "tool_s", "handover_s"]
    if not _has(spans, "run_id", "span_type", "start_time_ns", "end_time_ns"):
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

        def union(*kinds, t=t, st=st, en=en):
            k = np.isin(t, kinds)
            return _union_ns(st[k], en[k]) / 1e9

        model, model_tool, busy = union("llm"), union("llm", "tool"), union("llm", "tool", "agent")
        e2e = (r1 - r0) / 1e9
        rows.append({**dict(zip(keys, key)), "e2e_s": e2e, "model_s": model, "tool_s": model_tool - model,
                     "agent_s": busy - model_tool, "handover_s": e2e - busy})
    return pd.DataFrame(rows, columns=cols)


def delay_breakdown_data(spans: pd.DataFrame, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The mean per run of each :func:`delay_breakdown` part per configuration cell: index
    the cell label (:data:`CONFIG_KEYS` the runs have, one per line; ``all runs`` without
    ``runs``), columns ``agent_s``, ``model_s``, ``tool_s``, ``handover_s`` (seconds). Empty
    without spans with timings."""
    d = delay_breakdown(spans)
    if not len(d):
        return pd.DataFrame(columns=_DELAY_PARTS, dtype=float)
    if runs is not None and _has(runs, "run_id"):
        keys = present_keys(runs, CONFIG_KEYS)
        on = [k for k in ("study_id", "run_id") if k in d.columns and k in runs.columns]
        d = d.merge(runs[[*on, *keys]], on=on, how="left")
    else:
        keys = []
    cells = _cells(d, keys)
    return pd.DataFrame([g[_DELAY_PARTS].mean() for _, g in cells], index=[k for k, _ in cells])


def _depths(s: pd.DataFrame) -> pd.Series:
    """Depth of each span in its run's tree (root 0), following ``parent_span_id``."""
    parent = dict(zip(s["span_id"], s["parent_span_id"]))
    memo: dict[str, int] = {}

    def depth(sid):
        chain: list[str] = []
        while sid in parent and sid not in memo and len(chain) < 1000:
            chain.append(sid)
            sid = parent[sid]
        d = memo.get(sid, -1)
        for c in reversed(chain):
            d += 1
            memo[c] = d
        return memo.get(chain[0], d) if chain else d

    return s["span_id"].map(depth)


_FLAME_COLUMNS = ["span_type", "label", "depth", "start_s", "duration_s"]


@dataclass(frozen=True)
class FlameGraph:
    """One run's span tree laid out over time (data of :func:`flame_graph_data`)."""

    run_id: str | None
    """The run shown (given, else the typical run, :func:`pick_run`)."""
    spans: pd.DataFrame
    """One row per span of the run, in the frames' order: ``span_type``, ``label`` (the
    span name without ``invoke_agent ``/``execute_tool ``, else its type), ``depth`` (root
    0), ``start_s`` (seconds since the run's first span started) and ``duration_s``. Empty
    when the run has no spans (or no span ids)."""
    total_s: float
    """Seconds from the run's first start to its last end (at least 1e-9)."""

    @property
    def max_depth(self) -> int:
        """The deepest span's depth (-1 without spans)."""
        return int(self.spans["depth"].max()) if len(self.spans) else -1


def flame_graph_data(spans: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                     run_id: str | None = None) -> FlameGraph:
    """The span tree of one run for an icicle layout (see :class:`FlameGraph`)."""
    run_id, study_id = _resolve_run(runs, spans, run_id)
    s = _run_spans(spans, run_id, study_id)
    if not len(s) or "span_id" not in s.columns:
        return FlameGraph(run_id, pd.DataFrame(columns=_FLAME_COLUMNS), 1e-9)
    t0 = s["start_time_ns"].min()
    total = max((s["end_time_ns"].max() - t0) / 1e9, 1e-9)
    names = s["name"] if "name" in s.columns else pd.Series(None, index=s.index, dtype=object)
    labels = [(t if is_missing(n) else str(n)).replace("invoke_agent ", "").replace("execute_tool ", "")
              for t, n in zip(s["span_type"], names)]
    out = pd.DataFrame({"span_type": s["span_type"], "label": labels, "depth": _depths(s),
                        "start_s": (s["start_time_ns"] - t0) / 1e9,
                        "duration_s": (s["end_time_ns"] - s["start_time_ns"]) / 1e9})
    return FlameGraph(run_id, out, total)


@dataclass(frozen=True)
class RunResources:
    """CPU and memory of one run over time, with its LLM and tool calls (data of
    :func:`resource_timeseries_data`)."""

    run_id: str | None
    """The run shown (given, else the typical run, :func:`pick_run`)."""
    samples: pd.DataFrame
    """One row per resource sample in time order: ``t_s`` (seconds since the run's first
    sample or span start), ``cpu_percent`` (100 = one core), ``rss_mb`` (resident memory,
    MB) and ``in_llm`` (the sample falls inside an LLM call). Empty without samples."""
    calls: pd.DataFrame
    """The run's LLM calls, then its tool calls: ``kind`` (``llm``/``tool``), ``start_s``,
    ``end_s``."""
    cpu_in_llm: float
    """Mean CPU % of the samples inside LLM calls; NaN unless samples fall both inside and
    outside LLM calls."""
    cpu_outside: float
    """Mean CPU % of the other samples; NaN under the same condition."""


def resource_timeseries_data(resources: pd.DataFrame | None, spans: pd.DataFrame | None = None,
                             runs: pd.DataFrame | None = None, run_id: str | None = None) -> RunResources:
    """One run's resource samples against its LLM and tool calls (see :class:`RunResources`)."""
    run_id, study_id = _resolve_run(runs, resources, run_id)
    r = _run_spans(resources, run_id, study_id)
    no_calls = pd.DataFrame({"kind": pd.Series(dtype=object), "start_s": pd.Series(dtype=float),
                             "end_s": pd.Series(dtype=float)})
    if not len(r) or "cpu_percent" not in r.columns:
        return RunResources(run_id, pd.DataFrame(columns=["t_s", "cpu_percent", "rss_mb", "in_llm"]), no_calls,
                            np.nan, np.nan)
    r = r.sort_values("time_ns")
    s = _run_spans(spans, run_id, study_id)
    t0 = min(r["time_ns"].min(), s["start_time_ns"].min()) if len(s) else r["time_ns"].min()
    in_llm = np.zeros(len(r), dtype=bool)
    calls = []
    for kind in ("llm", "tool"):
        k = s[s["span_type"] == kind] if len(s) else s
        for sp in k.itertuples():
            calls.append({"kind": kind, "start_s": (sp.start_time_ns - t0) / 1e9, "end_s": (sp.end_time_ns - t0) / 1e9})
            if kind == "llm":
                in_llm |= ((r["time_ns"] >= sp.start_time_ns) & (r["time_ns"] <= sp.end_time_ns)).to_numpy()
    samples = pd.DataFrame({"t_s": (r["time_ns"] - t0) / 1e9, "cpu_percent": r["cpu_percent"],
                            "rss_mb": r["rss_bytes"] / _MB, "in_llm": in_llm})
    cpu = r["cpu_percent"].to_numpy()
    inside, outside = (cpu[in_llm].mean(), cpu[~in_llm].mean()) if in_llm.any() and (~in_llm).any() \
        else (np.nan, np.nan)
    return RunResources(run_id, samples, pd.DataFrame(calls) if calls else no_calls, inside, outside)


# --------------------------------------------------------------------------- similarity (fig 7, 8)

def _metric_columns(df: pd.DataFrame) -> dict[str, str]:
    """metric -> column holding its group mean (``jaccard_mean`` or plain ``jaccard``)."""
    out = {}
    for m in ("jaccard", "lcs"):
        col = next((c for c in (f"{m}_mean", m) if c in df.columns), None)
        if col:
            out[m] = col
    return out


def similarity_within_data(within: pd.DataFrame | None, by: str | Sequence[str] | None = None) -> pd.DataFrame | None:
    """Figure 7: one row per group of ``within`` (``callgraph.similarity_within``) with
    ``label`` (the group keys one per line, ``n=<runs>`` and ``(n<2)`` for groups too small
    to compare) and the metrics it has: ``jaccard`` and/or ``lcs`` (the group means, from
    ``jaccard_mean``/``lcs_mean`` or plain ``jaccard``/``lcs``). The group keys are ``by``,
    else every column that is not a metric or a count. None without a metric."""
    if within is None or not len(within) or not _metric_columns(within):
        return None
    df = within.reset_index() if not isinstance(within.index, pd.RangeIndex) else within
    metrics = _metric_columns(df)
    skip = {"n_runs", "n_pairs", "pairs", "n", "index", "runs"}
    keys = [by] if isinstance(by, str) else list(by) if by else [
        c for c in df.columns if not c.startswith(("jaccard", "lcs")) and c not in skip]
    labels = ["\n".join(key_label(k, v) for k, v in zip(keys, row))
              for row in df[keys].itertuples(index=False)] if keys else [str(i) for i in range(len(df))]
    if "n_runs" in df.columns:
        labels = [f"{lab}\nn={n}" + (" (n<2)" if n < 2 else "") for lab, n in zip(labels, df["n_runs"])]
    return pd.DataFrame({"label": labels, **{m: df[col].astype(float).to_numpy() for m, col in metrics.items()}})


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
    # every other column that is not a statistic is a facet key (instance, tools setting, ...)
    stats = {value, "n_pairs", "pairs", "n"}
    facets = [c for c in between.columns if c not in (a, b) and c not in stats
              and not str(c).startswith(("jaccard", "lcs", "median", "mean", "value"))]
    facets = present_keys(between, facets)
    out = {}
    between = between.assign(**{c: between[c].map(lambda v: key_label("group", v)) for c in (a, b)})
    for key, g in (_cells(between, facets) if facets else [("all", between)]):
        m = g.pivot_table(index=a, columns=b, values=value, aggfunc="median")
        groups = sorted(set(m.index) | set(m.columns), key=str)
        m = m.reindex(index=groups, columns=groups)
        m = m.combine_first(m.T)  # symmetric: fill the mirror of one-sided pairs
        out[str(key)] = m
    return out


def similarity_between_data(between, metric: str = "lcs") -> dict[str, pd.DataFrame]:
    """Figure 8: facet -> square matrix (groups x groups) of the median pairwise ``metric``
    similarity, made symmetric; only facets with two or more groups. ``between`` is a square
    DataFrame (facet ``all``), a dict ``{facet: square DataFrame}``, or a long DataFrame
    with ``group_a``, ``group_b``, a value column (``<metric>``, ``<metric>_median``,
    ``median`` or ``value``) and facet columns: every other column that is not a statistic
    (``n_pairs``, ``jaccard_*``, ``lcs_*``), e.g. ``instance`` and ``tools_enabled`` as
    ``callgraph.similarity_between(..., panel=["instance", "tools_enabled"])`` returns them,
    so tools on and off are never pooled. A facet's key is its labels one per line
    (``"crag\ntools on"``)."""
    return {facet: m for facet, m in _as_matrices(between, metric.lower()).items() if len(m) >= 2}


# --------------------------------------------------------------------------- cost, latency, accuracy

def latency_vs_cost_data(runs: pd.DataFrame | None) -> pd.DataFrame | None:
    """Figure 9a: one row per run (index kept from ``runs``) with ``cost_usd`` and
    ``duration_s``, ordered by instance group then backend group (each sorted by label):
    ``instance`` and ``backend`` (labels), ``instance_index`` and ``backend_index`` (their
    positions, for colour and marker) and ``label`` (the legend entry: the instance, with
    the backend when there are several). None when no run has both a duration and a cost."""
    if not _has(runs, "duration_s", "cost_usd") or not (runs["duration_s"].notna() & runs["cost_usd"].notna()).any():
        return None
    backends = _cells(runs, ["backend"])
    parts = []
    for i, (inst, g) in enumerate(_cells(runs, ["instance"])):
        for j, (backend, b) in enumerate(backends):
            h = g.loc[g.index.intersection(b.index)]
            if len(h):
                parts.append(h[["cost_usd", "duration_s"]].assign(
                    instance=inst, backend=backend, instance_index=i, backend_index=j,
                    label=inst if len(backends) < 2 else f"{inst} / {backend}"))
    return pd.concat(parts)[["instance", "backend", "instance_index", "backend_index", "label", "cost_usd",
                             "duration_s"]]


def _acc_per_repeat(runs: pd.DataFrame) -> pd.Series:
    """Accuracy of each (configuration cell, repeat) over its tasks (the spread of accuracy
    across repeats); NaN where no run of it was judged."""
    keys = present_keys(runs, [*CONFIG_KEYS, "repeat"])
    acc = _accuracy(runs)
    if not keys:
        return pd.Series([acc.mean()])
    return acc.groupby([runs[k].astype(object).map(lambda v, k=k: key_label(k, v)) for k in keys]).mean()


def cost_latency_accuracy_data(runs: pd.DataFrame | None, by: str = "instance") -> pd.DataFrame | None:
    """Figures 9b (``by="instance"``) and 10 (``by="backend"``): per group of ``by``, as a
    long box frame, ``cost_usd`` and ``duration_s`` per run and ``accuracy`` per
    (configuration cell, repeat): the share of judged runs that are correct over its tasks
    (NaN when none was judged). None without cost and duration columns."""
    if not _has(runs, "cost_usd", "duration_s"):
        return None
    return _long(_cells(runs, [by]), {"cost_usd": lambda g: g["cost_usd"], "duration_s": lambda g: g["duration_s"],
                                      "accuracy": _acc_per_repeat})


_DELTA_COLUMNS = {"latency": ("delta_duration_s", "delta_latency_s", "delta_duration", "delta_latency"),
                  "cost": ("delta_cost_usd", "delta_cost"),
                  "accuracy": ("delta_accuracy", "delta_correct", "delta_acc")}


def tool_deltas_data(deltas: pd.DataFrame | None) -> pd.DataFrame | None:
    """Figure 12a: the paired deltas (tools on minus off, one row per matched pair as
    ``cost.paired_tool_deltas`` returns them) per (instance, backend) group as a long box
    frame whose metrics are ``latency`` and ``cost`` (those with a column:
    ``delta_duration_s``, ``delta_cost_usd`` or an alias). Accuracy is not a box of per-pair
    -1/0/+1 deltas (every median would be 0) but a rate with a confidence interval:
    :func:`tool_accuracy_data` (figure 12b). None without pairs or without a delta column."""
    if deltas is None or not len(deltas):
        return None
    found = {k: next((c for c in names if c in deltas.columns), None) for k, names in _DELTA_COLUMNS.items()
             if k != "accuracy"}
    cols = {k: v for k, v in found.items() if v is not None}
    if not cols:
        return None
    metrics: dict[str, Callable[[pd.DataFrame], pd.Series]] = {k: _column(c) for k, c in cols.items()}
    return _long(_cells(deltas, ["instance", "backend"]), metrics)


def _column(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    """A getter of column ``name``."""
    return lambda g: g[name]


TOOL_ACCURACY_COLUMNS = ("group", "n_pairs", "n_tasks", "off", "off_low", "off_high", "on", "on_low", "on_high",
                         "delta", "delta_low", "delta_high")
"""Columns of :func:`tool_accuracy_data`."""


def tool_accuracy_data(deltas: pd.DataFrame | None, *, n: int = 2000, seed: int = 0,
                       ci: float = 0.95) -> pd.DataFrame | None:
    """Figure 12b: accuracy with tools off and on as rates with confidence intervals, per
    (instance, backend) group (:data:`TOOL_ACCURACY_COLUMNS`), from the matched pairs of
    ``cost.paired_tool_deltas`` whose runs were both judged (``correct_on`` and
    ``correct_off`` not missing). ``off``/``on`` are the shares of correct runs, ``delta``
    = on - off (the mean paired difference); each with a percentile bootstrap interval at
    level ``ci`` that resamples tasks (``task_id``; pairs when there is none), since the
    repeats of one task are correlated. ``n_pairs`` and ``n_tasks`` count what the rates
    rest on. None without judged pairs."""
    from maestro.analysis.stats import bootstrap_ci

    if not _has(deltas, "correct_on", "correct_off"):
        return None
    d = deltas.assign(correct_on=pd.to_numeric(deltas["correct_on"], errors="coerce"),
                      correct_off=pd.to_numeric(deltas["correct_off"], errors="coerce"))
    d = d[d["correct_on"].notna() & d["correct_off"].notna()]
    if not len(d):
        return None
    d = d.assign(_delta=d["correct_on"] - d["correct_off"])
    cluster = "task_id" if "task_id" in d.columns else None
    rows = []
    for label, g in _cells(d, ["instance", "backend"]):
        row: dict[str, Any] = {"group": label, "n_pairs": len(g),
                               "n_tasks": g["task_id"].nunique() if cluster else len(g)}
        for name, col in (("off", "correct_off"), ("on", "correct_on"), ("delta", "_delta")):
            b = bootstrap_ci(g, col, cluster=cluster, n=n, seed=seed, ci=ci)
            row.update({name: b["estimate"], f"{name}_low": b["low"], f"{name}_high": b["high"]})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TOOL_ACCURACY_COLUMNS))


# --------------------------------------------------------------------------- call graphs

@dataclass(frozen=True)
class CallGraphLayout:
    """One system's agent call graph over its runs, laid out for drawing (data of
    :func:`call_graph_data`)."""

    n_runs: int
    """Runs of the system (those without any hand-over included)."""
    nodes: pd.DataFrame
    """One row per agent: ``node``, ``kind`` (``io`` for ``__start__``/``__end__``, else
    ``agent``), ``layer`` (hand-overs from ``__start__`` on a shortest path; ``__end__``
    last; unreachable agents after the reachable ones) and ``x``, ``y`` (networkx
    ``multipartite_layout`` by layer, layers left to right)."""
    edges: pd.DataFrame
    """One row per (``source``, ``target``) hand-over: ``per_run`` (hand-overs per run, mean
    over all the system's runs: the edge width), ``share_runs`` (share of runs with at least
    one) and ``bytes_mean`` (mean message bytes per hand-over; NaN unknown)."""


def _barycentre(graph: Any, order: Mapping[str, float], node: str) -> float:
    """Mean position of ``node``'s already placed predecessors (0 without any)."""
    pos = [order[u] for u in graph.predecessors(node) if u in order]
    return float(np.mean(pos)) if pos else 0.0


def call_graph_data(edges: pd.DataFrame | None, runs: pd.DataFrame | None = None,
                    by: str = "instance") -> dict[str, CallGraphLayout]:
    """Appendix A.1 call graph, one per system (``by`` value, label-sorted): the agents as
    nodes and the agent-to-agent hand-overs (``edges_df`` rows) as edges weighted by how
    often they occur per run. With ``runs`` the system's run count comes from there (a run
    without hand-overs counts, with none); else from the runs in ``edges``. Empty without
    hand-overs."""
    import networkx as nx

    if not _has(edges, "run_id", "message_source", "message_target"):
        return {}
    keys = ["study_id", "run_id"] if "study_id" in edges.columns and (runs is None or "study_id" in runs.columns) \
        else ["run_id"]
    e = edges.assign(_src=edges["message_source"].map(lambda v: key_label("agent", v)),
                     _tgt=edges["message_target"].map(lambda v: key_label("agent", v)),
                     _bytes=pd.to_numeric(edges["bytes"], errors="coerce") if "bytes" in edges.columns else np.nan)
    systems = _cells(e, [by]) if by in e.columns else [("all runs", e)]
    run_groups = dict(_cells(runs, [by])) if runs is not None and _has(runs, by, *keys) else {}
    out = {}
    for label, g in systems:
        r = run_groups.get(label)
        n_runs = len(r[keys].drop_duplicates()) if r is not None else len(g[keys].drop_duplicates())
        n_runs = max(n_runs, 1)
        grouped = g.groupby(["_src", "_tgt"], sort=True)
        table = pd.DataFrame({
            "per_run": grouped.size() / n_runs,
            "share_runs": grouped.apply(lambda h: len(h[keys].drop_duplicates()), include_groups=False) / n_runs,
            "bytes_mean": grouped["_bytes"].mean(),
        }).reset_index().rename(columns={"_src": "source", "_tgt": "target"})
        graph = nx.DiGraph()
        graph.add_edges_from(zip(table["source"], table["target"]))
        start = "__start__" if "__start__" in graph else None
        dist = nx.single_source_shortest_path_length(graph, start) if start else {}
        reach = max(dist.values(), default=-1)
        layer = {node: dist.get(node, reach + 1) for node in graph.nodes}
        if "__end__" in layer:
            layer["__end__"] = max(v for k, v in layer.items() if k != "__end__") + 1 if len(layer) > 1 else 0
        # order each layer by the mean position of its predecessors (fewer crossings), then name
        order: dict[str, float] = {}
        for lv in sorted(set(layer.values())):
            members = sorted((v for v in layer if layer[v] == lv), key=lambda v: (_barycentre(graph, order, v), v))
            for i, v in enumerate(members):
                order[v] = i - (len(members) - 1) / 2
        laid = nx.DiGraph()
        for v in sorted(graph.nodes, key=lambda v: (layer[v], order[v])):
            laid.add_node(v, layer=layer[v])
        pos = nx.multipartite_layout(laid, subset_key="layer") if len(laid) > 1 else {v: (0.0, 0.0) for v in laid}
        nodes = pd.DataFrame({"node": list(laid.nodes),
                              "kind": ["io" if v in ("__start__", "__end__") else "agent" for v in laid.nodes],
                              "layer": [layer[v] for v in laid.nodes],
                              "x": [float(pos[v][0]) for v in laid.nodes],
                              "y": [float(pos[v][1]) for v in laid.nodes]})
        out[label] = CallGraphLayout(n_runs=n_runs, nodes=nodes, edges=table)
    return out


@dataclass(frozen=True)
class ParetoData:
    """Configuration cells in the cost-accuracy plane (data of :func:`pareto_data`)."""

    points: pd.DataFrame
    """One row per cell (index 0..n-1): ``cost``, ``accuracy``, ``label`` (the given
    ``label``, else instance / backend / tools), ``shape`` (the architecture label the
    marker stands for, ``all cells`` without one) and ``on_frontier`` (bool)."""
    shape_key: str | None
    """The column ``shape`` comes from (``instance`` or ``framework``); None without one."""
    cost_err: np.ndarray | None
    """(2, n) distances from ``cost`` down to the interval's low and up to its high end
    (clipped at 0); None without intervals."""
    accuracy_err: np.ndarray | None
    """The same for ``accuracy``."""
    frontier_freq: np.ndarray | None
    """Share of bootstrap draws in which each cell is on the frontier; None when unknown."""

    @property
    def frontier(self) -> pd.DataFrame:
        """The frontier cells, by increasing cost."""
        return self.points[self.points["on_frontier"]].sort_values("cost")


def pareto_data(points: pd.DataFrame | None, bootstrap: pd.DataFrame | None = None) -> ParetoData | None:
    """The cost-accuracy Pareto plane of configuration cells (see :class:`ParetoData`).

    ``points``: one row per cell with ``cost`` (or ``mean_cost_usd``/``cost_usd``),
    ``accuracy`` and optionally ``on_frontier``, ``label``, CI columns (``cost_usd_low``/
    ``cost_usd_high``, ``accuracy_low``/``accuracy_high``, as ``cost.pareto_bootstrap``
    returns) and ``frontier_freq``; ``bootstrap`` (optional) supplies ``frontier_freq``
    row for row instead. None when no cell has both a cost and an accuracy."""
    if points is None or not len(points):
        return None
    cost = next((c for c in ("cost", "mean_cost_usd", "cost_usd") if c in points.columns), None)
    acc = next((c for c in ("accuracy", "acc") if c in points.columns), None)
    if cost is None or acc is None or not (points[cost].notna() & points[acc].notna()).any():
        return None
    p = points.reset_index(drop=True)
    labels = p["label"].astype(str) if "label" in p.columns else pd.Series(
        [run_label(r).replace("\n", " / ") for _, r in p.iterrows()])
    freq = p["frontier_freq"].to_numpy(dtype=float) if "frontier_freq" in p.columns else None
    if freq is None and bootstrap is not None and len(bootstrap):
        fcol = next((c for c in ("frontier_freq", "p_frontier", "frequency") if c in bootstrap.columns), None)
        if fcol and len(bootstrap) == len(p):
            freq = bootstrap[fcol].to_numpy(dtype=float)

    def err(col: str, short: str):
        lo = next((c for c in (f"{col}_low", f"{short}_lo") if c in p.columns), None)
        hi = next((c for c in (f"{col}_high", f"{short}_hi") if c in p.columns), None)
        if lo is None or hi is None:
            return None
        return np.vstack([p[col] - p[lo], p[hi] - p[col]]).astype(float).clip(min=0)

    shape_key = next((c for c in ("instance", "framework") if c in p.columns), None)
    shapes = p[shape_key].map(lambda v: key_label(shape_key, v)) if shape_key else \
        pd.Series("all cells", index=p.index)
    frontier = p["on_frontier"].fillna(False).astype(bool).to_numpy() if "on_frontier" in p.columns \
        else np.zeros(len(p), dtype=bool)
    out = pd.DataFrame({"cost": p[cost], "accuracy": p[acc], "label": labels, "shape": shapes,
                        "on_frontier": frontier})
    return ParetoData(points=out, shape_key=shape_key, cost_err=err(cost, "cost"), accuracy_err=err(acc, "accuracy"),
                      frontier_freq=freq)


# --------------------------------------------------------------------------- failures (fig 11)

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


@dataclass(frozen=True)
class FailureShares:
    """Failure categories per group as percentages (data of :func:`failure_breakdown_data`)."""

    percent: pd.DataFrame
    """Index the ``by`` groups (labels), columns the categories (values, in the input's
    order): % of the group's failures; each row sums to 100 (0 for a group without any)."""
    n: pd.Series
    """Failures per group (the sum of the given counts or shares), same index."""


def failure_breakdown_data(breakdown: pd.DataFrame | None, by: str = "backend") -> FailureShares | None:
    """Figure 11a: the share of each failure category per ``by`` group.

    ``breakdown``: a wide table (``by`` column or index = groups, columns = categories,
    counts or shares; ``total``/``n``/``runs`` columns ignored) or a long one with ``by``,
    ``category`` and ``count`` (or ``n``/``share``/``percent``) columns, as
    ``failures.failure_breakdown`` returns; a long one without a value column counts rows.
    None when there is no failure."""
    wide = _wide_breakdown(breakdown, by)
    if wide is None or not wide.size or float(np.nansum(wide.to_numpy(dtype=float))) == 0:
        return None
    share = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0) * 100
    return FailureShares(percent=share, n=wide.sum(axis=1))


def judge_agreement_data(kappa: pd.DataFrame | None) -> pd.DataFrame | None:
    """Figure 11b: the square judges x judges matrix of Cohen's kappa. ``kappa`` is such a
    matrix already (its numeric columns are kept) or a long table with ``judge_a``,
    ``judge_b`` and ``kappa`` (as ``judges.judge_agreement`` returns), made symmetric with
    1 on the diagonal. None without rows."""
    if kappa is None or not isinstance(kappa, pd.DataFrame) or not len(kappa):
        return None
    if {"judge_a", "judge_b", "kappa"} <= set(kappa.columns):
        m = kappa.pivot_table(index="judge_a", columns="judge_b", values="kappa", aggfunc="mean")
        names = sorted(set(m.index) | set(m.columns), key=str)
        m = m.reindex(index=names, columns=names)
        m = m.combine_first(m.T)
        for n in names:
            if np.isnan(m.loc[n, n]):
                m.loc[n, n] = 1.0
        return m
    return kappa.select_dtypes(include="number")
