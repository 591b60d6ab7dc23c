"""``maestro export --format chrome-trace``: a study's spans as Trace Event Format JSON, the
format Perfetto (ui.perfetto.dev, ``perfetto.trace_processor``), speedscope and
``chrome://tracing`` open, for flame graphs and timelines.

Layout:

* one **process** per run (``pid`` 1, 2, ... in run-id order, named by its run id, with the
  run's instance, backend, task and status as process labels);
* inside a run, **lanes** (``tid``): every span is one complete event (``"ph": "X"``) with
  its start (``ts``) and duration (``dur``) in microseconds. A span goes on its parent's
  lane when it nests inside what is open there; spans that overlap without nesting
  (parallel agents, fan-outs) go to another lane, named after the span's agent. The viewers
  require the events of one lane to nest strictly (Perfetto drops or misplaces a slice that
  does not), so every lane's events do, and every span is exported exactly once;
* ``args`` carry the span's ids, type, agent, status, its non-empty stored columns (tokens,
  bytes, model, tool, message source/target, retry, failure) and its other attributes
  (``attributes_json``, content included when the study captured it) under ``attributes``.

Times are relative to the earliest span exported (``otherData.time_origin_unix_ns`` is that
instant), so microseconds keep nanosecond precision as JSON doubles.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from maestro.analysis.columns import is_missing
from maestro.store.reader import Study, load_study

__all__ = ["chrome_trace", "write_chrome_trace", "span_lanes", "span_attributes", "TRACE_COLUMNS"]

TRACE_COLUMNS = ("provider", "request_model", "response_model", "input_tokens", "output_tokens", "total_tokens",
                 "usage_estimated", "tool_name", "tool_call_id", "tool_type", "message_source", "message_target",
                 "input_bytes", "output_bytes", "total_bytes", "is_in_process_call", "http_attempts",
                 "retry_attempt", "retry_trigger", "retry_previous_span_id", "failure_category", "failure_reason",
                 "status_description", "operation", "kind")
"""Stored span columns copied into each event's ``args`` when they have a value."""


def _plain(v: Any) -> Any:
    """A JSON-safe Python value (numpy and pandas scalars as int/float/bool/str)."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:  # NaN is not JSON
        return None
    return v


def span_attributes(raw: Any) -> dict[str, Any]:
    """A span's ``attributes_json`` as a dict ({} when empty); text that is not a JSON
    object is kept under ``attributes_json`` rather than lost."""
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"attributes_json": raw}  # kept verbatim rather than lost
    return value if isinstance(value, dict) else {"attributes_json": value}


def span_lanes(spans: pd.DataFrame) -> tuple[list[int], list[str]]:
    """Lane (0-based) of each row of one run's ``spans`` (in the frame's row order) and a
    name per lane, such that the spans on one lane nest strictly in time.

    Spans are placed in start order (a parent before a child starting at the same
    instant); a span goes on its parent's lane when it fits inside what is open there, else
    on the first lane of its agent that it fits, else on the first lane it fits, else on a
    new lane named after its agent (``run`` for the root's lane).
    """
    n = len(spans)
    if n == 0:
        return [], []
    sid = spans["span_id"].tolist()
    parent = spans["parent_span_id"].tolist() if "parent_span_id" in spans.columns else [None] * n
    start = [int(v) for v in spans["start_time_ns"]]
    end = [max(int(e), s) for e, s in zip(spans["end_time_ns"], start)]
    agents = spans["agent_name"].tolist() if "agent_name" in spans.columns else [None] * n
    types = spans["span_type"].tolist() if "span_type" in spans.columns else [None] * n
    index = {s: i for i, s in enumerate(sid)}
    depth = [0] * n
    for i in range(n):  # depth only orders ties; a cycle in broken data stops at n steps
        p, d = parent[i], 0
        while not is_missing(p) and p in index and d < n:
            p, d = parent[index[p]], d + 1
        depth[i] = d
    order = sorted(range(n), key=lambda i: (start[i], -end[i], depth[i], str(sid[i])))
    stacks: list[list[int]] = []  # per lane: the spans open there, outermost first
    names: list[str] = []
    lane = [-1] * n

    def fits(k: int, i: int) -> bool:
        st = stacks[k]
        while st and end[st[-1]] <= start[i]:
            st.pop()  # ended when (or before) this span starts: closed
        return not st or (start[st[-1]] <= start[i] and end[i] <= end[st[-1]])

    for i in order:
        agent = None if is_missing(agents[i]) else str(agents[i])
        candidates: list[int] = []
        p = parent[i]
        if not is_missing(p) and p in index and lane[index[p]] >= 0:
            candidates.append(lane[index[p]])
        candidates += [k for k, nm in enumerate(names) if agent is not None and nm == agent]
        candidates += list(range(len(stacks)))
        chosen = next((k for k in candidates if fits(k, i)), None)
        if chosen is None:
            stacks.append([])
            names.append("run" if types[i] == "run" else (agent or str(types[i] or "spans")))
            chosen = len(stacks) - 1
        stacks[chosen].append(i)
        lane[i] = chosen
    return lane, names


def _load(study: str | os.PathLike[str] | Study) -> Study:
    return study if isinstance(study, Study) else load_study(study, resources=False)


def chrome_trace(study: str | os.PathLike[str] | Study, run_ids: Iterable[str] | None = None) -> dict[str, Any]:
    """The spans of ``study`` (or only of ``run_ids``) as a Trace Event Format object
    (``{"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}``); see the
    module docstring for the layout.

    Raises:
        TraceFormatError: the study folder is missing or malformed.
        ValueError: a run id in ``run_ids`` is not in the study (the message names it).
    """
    from maestro import __version__

    st = _load(study)
    runs, spans = st.runs, st.spans
    known = sorted(set(runs["run_id"]) | set(spans["run_id"]))
    if run_ids is not None:
        wanted = list(dict.fromkeys(run_ids))
        unknown = [r for r in wanted if r not in known]
        if unknown:
            raise ValueError(f"run {unknown[0]!r} is not in study {st.study_id!r} ({len(known)} runs; "
                             "see maestro runs ls)")
        known = [r for r in known if r in set(wanted)]
    spans = spans[spans["run_id"].isin(known)]
    t0 = int(spans["start_time_ns"].min()) if len(spans) else 0
    by_run = {k: g for k, g in spans.groupby("run_id", sort=False)}
    info = {r["run_id"]: r for r in runs.to_dict("records")}
    events: list[dict[str, Any]] = []
    for pid, run_id in enumerate(known, start=1):
        run = info.get(run_id, {})
        labels = [f"{k}={_plain(run[k])}" for k in ("instance", "backend", "task_id", "repeat", "status")
                  if not is_missing(run.get(k))]
        events.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": run_id}})
        events.append({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0, "args": {"sort_index": pid}})
        if labels:
            events.append({"name": "process_labels", "ph": "M", "pid": pid, "tid": 0,
                           "args": {"labels": ", ".join(labels)}})
        s = by_run.get(run_id)
        if s is None or not len(s):
            continue
        s = s.reset_index(drop=True)
        lanes, names = span_lanes(s)
        for k, name in enumerate(names):
            events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": k + 1, "args": {"name": name}})
            events.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": k + 1,
                           "args": {"sort_index": k + 1}})
        for i, r in enumerate(s.to_dict("records")):
            start = int(r["start_time_ns"]) - t0
            end = max(int(r["end_time_ns"]) - t0, start)
            args: dict[str, Any] = {"span_id": r["span_id"], "parent_span_id": None if is_missing(r.get("parent_span_id"))
                                    else r["parent_span_id"], "span_type": r.get("span_type"),
                                    "agent": None if is_missing(r.get("agent_name")) else r["agent_name"],
                                    "status": r.get("status_code")}
            args.update({c: _plain(r[c]) for c in TRACE_COLUMNS if c in r and not is_missing(r[c])})
            attrs = span_attributes(r.get("attributes_json"))
            if attrs:
                args["attributes"] = attrs
            events.append({"name": str(r.get("name") or r.get("span_type") or "span"),
                           "cat": str(r.get("span_type") or "span"), "ph": "X",
                           # integer ns -> us with 3 decimals: exact to the nanosecond
                           "ts": start / 1000, "dur": (end - start) / 1000,
                           "pid": pid, "tid": lanes[i] + 1, "args": args})
    return {"traceEvents": events, "displayTimeUnit": "ms",
            "otherData": {"study_id": st.study_id, "maestro_version": __version__,
                          "simulated": bool(st.info.get("simulated")), "time_origin_unix_ns": t0,
                          "runs": len(known), "spans": int(len(spans))}}


def write_chrome_trace(study: str | os.PathLike[str] | Study, out: str | os.PathLike[str],
                       run_ids: Iterable[str] | None = None) -> Path:
    """Write :func:`chrome_trace` of ``study`` to ``out`` (a ``.json`` file; its folder is
    created) and return the path. Open it in https://ui.perfetto.dev or speedscope, or with
    ``perfetto.trace_processor.TraceProcessor(trace=out)``."""
    trace = chrome_trace(study, run_ids)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(trace, ensure_ascii=False, allow_nan=False, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path
