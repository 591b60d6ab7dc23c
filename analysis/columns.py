"""Declarative column specs of the analysis DataFrames.

Every frame of :mod:`maestro.analysis.frames` is defined by one list of :class:`ColumnSpec`:
a column is either copied from a stored column (``source``) or computed by a vectorised
extractor from the frame's base table and a :class:`FrameContext` (the study's price
snapshot, per-run span aggregates). ``columns=`` on a frame function selects specs by name;
the docstrings double as the frames' documentation (:func:`describe`).

dtypes are pandas dtypes: ``Int64`` (nullable integer), ``float64``, ``boolean`` (nullable)
and ``str``; stored nulls stay missing, nothing is filled in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

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
    tools = _col(base, "tools_enabled").map(lambda v: "tools on" if v is True or v == 1 else "tools off").astype(object)
    return _col(base, "instance").astype(str) + " | " + _col(base, "backend").astype(str) + " | " + tools.astype(str)


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

_IDENTITY = [
    ColumnSpec("study_id", "str", "Study id."),
    ColumnSpec("run_id", "str", "Run id (unique within the study)."),
    ColumnSpec("instance", "str", "MAS instance, e.g. `crag`."),
    ColumnSpec("framework", "str", "`langgraph`, `autogen`, `adk` or `custom`."),
    ColumnSpec("backend", "str", "Backend spec, e.g. `sim/strong`."),
    ColumnSpec("tools_enabled", "boolean", "Whether external tools were on."),
    ColumnSpec("repeat", "Int64", "Repeat index within the configuration cell."),
    ColumnSpec("seed", "Int64", "Run seed."),
    ColumnSpec("task_id", "str", "Task id."),
]

RUN_SPECS: list[ColumnSpec] = _IDENTITY + [
    ColumnSpec("config", "str", "Configuration label `instance | backend | tools on/off`.", extract=_config),
    ColumnSpec("model", "str", "Model name sent on the wire."),
    ColumnSpec("provider", "str", "gen_ai.provider.name of the backend."),
    ColumnSpec("simulated", "boolean", "True when the backend is maestro's simulated service."),
    ColumnSpec("status", "str", "success, failure, exception, timeout or crashed."),
    ColumnSpec("outcome", "str", "run.outcome: success or failure."),
    ColumnSpec("outcome_reason", "str", "Why the run ended as it did."),
    ColumnSpec("judgement", "str", "correct, wrong or unknown."),
    ColumnSpec("judgement_reason", "str", "How the judgement was reached."),
    ColumnSpec("correct", "float64", "1.0 when judged correct, 0.0 when wrong, NaN when unknown (mean = accuracy).",
               extract=_correct),
    ColumnSpec("exact_match", "float64", "Exact match against gold (0/1), NaN without gold."),
    ColumnSpec("f1", "float64", "Token F1 against gold, NaN without gold."),
    ColumnSpec("question", "str", "Task question (redacted); missing when answers are not stored or the study "
               "predates the column."),
    ColumnSpec("answer", "str", "Final answer (redacted); missing when answers are not stored."),
    ColumnSpec("gold", "str", "Gold answer of the task."),
    ColumnSpec("task_meta_json", "str", "Task metadata as JSON."),
    ColumnSpec("started_at_ns", "Int64", "Run start, ns since the Unix epoch."),
    ColumnSpec("duration_s", "float64", "Wall time of the run (s)."),
    ColumnSpec("input_tokens", "Int64", "Input tokens summed over the run's LLM spans."),
    ColumnSpec("output_tokens", "Int64", "Output tokens summed over the run's LLM spans."),
    ColumnSpec("total_tokens", "Int64", "input_tokens + output_tokens."),
    ColumnSpec("cost_usd", "float64", "Tokens x the study's price snapshot, summed over LLM spans only."),
    ColumnSpec("llm_request_bytes", "Int64", "HTTP request body bytes to model endpoints."),
    ColumnSpec("llm_response_bytes", "Int64", "HTTP response body bytes from model endpoints."),
    ColumnSpec("a2a_bytes", "Int64", "Serialised agent-to-agent message bytes."),
    ColumnSpec("bytes", "Int64", "llm_request_bytes + llm_response_bytes + a2a_bytes.", extract=_run_bytes),
    ColumnSpec("n_llm_calls", "Int64", "LLM spans in the run.", source="llm_calls"),
    ColumnSpec("n_tool_calls", "Int64", "Tool spans in the run.", source="tool_calls"),
    ColumnSpec("n_agent_turns", "Int64", "Agent spans in the run.", source="agent_turns"),
    ColumnSpec("n_messages", "Int64", "Agent-to-agent message records in the run.", source="messages"),
    ColumnSpec("n_agents", "Int64", "Distinct agents with at least one agent span (from the span files).",
               extract=_agg("n_agents"), needs=frozenset({"spans"})),
    ColumnSpec("n_edges", "Int64", "Distinct (source, target) message edges (from the span files).",
               extract=_agg("n_edges"), needs=frozenset({"spans"})),
    ColumnSpec("n_error_spans", "Int64", "Spans with status ERROR (from the span files).",
               extract=_agg("n_error_spans"), needs=frozenset({"spans"})),
    ColumnSpec("max_retry_attempt", "Int64", "Highest agent.retry.attempt_number on any span (1 = no retry).",
               extract=_agg("max_retry_attempt"), needs=frozenset({"spans"})),
    ColumnSpec("cpu_mean", "float64", "Mean CPU % over resource samples (100 = one core)."),
    ColumnSpec("cpu_peak", "float64", "Peak CPU %."),
    ColumnSpec("cpu_min", "float64", "Minimum CPU %."),
    ColumnSpec("rss_mean_mb", "float64", "Mean resident memory (MB, 1e6 bytes).", extract=_mb("rss_mean_bytes")),
    ColumnSpec("rss_peak_mb", "float64", "Peak resident memory (MB).", extract=_mb("rss_peak_bytes")),
    ColumnSpec("rss_min_mb", "float64", "Minimum resident memory (MB).", extract=_mb("rss_min_bytes")),
    ColumnSpec("resource_samples", "Int64", "Resource samples taken."),
    ColumnSpec("spans_dropped", "Int64", "Spans lost; > 0 flags the run."),
    ColumnSpec("clean", "boolean", "True when nothing was dropped and the run's files are complete."),
    ColumnSpec("attempt", "Int64", "How many times the runner started this run (resumes count)."),
    ColumnSpec("error", "str", "Traceback tail or runner error text (redacted)."),
]

_SPAN_CORE = [
    ColumnSpec("span_id", "str", "16-hex span id."),
    ColumnSpec("parent_span_id", "str", "Parent span id; missing for the run root."),
    ColumnSpec("agent", "str", "gen_ai.agent.name of the span.", source="agent_name"),
    ColumnSpec("start_time_ns", "Int64", "Start, ns since the Unix epoch."),
    ColumnSpec("end_time_ns", "Int64", "End, ns since the Unix epoch."),
    ColumnSpec("latency_s", "float64", "Span duration (s).", extract=_seconds("duration_ns")),
    ColumnSpec("status_code", "str", "UNSET, OK or ERROR."),
]

SPAN_SPECS: list[ColumnSpec] = _IDENTITY + _SPAN_CORE + [
    ColumnSpec("trace_id", "str", "32-hex trace id (one per run)."),
    ColumnSpec("name", "str", "Span name."),
    ColumnSpec("kind", "str", "OTel span kind."),
    ColumnSpec("span_type", "str", "run, agent, llm, tool, message or other."),
    ColumnSpec("operation", "str", "gen_ai.operation.name."),
    ColumnSpec("duration_ns", "Int64", "end - start (ns)."),
    ColumnSpec("is_error", "boolean", "status_code == ERROR.", extract=_is_error),
    ColumnSpec("status_description", "str", "Error description (redacted)."),
    ColumnSpec("provider", "str", "gen_ai.provider.name (LLM spans)."),
    ColumnSpec("request_model", "str", "gen_ai.request.model (LLM spans)."),
    ColumnSpec("response_model", "str", "gen_ai.response.model (LLM spans)."),
    ColumnSpec("input_tokens", "Int64", "Input tokens (LLM spans only)."),
    ColumnSpec("output_tokens", "Int64", "Output tokens (LLM spans only)."),
    ColumnSpec("total_tokens", "Int64", "Total tokens (LLM spans only)."),
    ColumnSpec("tool_name", "str", "gen_ai.tool.name (tool spans)."),
    ColumnSpec("message_source", "str", "Sending agent (message spans)."),
    ColumnSpec("message_target", "str", "Receiving agent (message spans)."),
    ColumnSpec("input_bytes", "Int64", "Request / message bytes."),
    ColumnSpec("output_bytes", "Int64", "Response bytes (LLM)."),
    ColumnSpec("total_bytes", "Int64", "Total bytes."),
    ColumnSpec("http_attempts", "Int64", "HTTP requests behind one LLM call."),
    ColumnSpec("retry_attempt", "Int64", "agent.retry.attempt_number as stored (missing = first attempt)."),
    ColumnSpec("attempt", "Int64", "agent.retry.attempt_number with 1 for spans that carry none.",
               extract=_attempt_of_span),
    ColumnSpec("retry_trigger", "str", "agent.retry.trigger."),
    ColumnSpec("retry_previous_span_id", "str", "agent.retry.previous_span_id."),
    ColumnSpec("failure_category", "str", "agent.failure.category."),
    ColumnSpec("failure_reason", "str", "agent.failure.reason."),
    ColumnSpec("n_events", "Int64", "Span events (e.g. exceptions).", extract=_n_events),
    ColumnSpec("attributes_json", "str", "All other attributes as JSON."),
    ColumnSpec("events_json", "str", "Span events as JSON."),
]

LLM_CALL_SPECS: list[ColumnSpec] = _IDENTITY + _SPAN_CORE + [
    ColumnSpec("model", "str", "gen_ai.response.model, else gen_ai.request.model.", extract=_model),
    ColumnSpec("request_model", "str", "gen_ai.request.model."),
    ColumnSpec("provider", "str", "gen_ai.provider.name."),
    ColumnSpec("simulated", "boolean", "Whether the run's backend was simulated.", extract=_run_attr("simulated")),
    ColumnSpec("input_tokens", "Int64", "Input tokens of this call."),
    ColumnSpec("output_tokens", "Int64", "Output tokens of this call."),
    ColumnSpec("total_tokens", "Int64", "Total tokens of this call."),
    ColumnSpec("usage_estimated", "boolean", "Tokens estimated from text."),
    ColumnSpec("request_bytes", "Int64", "HTTP request body bytes.", source="input_bytes"),
    ColumnSpec("response_bytes", "Int64", "HTTP response body bytes (all attempts).", source="output_bytes"),
    ColumnSpec("bytes", "Int64", "request + response bytes.", source="total_bytes"),
    ColumnSpec("http_attempts", "Int64", "HTTP requests behind this call (retries included)."),
    ColumnSpec("price_input_per_mtok", "float64", "USD per 1M input tokens (study price snapshot; NaN unknown).",
               extract=_price(0)),
    ColumnSpec("price_output_per_mtok", "float64", "USD per 1M output tokens (study price snapshot).",
               extract=_price(1)),
    ColumnSpec("cost_usd", "float64", "input x in-price + output x out-price (NaN when unpriced).",
               extract=_llm_cost),
]

TOOL_CALL_SPECS: list[ColumnSpec] = _IDENTITY + _SPAN_CORE + [
    ColumnSpec("tool_name", "str", "gen_ai.tool.name."),
    ColumnSpec("tool_call_id", "str", "gen_ai.tool.call.id."),
    ColumnSpec("tool_type", "str", "gen_ai.tool.type."),
    ColumnSpec("input_bytes", "Int64", "Argument bytes."),
    ColumnSpec("output_bytes", "Int64", "Result bytes."),
]

EDGE_SPECS: list[ColumnSpec] = _IDENTITY + [
    ColumnSpec("span_id", "str", "Span id of the message record."),
    ColumnSpec("parent_span_id", "str", "Parent span of the message record."),
    ColumnSpec("order", "Int64", "0-based position of the hand-over within its run (by start time).",
               extract=_edge_order),
    ColumnSpec("source", "str", "Sending agent (`__start__` = run input).", source="message_source"),
    ColumnSpec("target", "str", "Receiving agent (`__end__` = run output).", source="message_target"),
    ColumnSpec("bytes", "Int64", "Serialised message bytes.", extract=_edge_bytes),
    ColumnSpec("is_in_process_call", "boolean", "True for in-memory hand-overs."),
    ColumnSpec("start_time_ns", "Int64", "Time of the hand-over (ns since the Unix epoch)."),
]

RESOURCE_SPECS: list[ColumnSpec] = [
    ColumnSpec("study_id", "str", "Study id."),
    ColumnSpec("run_id", "str", "Run id."),
    ColumnSpec("instance", "str", "MAS instance (from runs.parquet).", extract=_run_attr("instance")),
    ColumnSpec("backend", "str", "Backend spec (from runs.parquet).", extract=_run_attr("backend")),
    ColumnSpec("tools_enabled", "boolean", "Tools on (from runs.parquet).", extract=_run_attr("tools_enabled")),
    ColumnSpec("task_id", "str", "Task id (from runs.parquet).", extract=_run_attr("task_id")),
    ColumnSpec("time_ns", "Int64", "Sample time, ns since the Unix epoch."),
    ColumnSpec("t_s", "float64", "Seconds since the run's first sample.", extract=_t_rel),
    ColumnSpec("cpu_percent", "float64", "CPU % since the previous sample (100 = one core)."),
    ColumnSpec("rss_bytes", "Int64", "Resident memory (bytes)."),
    ColumnSpec("rss_mb", "float64", "Resident memory (MB, 1e6 bytes).", extract=_mb("rss_bytes")),
    ColumnSpec("num_processes", "Int64", "Processes counted."),
]

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
