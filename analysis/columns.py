"""Declarative column specs of the analysis DataFrames.

Every frame of :mod:`maestro.analysis.frames` is defined by one list of :class:`ColumnSpec`:
a column is either copied from a stored column (``source``) or computed by a vectorised
extractor from the frame's base table and a :class:`FrameContext` (the study's price
snapshot, per-run span aggregates). ``columns=`` on a frame function selects specs by name;
the docstrings double as the frames' documentation (:func:`describe`).

Stored columns are not written out here: their specs are generated from the store's schema
(``maestro.store.schema``), with the store's docs and the readers' dtypes
(``maestro.store.reader.PANDAS_DTYPES``), so a stored column has the same name and dtype in
``load_study``, every frame and the duckdb views. dtypes are pandas dtypes: ``Int64``
(nullable integer), ``float64``, ``boolean`` (nullable), ``str`` and ``datetime64[ns, UTC]``
(the timestamp after each ns time column); stored nulls stay missing, nothing is filled in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from maestro.store.reader import PANDAS_DTYPES, TIME_COLUMNS, TIMESTAMP_DTYPE, utc_timestamps
from maestro.store.schema import RESOURCE_COLUMNS, RUN_COLUMNS, RUN_IDENTITY_COLUMNS, SPAN_COLUMNS, Column

__all__ = [
    "ColumnSpec",
    "FrameContext",
    "RUN_SPECS",
    "SPAN_SPECS",
    "LLM_CALL_SPECS",
    "TOOL_CALL_SPECS",
    "EDGE_SPECS",
    "RESOURCE_SPECS",
    "FRAME_SPECS",
    "describe",
    "is_missing",
    "key_label",
    "select_specs",
    "markdown_table",
    "update_docs",
    "write_docs",
]


@dataclass
class FrameContext:
    """What extractors may use besides the frame's base table (one study at a time)."""

    info: dict[str, Any]
    """The study's study.json."""
    run_aggregates: pd.DataFrame | None = None
    """Per-run aggregates from spans (index run_id: n_agents, n_edges, ...); None when not needed."""
    runs: pd.DataFrame | None = None
    """The study's runs.parquet (for joining run attributes onto span-level frames)."""

    def prices(self) -> dict[str, tuple[float, float]]:
        """Backend spec -> (input, output) USD per 1M tokens from the study's price snapshot."""
        models = (self.info.get("prices") or {}).get("models") or {}
        out = {}
        for spec, p in models.items():
            try:
                out[spec] = (float(p["input"]), float(p["output"]))
            except (KeyError, TypeError, ValueError):
                continue  # a malformed entry prices nothing rather than breaking the frame
        return out


Extractor = Callable[[pd.DataFrame, FrameContext], Any]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an analysis frame."""

    name: str
    """Column name in the frame."""
    dtype: str
    """pandas dtype the column is cast to (``Int64``, ``float64``, ``boolean``, ``str``)."""
    doc: str
    """What the column holds."""
    source: str | None = None
    """Stored column it is copied from (defaults to ``name`` when no extractor is given)."""
    extract: Extractor | None = field(default=None, compare=False)
    """Vectorised extractor ``(base_table, context) -> Series/array``; wins over ``source``."""
    needs: frozenset[str] = frozenset()
    """Extra data the extractor needs: ``{"spans"}`` for per-run span aggregates."""

    def compute(self, base: pd.DataFrame, ctx: FrameContext) -> pd.Series:
        if self.extract is not None:
            values = self.extract(base, ctx)
        else:
            src = self.source or self.name
            if src not in base.columns:
                values = pd.Series([None] * len(base), index=base.index, dtype=object)
            else:
                values = base[src]
        s = values if isinstance(values, pd.Series) else pd.Series(values, index=base.index)
        return _cast(s, self.dtype, self.name)


def _cast(s: pd.Series, dtype: str, name: str) -> pd.Series:
    try:
        if dtype == "str":
            # keep missing values missing (astype(str) would write "None")
            return s.astype(object).where(s.notna(), None).astype("str")
        if dtype == "boolean" and s.dtype == object:
            return s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else bool(v)).astype(dtype)
        return s.astype(dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(f"column {name!r}: cannot cast to {dtype} ({e})") from e


def select_specs(specs: list[ColumnSpec], columns: list[str] | tuple[str, ...] | None, frame: str) -> list[ColumnSpec]:
    """The specs named in ``columns`` (all when None), in the order asked for."""
    if columns is None:
        return list(specs)
    by_name = {s.name: s for s in specs}
    unknown = [c for c in columns if c not in by_name]
    if unknown:
        raise ValueError(f"{frame}: unknown column(s) {unknown}; available: {sorted(by_name)}")
    return [by_name[c] for c in columns]


def describe(frame: str) -> pd.DataFrame:
    """The columns of one frame (``runs``, ``spans``, ``llm_calls``, ...) with dtype and doc."""
    if frame not in FRAME_SPECS:
        raise ValueError(f"unknown frame {frame!r}; known: {sorted(FRAME_SPECS)}")
    return pd.DataFrame([{"column": s.name, "dtype": s.dtype, "doc": s.doc} for s in FRAME_SPECS[frame]])


def is_missing(value) -> bool:
    """True for a missing or blank value (None, NaN, pd.NA, NaT, "")."""
    return value is None or value is pd.NA or (not isinstance(value, str) and bool(pd.isna(value))) or value == ""


def key_label(key: str, value) -> str:
    """How a value of group key ``key`` is shown in labels: ``tools on``/``tools off`` for
    ``tools_enabled``, ``no <key>`` (``tools unknown``) when missing, else the value; never
    "nan", "None" or "<NA>"."""
    if key == "tools_enabled":
        return "tools unknown" if is_missing(value) else ("tools on" if bool(value) else "tools off")
    return f"no {key}" if is_missing(value) else str(value)


# --- extractors (pure, vectorised) -------------------------------------------------------

def _col(base: pd.DataFrame, name: str) -> pd.Series:
    return base[name] if name in base.columns else pd.Series([None] * len(base), index=base.index, dtype=object)


def _num(base: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(_col(base, name), errors="coerce")


def _correct(base, ctx):
    j = _col(base, "judgement")
    return np.where(j == "correct", 1.0, np.where(j == "wrong", 0.0, np.nan))


def _run_bytes(base, ctx):
    parts = [_num(base, c) for c in ("llm_request_bytes", "llm_response_bytes", "a2a_bytes")]
    return parts[0].fillna(0) + parts[1].fillna(0) + parts[2].fillna(0)


def _config(base, ctx):
    keys = ("instance", "backend", "tools_enabled")
    return [" | ".join(key_label(k, v) for k, v in zip(keys, row)) for row in zip(*(_col(base, k) for k in keys))]


def _agg(name: str):
    def extract(base, ctx):
        agg = ctx.run_aggregates
        if agg is None or name not in agg.columns:
            return pd.Series([None] * len(base), index=base.index, dtype=object)
        # a run without a span file stays missing (unknown), not 0
        return base["run_id"].map(agg[name])

    return extract


def _mb(name: str):
    return lambda base, ctx: _num(base, name) / 1e6


def _seconds(name: str):
    return lambda base, ctx: _num(base, name) / 1e9


def _model(base, ctx):
    resp = _col(base, "response_model")
    return resp.where(resp.notna() & (resp.astype(str) != ""), _col(base, "request_model"))


def _price(which: int):
    def extract(base, ctx):
        prices = ctx.prices()
        return _col(base, "backend").map(lambda b: prices[b][which] if b in prices else np.nan).astype(float)

    return extract


def _llm_cost(base, ctx):
    pin, pout = _price(0)(base, ctx), _price(1)(base, ctx)
    return (_num(base, "input_tokens").fillna(0) * pin + _num(base, "output_tokens").fillna(0) * pout) / 1e6


def _run_attr(name: str):
    def extract(base, ctx):
        runs = ctx.runs
        if runs is None or name not in runs.columns or len(runs) == 0:
            return pd.Series([None] * len(base), index=base.index, dtype=object)
        return base["run_id"].map(runs.set_index("run_id")[name])

    return extract


def _attempt_of_span(base, ctx):
    # agent.retry.attempt_number counts from 1; spans without it are first attempts
    return _num(base, "retry_attempt").fillna(1)


def _edge_bytes(base, ctx):
    b = _num(base, "input_bytes")
    return b.where(b.notna(), _num(base, "total_bytes"))


def _edge_order(base, ctx):
    # the frames sort message spans by (run, start time) before extracting, so the
    # position within the run is the hand-over order
    return base.groupby("run_id", sort=False).cumcount()


def _t_rel(base, ctx):
    t = _num(base, "time_ns")
    return (t - t.groupby(base["run_id"]).transform("min")) / 1e9


def _timestamp(name: str):
    return lambda base, ctx: utc_timestamps(_col(base, name))


def _is_error(base, ctx):
    return _col(base, "status_code") == "ERROR"


def _n_events(base, ctx):
    def count(v):
        if not v:
            return 0
        try:
            return len(json.loads(v))
        except (TypeError, ValueError):
            return 0

    return _col(base, "events_json").map(count)


# --- spec lists ----------------------------------------------------------------------------
# A stored column has one name, dtype and doc everywhere: its spec is generated from the
# store's schema (maestro.store.schema) with the readers' dtypes (maestro.store.reader), so
# load_study, the frames and the duckdb views agree. Specs written out below are derived,
# analysis-only columns.

def _stored(columns: list[Column], after: dict[str, list[ColumnSpec]] | None = None) -> list[ColumnSpec]:
    """Specs of stored ``columns`` in store order, each ns time column followed by its UTC
    timestamp and each column named in ``after`` by the derived specs listed there."""
    after = after or {}
    unknown = set(after) - {c.name for c in columns}
    if unknown:
        raise ValueError(f"derived columns placed after unknown stored column(s) {sorted(unknown)}")
    out = []
    for c in columns:
        out.append(ColumnSpec(c.name, PANDAS_DTYPES[str(c.type)], c.doc))
        if c.name in TIME_COLUMNS:
            out.append(ColumnSpec(TIME_COLUMNS[c.name], TIMESTAMP_DTYPE, f"`{c.name}` as a UTC timestamp.",
                                  extract=_timestamp(c.name)))
        out.extend(after.get(c.name, ()))
    return out


def _pick(specs: list[ColumnSpec], names: list[str]) -> list[ColumnSpec]:
    """The specs called ``names``, in that order (a frame showing part of another's columns)."""
    by_name = {s.name: s for s in specs}
    return [by_name[n] for n in names]


_SPAN_DERIVED = {
    "duration_ns": [ColumnSpec("latency_s", "float64", "Span duration (s).", extract=_seconds("duration_ns"))],
    "status_code": [ColumnSpec("is_error", "boolean", "status_code == ERROR.", extract=_is_error)],
    "retry_attempt": [ColumnSpec("attempt", "Int64", "agent.retry.attempt_number with 1 for spans that carry none.",
                                 extract=_attempt_of_span)],
    "events_json": [ColumnSpec("n_events", "Int64", "Span events (e.g. exceptions).", extract=_n_events)],
}

RUN_SPECS: list[ColumnSpec] = _stored(RUN_COLUMNS, after={
    "task_id": [ColumnSpec("config", "str", "Configuration label `instance | backend | tools on/off`.",
                           extract=_config)],
    "score": [ColumnSpec("correct", "float64", "1.0 when judged correct, 0.0 when wrong, NaN when unjudged "
                         "(mean = accuracy).", extract=_correct)],
    "a2a_bytes": [ColumnSpec("bytes", "Int64", "llm_request_bytes + llm_response_bytes + a2a_bytes.",
                             extract=_run_bytes)],
    "messages": [
        ColumnSpec("n_agents", "Int64", "Distinct agents with at least one agent span (from the span files).",
                   extract=_agg("n_agents"), needs=frozenset({"spans"})),
        ColumnSpec("n_edges", "Int64", "Distinct (source, target) message edges (from the span files).",
                   extract=_agg("n_edges"), needs=frozenset({"spans"})),
        ColumnSpec("n_error_spans", "Int64", "Spans with status ERROR (from the span files).",
                   extract=_agg("n_error_spans"), needs=frozenset({"spans"})),
        ColumnSpec("max_retry_attempt", "Int64", "Highest agent.retry.attempt_number on any span (1 = no retry).",
                   extract=_agg("max_retry_attempt"), needs=frozenset({"spans"})),
    ],
    "rss_min_bytes": [
        ColumnSpec("rss_mean_mb", "float64", "Mean resident memory (MB, 1e6 bytes).", extract=_mb("rss_mean_bytes")),
        ColumnSpec("rss_peak_mb", "float64", "Peak resident memory (MB).", extract=_mb("rss_peak_bytes")),
        ColumnSpec("rss_min_mb", "float64", "Minimum resident memory (MB).", extract=_mb("rss_min_bytes")),
    ],
})

SPAN_SPECS: list[ColumnSpec] = _stored(SPAN_COLUMNS, after=_SPAN_DERIVED)

_IDENTITY = [c.name for c in RUN_IDENTITY_COLUMNS]
_SPAN_CORE = [*_IDENTITY, "span_id", "parent_span_id", "name", "agent_name", "start_time_ns", "start_time",
              "end_time_ns", "end_time", "duration_ns", "latency_s", "status_code"]

LLM_CALL_SPECS: list[ColumnSpec] = _pick(SPAN_SPECS, _SPAN_CORE) + [
    ColumnSpec("model", "str", "gen_ai.response.model, else gen_ai.request.model.", extract=_model),
    *_pick(SPAN_SPECS, ["request_model", "response_model", "provider"]),
    ColumnSpec("simulated", "boolean", "Whether the run's backend was simulated (from runs.parquet).",
               extract=_run_attr("simulated")),
    *_pick(SPAN_SPECS, ["input_tokens", "output_tokens", "total_tokens", "usage_estimated", "input_bytes",
                        "output_bytes", "total_bytes", "http_attempts"]),
    ColumnSpec("price_input_per_mtok", "float64", "USD per 1M input tokens (study price snapshot; NaN unknown).",
               extract=_price(0)),
    ColumnSpec("price_output_per_mtok", "float64", "USD per 1M output tokens (study price snapshot).",
               extract=_price(1)),
    ColumnSpec("cost_usd", "float64", "input x in-price + output x out-price (NaN when unpriced).",
               extract=_llm_cost),
]

TOOL_CALL_SPECS: list[ColumnSpec] = _pick(SPAN_SPECS, [*_SPAN_CORE, "tool_name", "tool_call_id", "tool_type",
                                                       "input_bytes", "output_bytes"])

EDGE_SPECS: list[ColumnSpec] = _pick(SPAN_SPECS, [*_IDENTITY, "span_id", "parent_span_id"]) + [
    ColumnSpec("order", "Int64", "0-based position of the hand-over within its run (by start time).",
               extract=_edge_order),
    *_pick(SPAN_SPECS, ["message_source", "message_target"]),
    ColumnSpec("bytes", "Int64", "Serialised message bytes (`input_bytes`, else `total_bytes`).",
               extract=_edge_bytes),
    *_pick(SPAN_SPECS, ["is_in_process_call", "start_time_ns", "start_time"]),
]

RESOURCE_SPECS: list[ColumnSpec] = _stored(RESOURCE_COLUMNS, after={
    "run_id": [ColumnSpec(c.name, PANDAS_DTYPES[str(c.type)], f"{c.doc} (From runs.parquet.)",
                          extract=_run_attr(c.name)) for c in RUN_IDENTITY_COLUMNS[2:]],
    "time_ns": [ColumnSpec("t_s", "float64", "Seconds since the run's first sample.", extract=_t_rel)],
    "rss_bytes": [ColumnSpec("rss_mb", "float64", "Resident memory (MB, 1e6 bytes).", extract=_mb("rss_bytes"))],
})

FRAME_SPECS: dict[str, list[ColumnSpec]] = {
    "runs": RUN_SPECS,
    "spans": SPAN_SPECS,
    "llm_calls": LLM_CALL_SPECS,
    "tool_calls": TOOL_CALL_SPECS,
    "edges": EDGE_SPECS,
    "resources": RESOURCE_SPECS,
}
"""Frame name -> its column specs."""


# --- documentation -------------------------------------------------------------------------

DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "analysis.md"
"""docs/analysis.md of the source checkout (the analysis package is installed editable)."""

_DOC_BLOCK = re.compile(r"(<!-- columns: ([\w-]+) -->\n)(.*?)(<!-- /columns -->)", re.DOTALL)


def markdown_table(frame: str) -> str:
    """The columns of one frame as a Markdown table: ``| column | dtype | description |``.

    ``frame`` is a frame name (``runs``) or its function's name (``runs_df``).
    docs/analysis.md embeds one such table per frame between ``<!-- columns: runs_df -->``
    and ``<!-- /columns -->``; :func:`write_docs` regenerates them.
    """
    key = frame[:-3] if frame.endswith("_df") else frame
    if key not in FRAME_SPECS:
        raise ValueError(f"unknown frame {frame!r}; known: {sorted(FRAME_SPECS)}")
    lines = ["| column | dtype | description |", "|---|---|---|"]
    # a literal | would end the table cell, even inside backticks
    lines += [f"| `{s.name}` | {s.dtype} | " + s.doc.replace("|", "\\|") + " |" for s in FRAME_SPECS[key]]
    return "\n".join(lines)


def update_docs(text: str) -> str:
    """``text`` with every ``<!-- columns: NAME -->`` ... ``<!-- /columns -->`` block
    replaced by ``markdown_table(NAME)`` (an unknown NAME raises ValueError)."""
    return _DOC_BLOCK.sub(lambda m: f"{m.group(1)}{markdown_table(m.group(2))}\n{m.group(4)}", text)


def write_docs(path: str | Path | None = None) -> bool:
    """Regenerate the column tables of docs/analysis.md (or ``path``) in place from the
    specs; True when the file changed. Run after editing a spec::

        python -c "from maestro.analysis.columns import write_docs; write_docs()"
    """
    p = Path(path) if path is not None else DOCS_PATH
    old = p.read_text(encoding="utf-8")
    new = update_docs(old)
    if new != old:
        p.write_text(new, encoding="utf-8")
    return new != old
