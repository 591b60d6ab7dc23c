"""Reading and validating a study folder.

``load_study(path)`` returns the study's runs, spans and resource samples as pandas
DataFrames. Every file is checked before it is read: a malformed or truncated parquet
file, a file maestro did not write, or one written by an unknown schema version raises
``TraceFormatError`` naming the file and what is wrong.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from maestro.semconv import ARTEFACT_METADATA_KEY, SCHEMA_VERSION, SCHEMA_VERSION_METADATA_KEY
from maestro.store.layout import TMP_SUFFIX, StudyLayout, atomic_write_table, file_metadata, table_from_rows
from maestro.store.schema import RESOURCE_COLUMNS, RUN_COLUMNS, SPAN_COLUMNS, Column

__all__ = ["TraceFormatError", "Study", "load_study", "read_study_json", "validate_parquet", "read_parquet",
           "fill_optional", "read_runs_table", "foreign_entries", "MAESTRO_ENTRIES", "RunIndex", "RunHistory", "STUDY_FORMAT",
           "PANDAS_DTYPES", "TIME_COLUMNS", "TIMESTAMP_DTYPE", "utc_timestamps", "to_frame"]

STUDY_FORMAT = "maestro.study"
"""Value of the ``format`` key of every study.json."""


class TraceFormatError(ValueError):
    """A file in a study folder is not what maestro expects. The message names the file."""

    def __init__(self, path: str | os.PathLike[str], problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass
class Study:
    """A loaded study."""

    path: Path
    """The study folder."""
    info: dict[str, Any]
    """Contents of study.json (config, versions, seeds, price snapshot)."""
    runs: pd.DataFrame
    """One row per run (columns: docs/trace-format.md, runs.parquet)."""
    spans: pd.DataFrame
    """All spans of all runs."""
    resources: pd.DataFrame
    """All resource samples of all runs."""
    warnings: list[str] = field(default_factory=list)
    """Non-fatal findings (e.g. spans of runs missing from runs.parquet)."""

    @property
    def study_id(self) -> str:
        return self.info.get("study_id", self.path.name)

    def __repr__(self) -> str:
        return (f"Study({self.study_id!r}, runs={len(self.runs)}, spans={len(self.spans)}, "
                f"resources={len(self.resources)})")


MAESTRO_ENTRIES = frozenset({"study.json", "runs.parquet", "spans", "resources", "summary.json", "report", "figures",
                             "history", "quarantine"})
"""What maestro writes in a study folder; anything else there is the user's and is ignored."""


def foreign_entries(root: str | os.PathLike[str]) -> list[Path]:
    """Files and folders in a study folder that maestro did not write (notes, exports, ...),
    sorted; readers ignore them and ``maestro runs ls --verbose`` lists them."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name not in MAESTRO_ENTRIES and not p.name.startswith("."))


def read_study_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse and check a study.json."""
    path = Path(path)
    if not path.is_file():
        raise TraceFormatError(path, "missing: not a maestro study folder (no study.json)")
    try:
        info = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TraceFormatError(path, f"not valid JSON ({e})") from e
    if not isinstance(info, dict) or info.get("format") != STUDY_FORMAT:
        raise TraceFormatError(path, f"not a maestro study file (expected \"format\": \"{STUDY_FORMAT}\")")
    version = info.get("schema_version")
    if version != SCHEMA_VERSION:
        raise TraceFormatError(path, f"schema version {version!r}; this maestro reads version {SCHEMA_VERSION}")
    return info


def validate_parquet(path: Path, artefact: str, columns: list[Column]) -> pa.Schema:
    """Check one parquet file's footer: readable, written by maestro for ``artefact``, right
    schema version, every expected column present with the expected type (an optional
    column may be absent: :func:`read_parquet` fills it with nulls)."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise TraceFormatError(path, f"not a readable parquet file (truncated or corrupt: {e})") from e
    meta = schema.metadata or {}
    if meta.get(ARTEFACT_METADATA_KEY) != artefact.encode():
        found = meta.get(ARTEFACT_METADATA_KEY, b"none").decode(errors="replace")
        raise TraceFormatError(path, f"not a maestro {artefact} file (artefact metadata: {found})")
    version = meta.get(SCHEMA_VERSION_METADATA_KEY, b"").decode(errors="replace")
    if version != str(SCHEMA_VERSION):
        raise TraceFormatError(path, f"schema version {version!r}; this maestro reads version {SCHEMA_VERSION}")
    for c in columns:
        idx = schema.get_field_index(c.name)
        if idx < 0:
            if c.optional:
                continue  # added after this file was written: readers fill it with nulls
            raise TraceFormatError(path, f"missing column {c.name!r}")
        if schema.field(idx).type != c.type:
            raise TraceFormatError(path, f"column {c.name!r} has type {schema.field(idx).type}, expected {c.type}")
    return schema


def _read_table(path: Path, names: list[str] | None = None, filters: Any = None) -> pa.Table:
    try:
        return pq.read_table(path, columns=names, filters=filters)
    except (pa.ArrowInvalid, OSError) as e:
        raise TraceFormatError(path, f"cannot read data (truncated or corrupt: {e})") from e


def fill_optional(table: pa.Table, columns: list[Column], names: list[str] | None = None) -> pa.Table:
    """``table`` with every optional column of ``columns`` it lacks added as nulls of the
    column's type, and the columns in ``names`` order (default: the schema's order, then any
    columns the schema does not know)."""
    by_name = {c.name: c for c in columns}
    wanted = names if names is not None else [c.name for c in columns] + \
        [n for n in table.column_names if n not in by_name]
    for n in wanted:
        c = by_name.get(n)
        if n not in table.column_names and c is not None and c.optional:
            table = table.append_column(pa.field(c.name, c.type), pa.nulls(table.num_rows, type=c.type))
    return table.select(wanted)


def read_parquet(path: Path, columns: list[Column], names: list[str] | None = None, filters: Any = None) -> pa.Table:
    """Read a file that :func:`validate_parquet` accepted: only ``names`` (default all of
    ``columns``), optional columns the file lacks filled with nulls, ``filters`` as in
    ``pyarrow.parquet.read_table``."""
    wanted = names if names is not None else [c.name for c in columns]
    try:
        present = set(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as e:
        raise TraceFormatError(path, f"not a readable parquet file (truncated or corrupt: {e})") from e
    table = _read_table(path, [n for n in wanted if n in present], filters)
    return fill_optional(table, columns, wanted)


def read_runs_table(path: Path) -> pa.Table:
    """A validated runs.parquet as an Arrow table in today's vocabulary: optional columns
    the file lacks filled with nulls, and the pre-0.2 judgement ``unknown`` read as
    ``unjudged``."""
    validate_parquet(path, "runs", RUN_COLUMNS)
    table = fill_optional(_read_table(path), RUN_COLUMNS)
    i = table.schema.get_field_index("judgement")
    old = pc.equal(table.column(i), "unknown")
    if pc.any(old).as_py():
        table = table.set_column(i, "judgement", pc.if_else(old, "unjudged", table.column(i)))
    return table


PANDAS_DTYPES = {"string": "str", "int64": "Int64", "double": "float64", "bool": "boolean"}
"""Arrow type name of a stored column -> the pandas dtype every reader gives it
(``load_study``, the analysis frames): nullable integers and booleans, so a null stays
missing and a count stays an integer."""

TIME_COLUMNS = {"started_at_ns": "started_at", "start_time_ns": "start_time", "end_time_ns": "end_time",
                "time_ns": "time"}
"""Stored ns-since-the-epoch column -> the tz-aware UTC timestamp column readers add right
after it (the duckdb views too)."""

TIMESTAMP_DTYPE = "datetime64[ns, UTC]"
"""pandas dtype of the :data:`TIME_COLUMNS` timestamps."""


def utc_timestamps(ns: pd.Series) -> pd.Series:
    """ns since the Unix epoch as tz-aware UTC timestamps (missing stays missing)."""
    return pd.to_datetime(pd.to_numeric(ns, errors="coerce").astype("Int64"), unit="ns", utc=True)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table of stored columns as pandas in the readers' dtypes
    (:data:`PANDAS_DTYPES`), each :data:`TIME_COLUMNS` column followed by its timestamp."""
    df = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get)
    for name in [n for n in df.columns if n in TIME_COLUMNS]:
        df.insert(df.columns.get_loc(name) + 1, TIME_COLUMNS[name], utc_timestamps(df[name]))
    return df


def _read_folder(folder: Path, artefact: str, columns: list[Column], warnings: list[str]) -> pd.DataFrame:
    """Every ``*.parquet`` file of a spans/ or resources/ folder as one frame. Hidden files
    (``.DS_Store``, writers' temporaries) and files that are not parquet are skipped with a
    warning; a malformed parquet file is an error naming it."""
    tables, files, skipped = [], [], []
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.name.startswith(".") and p.name.endswith(TMP_SUFFIX):
                continue  # a writer's temporary file: never data
            if p.name.startswith(".") or p.suffix != ".parquet" or not p.is_file():
                skipped.append(p.name)
                continue
            validate_parquet(p, artefact, columns)
            tables.append(read_parquet(p, columns))
            files.append(p)
    if skipped:
        warnings.append(f"{folder.name}/: ignored {len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} that "
                        f"{'is' if len(skipped) == 1 else 'are'} not <run_id>.parquet: {', '.join(skipped[:5])}"
                        f"{' ...' if len(skipped) > 5 else ''}")
    if artefact == "spans" and len(tables) > 1:
        _warn_duplicate_spans(tables, files, warnings)
    return to_frame(pa.concat_tables(tables) if tables else table_from_rows(columns, [], {}))


def _warn_duplicate_spans(tables: list[pa.Table], files: list[Path], warnings: list[str]) -> None:
    """Name span ids that appear in more than one file (a copied span file), with both files."""
    ids = pd.Series(pa.concat_arrays([t.column("span_id").combine_chunks() for t in tables]).to_pandas())
    owner = np.repeat(np.arange(len(tables)), [t.num_rows for t in tables])
    dup = ids.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    pairs = pd.DataFrame({"span_id": ids[dup].to_numpy(), "file": owner[dup]}).groupby("span_id")["file"].unique()
    first = pairs.iloc[0]
    names = " and ".join(f"spans/{files[i].name}" for i in first[:2])
    warnings.append(f"{len(pairs)} span id(s) appear in more than one file (e.g. {pairs.index[0]} in {names}): "
                    "a copied or duplicated span file; remove the copy")


def load_study(path: str | os.PathLike[str], *, spans: bool = True, resources: bool = True) -> Study:
    """Load a study folder (``traces/<study_id>``).

    The tables have the stored columns (docs/trace-format.md) in the readers' dtypes
    (:func:`to_frame`: ``str``, ``Int64``, ``float64``, ``boolean``, plus a UTC timestamp
    after each ns time column), the same names and dtypes as the analysis frames and the
    duckdb views.

    Args:
        path: the study folder.
        spans / resources: set False to skip reading those tables (faster for run-level work).

    Raises:
        TraceFormatError: a file is missing, malformed, truncated, foreign or of another schema version.
    """
    layout = StudyLayout(path)
    if not layout.root.is_dir():
        raise TraceFormatError(layout.root, "no such study folder")
    info = read_study_json(layout.study_json)
    runs = to_frame(read_runs_table(layout.runs_parquet) if layout.runs_parquet.exists()
                    else table_from_rows(RUN_COLUMNS, [], {}))
    warnings: list[str] = []
    span_df = _read_folder(layout.spans_dir, "spans", SPAN_COLUMNS, warnings) if spans else None
    res_df = _read_folder(layout.resources_dir, "resources", RESOURCE_COLUMNS, warnings) if resources else None
    study = Study(layout.root, info, runs, span_df, res_df, warnings)
    if layout.spans_dir.is_dir():
        orphans = {p.stem for p in layout.spans_dir.glob("*.parquet") if not p.name.startswith(".")} - set(runs["run_id"])
        if orphans:
            study.warnings.append(
                f"{len(orphans)} run(s) have spans but no row in runs.parquet (interrupted; a resume reruns them)"
            )
    if layout.quarantine_dir.is_dir() and any(layout.quarantine_dir.iterdir()):
        n = sum(1 for _ in layout.quarantine_dir.iterdir())
        study.warnings.append(f"{n} file(s) in quarantine/: partial writes and interrupted attempts a resume set "
                              "aside (not loaded; see maestro runs ls --verbose)")
    return study


class RunIndex:
    """``runs.parquet`` kept in memory, upserted by run id and rewritten atomically.

    The runner owns it; each finished run rewrites the file (temp + rename), so a killed
    study never leaves a half-written index.
    """

    def __init__(self, layout: StudyLayout):
        self.layout = layout
        self.rows: dict[str, dict[str, Any]] = {}
        if layout.runs_parquet.exists():
            # an older file gains its missing optional columns (as nulls) on the next write
            for row in read_runs_table(layout.runs_parquet).to_pylist():
                self.rows[row["run_id"]] = row

    def __contains__(self, run_id: str) -> bool:
        return run_id in self.rows

    def get(self, run_id: str) -> dict[str, Any] | None:
        return self.rows.get(run_id)

    def upsert(self, row: dict[str, Any], write: bool = True) -> None:
        self.rows[row["run_id"]] = row
        if write:
            self.write()

    def write(self) -> None:
        rows = sorted(self.rows.values(), key=lambda r: r["run_id"])
        atomic_write_table(table_from_rows(RUN_COLUMNS, rows, file_metadata("runs")), self.layout.runs_parquet)


class RunHistory:
    """``history/``: superseded attempts of runs that ran again (a ``retry``, or a run taken
    back because its backend was down). Each archived attempt keeps its row in
    ``history/runs.parquet`` and its files as ``history/{spans,resources}/<run_id>.attempt<N>.parquet``.
    """

    def __init__(self, layout: StudyLayout):
        self.layout = layout
        self.root = layout.history_dir
        self.runs_parquet = self.root / "runs.parquet"

    def rows(self) -> list[dict[str, Any]]:
        if not self.runs_parquet.exists():
            return []
        return read_runs_table(self.runs_parquet).to_pylist()

    def archive(self, row: dict[str, Any]) -> None:
        """Keep ``row`` and move its run's files here (row first: a crash in between leaves
        the files where the row's run id finds them)."""
        run_id, attempt = row["run_id"], row.get("attempt") or 1
        rows = self.rows() + [row]
        atomic_write_table(table_from_rows(RUN_COLUMNS, rows, file_metadata("runs")), self.runs_parquet)
        for src, folder in ((self.layout.spans_file(run_id), "spans"), (self.layout.resources_file(run_id), "resources")):
            if src.exists():
                (self.root / folder).mkdir(parents=True, exist_ok=True)
                os.replace(src, self.root / folder / f"{run_id}.attempt{attempt}.parquet")
