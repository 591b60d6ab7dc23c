"""Analysis DataFrames from stored studies, in the style of ``samples_df``.

Each function takes a study folder, a loaded :class:`maestro.Study`, or a list of them
(concatenated; every frame has a ``study_id`` column) and returns a pandas DataFrame
whose columns are defined by the specs in :mod:`maestro.analysis.columns`:

==================  ===========================================================
``runs_df``         one row per run: identity, outcome, judgement, tokens, cost, bytes,
                    counts, resource summaries
``spans_df``        one row per span
``llm_calls_df``    LLM spans only, with per-call cost from the study's price snapshot
``tool_calls_df``   tool spans only
``edges_df``        agent-to-agent message records with their order within the run
``resources_df``    CPU / memory samples, with run attributes joined
==================  ===========================================================

``strict=True`` (default) raises :class:`maestro.TraceFormatError` naming the first
unreadable or malformed file; ``strict=False`` skips such files and returns
``(df, errors)`` with ``errors`` a list of ``(path, message)``.

The same tables are plain parquet datasets; :func:`duckdb_connection` opens them as SQL
views ``runs``, ``spans`` and ``resources``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from maestro.analysis.columns import (
    EDGE_SPECS,
    LLM_CALL_SPECS,
    RESOURCE_SPECS,
    RUN_SPECS,
    SPAN_SPECS,
    TOOL_CALL_SPECS,
    ColumnSpec,
    FrameContext,
    select_specs,
)
from maestro.store.dataset import read_manifest, scan
from maestro.store.layout import table_from_rows
from maestro.store.location import Location
from maestro.store.reader import (
    TIME_COLUMNS,
    Study,
    TraceFormatError,
    read_runs,
    read_study_json,
    to_frame,
)
from maestro.store.schema import RESOURCE_COLUMNS, RUN_COLUMNS, SPAN_COLUMNS, Column, arrow_schema

__all__ = [
    "StudyLike",
    "runs_df",
    "spans_df",
    "llm_calls_df",
    "tool_calls_df",
    "edges_df",
    "resources_df",
    "duckdb_connection",
    "study_infos",
    "read_once",
]

StudyLike = str | os.PathLike | Study
"""A study folder or a loaded study."""

Errors = list[tuple[str, str]]


def _as_list(studies: StudyLike | Iterable[StudyLike]) -> list[StudyLike]:
    if isinstance(studies, (str, os.PathLike, Study)):
        return [studies]
    out = list(studies)
    for s in out:
        if not isinstance(s, (str, os.PathLike, Study)):
            raise TypeError(f"expected a study folder or maestro.Study, got {type(s).__name__}: {s!r}")
    return out


@dataclass
class _Source:
    """One study as the frames read it."""

    root: Location
    info: dict[str, Any]
    study: Study | None


class _Reader:
    """Reads study files, raising (strict) or recording ``(path, message)`` errors."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.errors: Errors = []
        self._runs: dict[str, pa.Table] = {}

    def fail(self, err: TraceFormatError) -> None:
        if self.strict:
            raise err
        self.errors.append((str(err.path), err.problem))

    def sources(self, studies) -> list[_Source]:
        out = []
        for s in _as_list(studies):
            if isinstance(s, Study):
                out.append(_Source(Location.of(s.path), s.info, s))
                continue
            loc = Location.of(s)
            try:
                if not loc.is_dir(loc.root):
                    raise TraceFormatError(loc.uri, "no such study folder")
                out.append(_Source(loc, read_study_json(loc), None))
            except TraceFormatError as e:
                self.fail(e)
        return out

    def runs(self, src: _Source) -> pd.DataFrame:
        if src.study is not None:
            return src.study.runs
        return to_frame(self._runs_table(src))

    def _runs_table(self, src: _Source) -> pa.Table:
        # read once per study and reader: the frames' runs and the compacted rows' attempts
        key = src.root.uri
        if key not in self._runs:
            try:
                self._runs[key] = read_runs(src.root)
            except (TraceFormatError, pa.ArrowInvalid, OSError) as e:
                self.fail(e if isinstance(e, TraceFormatError) else
                          TraceFormatError(src.root.display(src.root.path("runs.parquet")), f"cannot read data ({e})"))
                self._runs[key] = table_from_rows(RUN_COLUMNS, [], {})
        return self._runs[key]

    def attempts(self, src: _Source) -> dict[str, Any]:
        """run_id -> attempt of the study's run index (which compacted rows are current)."""
        t = self._runs_table(src)
        return dict(zip(t.column("run_id").to_pylist(), t.column("attempt").to_pylist()))

    def folder(self, src: _Source, which: str, columns: list[str] | None = None,
               span_types: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Rows of ``spans`` or ``resources`` in both stored forms (only ``columns``; spans
        filtered by type, pushed down to the files)."""
        spec_cols = SPAN_COLUMNS if which == "spans" else RESOURCE_COLUMNS
        names = columns or [c.name for c in spec_cols]
        loaded = getattr(src.study, which, None) if src.study is not None else None
        if loaded is not None:
            df = loaded
            if span_types is not None:
                df = df[df["span_type"].isin(span_types)]
            return df[names].reset_index(drop=True)
        flt = pc.field("span_type").isin(list(span_types)) if span_types is not None else None
        try:
            table = scan(src.root, which, names, flt, attempts=self.attempts(src), on_error=self._skip)
        except TraceFormatError as e:  # the manifest itself: nothing of this table can be read
            self.fail(e)
            table = table_from_rows([c for c in spec_cols if c.name in names], [], {}).select(names)
        return to_frame(table)

    def _skip(self, err: TraceFormatError) -> None:
        self.fail(err)


def _span_aggregates(spans: pd.DataFrame) -> pd.DataFrame:
    """Per-run aggregates the runs frame takes from span files."""
    if spans.empty:
        return pd.DataFrame(columns=["n_agents", "n_edges", "n_error_spans", "max_retry_attempt"])
    g = spans.groupby("run_id")
    agents = spans[spans["span_type"] == "agent"].groupby("run_id")["agent_name"].nunique()
    msgs = spans[spans["span_type"] == "message"]
    edges = msgs.assign(_e=msgs["message_source"].astype(str) + "\x1f" + msgs["message_target"].astype(str)) \
        .groupby("run_id")["_e"].nunique()
    errors = (spans["status_code"] == "ERROR").groupby(spans["run_id"]).sum()
    retry = pd.to_numeric(spans["retry_attempt"], errors="coerce").fillna(1).groupby(spans["run_id"]).max()
    out = pd.DataFrame(index=g.size().index)
    out["n_agents"] = agents
    out["n_edges"] = edges
    out["n_error_spans"] = errors
    out["max_retry_attempt"] = retry
    return out.fillna({"n_agents": 0, "n_edges": 0, "n_error_spans": 0, "max_retry_attempt": 1})


def _build(specs: list[ColumnSpec], base: pd.DataFrame, ctx: FrameContext) -> pd.DataFrame:
    return pd.DataFrame({s.name: s.compute(base, ctx) for s in specs}, index=base.index).reset_index(drop=True)


def _empty(specs: list[ColumnSpec]) -> pd.DataFrame:
    return pd.DataFrame({s.name: pd.Series([], dtype=s.dtype) for s in specs})


def _finish(frames: list[pd.DataFrame], specs: list[ColumnSpec], reader: _Reader, strict: bool):
    frames = [f for f in frames if len(f)]
    df = pd.concat(frames, ignore_index=True) if frames else _empty(specs)
    return df if strict else (df, reader.errors)


def _study_id_fill(base: pd.DataFrame, src: _Source) -> pd.DataFrame:
    # rows always carry the study id, even for old or hand-made files without one
    sid = src.info.get("study_id", src.root.name)
    if "study_id" not in base.columns:
        base = base.assign(study_id=sid)
    else:
        base = base.assign(study_id=base["study_id"].where(base["study_id"].notna(), sid))
    return base


def runs_df(studies: StudyLike | Iterable[StudyLike], *, columns: list[str] | None = None, strict: bool = True):
    """One row per run (columns: ``describe("runs")``).

    Span-derived columns (``n_agents``, ``n_edges``, ``n_error_spans``,
    ``max_retry_attempt``) read the span files only when selected.
    """
    specs = select_specs(RUN_SPECS, columns, "runs_df")
    reader = _Reader(strict)
    needs_spans = any("spans" in s.needs for s in specs)
    frames = []
    for src in reader.sources(studies):
        base = _study_id_fill(reader.runs(src), src)
        agg = None
        if needs_spans:
            agg = _span_aggregates(reader.folder(
                src, "spans",
                ["run_id", "span_type", "agent_name", "message_source", "message_target", "status_code", "retry_attempt"]))
        frames.append(_build(specs, base, FrameContext(src.info, run_aggregates=agg)))
    return _finish(frames, specs, reader, strict)


def _span_frame(studies, specs: list[ColumnSpec], strict: bool, span_types: tuple[str, ...] | None,
                sort_edges: bool = False, needs_runs: bool = False):
    reader = _Reader(strict)
    frames = []
    for src in reader.sources(studies):
        base = _study_id_fill(reader.folder(src, "spans", span_types=span_types), src)
        if sort_edges:
            base = base.sort_values(["run_id", "start_time_ns"], kind="stable").reset_index(drop=True)
        runs = reader.runs(src) if needs_runs else None
        frames.append(_build(specs, base, FrameContext(src.info, runs=runs)))
    return _finish(frames, specs, reader, strict)


def spans_df(studies: StudyLike | Iterable[StudyLike], *, columns: list[str] | None = None, strict: bool = True):
    """One row per span of every run (columns: ``describe("spans")``)."""
    return _span_frame(studies, select_specs(SPAN_SPECS, columns, "spans_df"), strict, None)


def llm_calls_df(studies: StudyLike | Iterable[StudyLike], *, columns: list[str] | None = None, strict: bool = True):
    """LLM spans only (never their parents), with ``cost_usd`` = tokens x the study's price
    snapshot for the span's backend (NaN when the snapshot has no price for it)."""
    specs = select_specs(LLM_CALL_SPECS, columns, "llm_calls_df")
    return _span_frame(studies, specs, strict, ("llm",), needs_runs=any(s.name == "simulated" for s in specs))


def tool_calls_df(studies: StudyLike | Iterable[StudyLike], *, columns: list[str] | None = None, strict: bool = True):
    """Tool spans only (columns: ``describe("tool_calls")``)."""
    return _span_frame(studies, select_specs(TOOL_CALL_SPECS, columns, "tool_calls_df"), strict, ("tool",))


def edges_df(studies: StudyLike | Iterable[StudyLike], *, columns: list[str] | None = None, strict: bool = True):
    """Agent-to-agent message records, sorted by run and time; ``order`` numbers them
    0, 1, ... within each run (the paper's ordered edge sequence)."""
    return _span_frame(studies, select_specs(EDGE_SPECS, columns, "edges_df"), strict, ("message",), sort_edges=True)


def resources_df(studies: StudyLike | Iterable[StudyLike], *, columns: list[str] | None = None, strict: bool = True):
    """CPU / memory samples with run attributes joined (columns: ``describe("resources")``)."""
    specs = select_specs(RESOURCE_SPECS, columns, "resources_df")
    reader = _Reader(strict)
    frames = []
    for src in reader.sources(studies):
        base = _study_id_fill(reader.folder(src, "resources"), src)
        frames.append(_build(specs, base, FrameContext(src.info, runs=reader.runs(src))))
    return _finish(frames, specs, reader, strict)


def read_once(studies: StudyLike | Iterable[StudyLike]) -> list[Study]:
    """Each study's files read once into a :class:`maestro.Study` (strict: raises
    :class:`maestro.TraceFormatError` naming a malformed file). Pass the result to several
    frame functions so they share one read instead of each re-reading every span file."""
    reader = _Reader(True)
    out = []
    for src in reader.sources(studies):
        if src.study is not None:
            out.append(src.study)
            continue
        root: Any = Path(src.root.root) if src.root.local else src.root.uri
        out.append(Study(root, src.info, reader.runs(src), reader.folder(src, "spans"),
                         reader.folder(src, "resources")))
    return out


def study_infos(studies: StudyLike | Iterable[StudyLike], *, strict: bool = True) -> dict[str, dict[str, Any]]:
    """study_id -> study.json contents, for each study (e.g. to check ``simulated``).

    ``strict=False`` leaves out studies whose folder or study.json cannot be read (the
    frames' own ``strict=False`` error lists name them) instead of raising.
    """
    reader = _Reader(strict)
    return {src.info.get("study_id", src.root.name): src.info for src in reader.sources(studies)}


_DUCKDB_TYPES = {"string": "varchar", "int64": "bigint", "double": "double", "bool": "boolean"}
"""Arrow type name -> duckdb type, for optional columns a view adds as nulls."""

_VIEW_READS = {"judgement": "if(judgement = 'unknown', 'unjudged', judgement)"}
"""Stored column -> the expression a view reads it with, as ``read_runs_table`` does (the
pre-0.2 judgement ``unknown`` is ``unjudged``)."""


def _view_select(cols: list[Column], present: set[str], source: str) -> str:
    """``select`` of a view: the stored columns in store order (a column no file has as
    typed nulls), each ns time column followed by its UTC timestamp, as ``load_study``."""
    parts = []
    for c in cols:
        expr = _VIEW_READS.get(c.name, f'"{c.name}"') if c.name in present else \
            f"cast(null as {_DUCKDB_TYPES[str(c.type)]})"
        parts.append(f'{expr} as "{c.name}"')
        if c.name in TIME_COLUMNS:
            parts.append(f'make_timestamp({expr} // 1000)::timestamptz as "{TIME_COLUMNS[c.name]}"')
    return f"select {', '.join(parts)} from {source}"


def duckdb_connection(studies: StudyLike | Iterable[StudyLike], *, database: str = ":memory:"):
    """A duckdb connection with views ``runs``, ``spans`` and ``resources`` over the parquet
    files of the given studies (read in place, nothing is copied; per-run and compacted
    files alike, projections and filters pushed down), with the columns of ``load_study``
    (stored names, a UTC ``timestamptz`` after each ns time column; the session time zone
    is UTC). Studies in object storage (``s3://``) are read through ``pyarrow.fs``.

    >>> con = duckdb_connection("traces/demo")                       # doctest: +SKIP
    >>> con.sql("select span_type, count(*) from spans group by 1").df()   # doctest: +SKIP
    """
    import duckdb

    locs = [Location.of(s.path) if isinstance(s, Study) else Location.of(s) for s in _as_list(studies)]
    for loc in locs:
        read_study_json(loc)  # refuse folders that are not maestro studies
    con = duckdb.connect(database)
    con.execute("set TimeZone = 'UTC'")
    runs_tables = [read_runs(loc) for loc in locs]
    attempts = [dict(zip(t.column("run_id").to_pylist(), t.column("attempt").to_pylist())) for t in runs_tables]
    # runs: small; the merged index (runs.parquet plus the records since) as one Arrow table
    con.register("_runs_merged", pa.concat_tables(runs_tables) if runs_tables else table_from_rows(RUN_COLUMNS, [], {}))
    con.execute(f"create view runs as {_view_select(RUN_COLUMNS, {c.name for c in RUN_COLUMNS}, '_runs_merged')}")
    for view, cols in (("spans", SPAN_COLUMNS), ("resources", RESOURCE_COLUMNS)):
        sources, present = [], set()
        for k, loc in enumerate(locs):
            for j, (files, excluded) in enumerate(_view_files(loc, view, attempts[k])):
                if not files:
                    continue
                if loc.local:
                    listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
                    present |= set().union(*(pq.read_schema(f).names for f in files))
                    src = f"read_parquet([{listing}], union_by_name=true)"
                else:
                    import pyarrow.dataset as ds

                    name = f"_{view}_{k}_{j}"
                    con.register(name, ds.dataset(files, schema=arrow_schema(cols), format="parquet", filesystem=loc.fs))
                    present |= {c.name for c in cols}
                    src = name
                if excluded:
                    name = f"_{view}_{k}_{j}_excluded"
                    con.register(name, pa.table({"run_id": pa.array(excluded, pa.string())}))
                    src = f"(select * from {src} where run_id not in (select run_id from {name}))"
                sources.append(src)
        if not sources:
            # an empty view with the stored columns, so queries still bind
            con.register(f"_{view}_empty", table_from_rows(cols, [], {}))
            present, sources = {c.name for c in cols}, [f"_{view}_empty"]
        con.execute(f"create view {view} as " + " union all by name ".join(
            f"({_view_select(cols, present, s)})" for s in sources))
    return con


def _view_files(loc: Location, artefact: str, attempts: dict[str, Any]) -> list[tuple[list[str], list[str]]]:
    """(files, run ids to leave out) of the compacted generation, then of the per-run files,
    by the readers' rule (:mod:`maestro.store.dataset`)."""
    from maestro.store.dataset import per_run_files

    per_run, _ = per_run_files(loc, artefact)
    manifest = read_manifest(loc)
    out: list[tuple[list[str], list[str]]] = []
    if manifest is not None:
        excluded = [r for r, a in manifest.runs.items() if r in per_run or attempts.get(r) != a]
        out.append(([loc.path("compacted", f) for f in manifest.files.get(artefact, [])], excluded))
    out.append((list(per_run.values()), []))
    return out
