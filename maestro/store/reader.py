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

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from maestro.semconv import ARTEFACT_METADATA_KEY, SCHEMA_VERSION, SCHEMA_VERSION_METADATA_KEY
from maestro.store.layout import StudyLayout, atomic_write_table, file_metadata, table_from_rows
from maestro.store.location import Location, is_uri
from maestro.store.schema import RUN_COLUMNS, Column

__all__ = ["TraceFormatError", "Study", "load_study", "read_study_json", "validate_parquet", "read_parquet",
           "fill_optional", "read_runs_table", "read_runs", "read_run_records", "record_path", "check_schema",
           "RUN_RECORD_FORMAT", "foreign_entries", "MAESTRO_ENTRIES", "RunIndex", "RunHistory", "STUDY_FORMAT",
           "PANDAS_DTYPES", "TIME_COLUMNS", "TIMESTAMP_DTYPE", "utc_timestamps", "to_frame"]

STUDY_FORMAT = "maestro.study"
"""Value of the ``format`` key of every study.json."""


class TraceFormatError(ValueError):
    """A file in a study folder is not what maestro expects. The message names the file."""

    def __init__(self, path: str | os.PathLike[str], problem: str):
        self.path = path if is_uri(path) else Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass
class Study:
    """A loaded study."""

    path: Path
    """The study folder (a ``s3://...`` string for a study in object storage)."""
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
        return self.info.get("study_id", str(self.path).rstrip("/").rsplit("/", 1)[-1])

    def __repr__(self) -> str:
        return (f"Study({self.study_id!r}, runs={len(self.runs)}, spans={len(self.spans)}, "
                f"resources={len(self.resources)})")


MAESTRO_ENTRIES = frozenset({"study.json", "runs.parquet", "spans", "resources", "summary.json", "report", "figures",
                             "history", "quarantine", "runlog", "compacted"})
"""What maestro writes in a study folder; anything else there is the user's and is ignored."""


def foreign_entries(root: str | os.PathLike[str]) -> list[Path]:
    """Files and folders in a study folder that maestro did not write (notes, exports, ...),
    sorted; readers ignore them and ``maestro runs ls --verbose`` lists them."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name not in MAESTRO_ENTRIES and not p.name.startswith("."))


def read_study_json(path: str | os.PathLike[str] | Location, name: str = "study.json") -> dict[str, Any]:
    """Parse and check a study.json (``path`` itself, or ``name`` in a :class:`Location`)."""
    if isinstance(path, Location):
        loc, where = path, path.path(name)
        shown: str | Path = loc.display(where)
    else:
        loc, where = None, str(path)
        shown = Path(path)
    try:
        text = loc.read_bytes(where).decode() if loc is not None else Path(where).read_text()
    except (FileNotFoundError, IsADirectoryError):
        raise TraceFormatError(shown, "missing: not a maestro study folder (no study.json)") from None
    except UnicodeDecodeError as e:
        raise TraceFormatError(shown, f"not valid JSON ({e})") from e
    try:
        info = json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceFormatError(shown, f"not valid JSON ({e})") from e
    if not isinstance(info, dict) or info.get("format") != STUDY_FORMAT:
        raise TraceFormatError(shown, f"not a maestro study file (expected \"format\": \"{STUDY_FORMAT}\")")
    version = info.get("schema_version")
    if version != SCHEMA_VERSION:
        raise TraceFormatError(shown, f"schema version {version!r}; this maestro reads version {SCHEMA_VERSION}")
    return info


def validate_parquet(path: Path, artefact: str, columns: list[Column]) -> pa.Schema:
    """Check one parquet file's footer: readable, written by maestro for ``artefact``, right
    schema version, every expected column present with the expected type (an optional
    column may be absent: :func:`read_parquet` fills it with nulls)."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise TraceFormatError(path, f"not a readable parquet file (truncated or corrupt: {e})") from e
    return check_schema(schema, path, artefact, columns)


def check_schema(schema: pa.Schema, where: str | os.PathLike[str], artefact: str, columns: list[Column]) -> pa.Schema:
    """:func:`validate_parquet`'s checks on a schema already read (``where`` names the file)."""
    meta = schema.metadata or {}
    if meta.get(ARTEFACT_METADATA_KEY) != artefact.encode():
        found = meta.get(ARTEFACT_METADATA_KEY, b"none").decode(errors="replace")
        raise TraceFormatError(where, f"not a maestro {artefact} file (artefact metadata: {found})")
    version = meta.get(SCHEMA_VERSION_METADATA_KEY, b"").decode(errors="replace")
    if version != str(SCHEMA_VERSION):
        raise TraceFormatError(where, f"schema version {version!r}; this maestro reads version {SCHEMA_VERSION}")
    for c in columns:
        idx = schema.get_field_index(c.name)
        if idx < 0:
            if c.optional:
                continue  # added after this file was written: readers fill it with nulls
            raise TraceFormatError(where, f"missing column {c.name!r}")
        if schema.field(idx).type != c.type:
            raise TraceFormatError(where, f"column {c.name!r} has type {schema.field(idx).type}, expected {c.type}")
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
    return _old_judgement(fill_optional(_read_table(path), RUN_COLUMNS))


def _runs_file(loc: Location, path: str) -> pa.Table:
    if loc.local:
        return read_runs_table(Path(path))
    try:
        f = loc.parquet_file(path)
        check_schema(f.schema_arrow, loc.display(path), "runs", RUN_COLUMNS)
        table = f.read()
    except (pa.ArrowInvalid, OSError) as e:
        raise TraceFormatError(loc.display(path), f"not a readable parquet file (truncated or corrupt: {e})") from e
    return _old_judgement(fill_optional(table, RUN_COLUMNS))


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
    """Every ``*.parquet`` file of a spans/ or resources/ folder (per-run files only) as one
    frame; see :func:`maestro.store.dataset.scan` for both stored forms."""
    from maestro.store.dataset import scan

    loc = Location.of(folder.parent)
    return to_frame(scan(loc, artefact, warnings=warnings, compacted=False))


def load_study(path: str | os.PathLike[str] | Location, *, spans: bool = True, resources: bool = True,
               endpoint: str | None = None) -> Study:
    """Load a study (``traces/<study_id>``, or ``s3://bucket/prefix/<study_id>``).

    The tables have the stored columns (docs/trace-format.md) in the readers' dtypes
    (:func:`to_frame`: ``str``, ``Int64``, ``float64``, ``boolean``, plus a UTC timestamp
    after each ns time column), the same names and dtypes as the analysis frames and the
    duckdb views. Both stored forms are read: per-run files and compacted generations
    (:mod:`maestro.store.compact`), and the run index with the run records written since
    it was last folded.

    Args:
        path: the study folder or URI.
        spans / resources: set False to skip reading those tables (faster for run-level work).
        endpoint: S3 endpoint for an ``s3://`` location (else ``MAESTRO_S3_ENDPOINT``).

    Raises:
        TraceFormatError: a file is missing, malformed, truncated, foreign or of another schema version.
    """
    from maestro.store.dataset import per_run_ids, scan

    loc = Location.of(path, endpoint=endpoint)
    if not loc.is_dir(loc.root):
        raise TraceFormatError(loc.uri, "no such study folder")
    info = read_study_json(loc, "study.json")
    runs_table = read_runs(loc)
    attempts = dict(zip(runs_table.column("run_id").to_pylist(), runs_table.column("attempt").to_pylist()))
    runs = to_frame(runs_table)
    warnings: list[str] = []
    span_df = to_frame(scan(loc, "spans", attempts=attempts, warnings=warnings)) if spans else None
    res_df = to_frame(scan(loc, "resources", attempts=attempts, warnings=warnings)) if resources else None
    study = Study(Path(loc.root) if loc.local else loc.uri, info, runs, span_df, res_df, warnings)  # type: ignore[arg-type]
    orphans = per_run_ids(loc, "spans") - set(attempts)
    if orphans:
        study.warnings.append(
            f"{len(orphans)} run(s) have spans but no row in runs.parquet (interrupted; a resume reruns them)"
        )
    quarantined = loc.listdir(loc.path("quarantine"))
    if quarantined:
        study.warnings.append(f"{len(quarantined)} file(s) in quarantine/: partial writes and interrupted attempts "
                              "a resume set aside (not loaded; see maestro runs ls --verbose)")
    return study


RUN_RECORD_FORMAT = "maestro.run_record"
"""Value of the ``format`` key of every ``runlog/<run_id>.json`` record."""


def record_path(loc: Location, run_id: str) -> str:
    """Where the record of ``run_id`` lives."""
    from maestro.store.layout import valid_id

    return loc.path("runlog", f"{valid_id(run_id, 'run id')}.json")


def read_run_records(loc: Location) -> dict[str, dict[str, Any]]:
    """run_id -> row of every record in ``runlog/`` (written since the index was last folded)."""
    out: dict[str, dict[str, Any]] = {}
    folder = loc.path("runlog")
    for name in loc.listdir(folder):
        if name.startswith(".") or not name.endswith(".json"):
            continue  # a writer's temporary file, never data
        path = f"{folder}/{name}"
        try:
            rec = json.loads(loc.read_bytes(path))
        except (ValueError, UnicodeDecodeError) as e:
            raise TraceFormatError(loc.display(path), f"not a valid run record ({e})") from e
        except FileNotFoundError:
            continue  # folded into runs.parquet while we listed
        if not isinstance(rec, dict) or rec.get("format") != RUN_RECORD_FORMAT or not isinstance(rec.get("row"), dict):
            raise TraceFormatError(loc.display(path), f"not a maestro run record (expected \"format\": "
                                   f"\"{RUN_RECORD_FORMAT}\" and a row)")
        if rec.get("schema_version") != SCHEMA_VERSION:
            raise TraceFormatError(loc.display(path), f"schema version {rec.get('schema_version')!r}; this maestro "
                                   f"reads version {SCHEMA_VERSION}")
        out[rec["row"]["run_id"]] = rec["row"]
    return out


def _old_judgement(table: pa.Table) -> pa.Table:
    i = table.schema.get_field_index("judgement")
    old = pc.equal(table.column(i), "unknown")
    if pc.any(old).as_py():
        table = table.set_column(i, "judgement", pc.if_else(old, "unjudged", table.column(i)))
    return table


def read_runs(where: str | os.PathLike[str] | Location) -> pa.Table:
    """The study's run index as an Arrow table, sorted by run id: ``runs.parquet`` with every
    run record written since it was last folded (a record replaces the row of its run)."""
    loc = Location.of(where)
    path = loc.path("runs.parquet")
    base = _runs_file(loc, path) if loc.is_file(path) else None
    records = read_run_records(loc)
    if not records:
        return base if base is not None else table_from_rows(RUN_COLUMNS, [], {})
    extra = _old_judgement(table_from_rows(RUN_COLUMNS, list(records.values()), {}))
    if base is not None and base.num_rows:
        keep = pc.invert(pc.is_in(base.column("run_id"), value_set=pa.array(list(records), pa.string())))
        extra = pa.concat_tables([base.filter(keep), extra.cast(base.schema)])
    return extra.sort_by("run_id")


def _json_value(value: Any) -> Any:
    # numpy scalars keep their type through the record (an int stays an int); else text
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


class RunIndex:
    """The study's run index in memory: ``runs.parquet`` plus the run records since.

    The runner owns it. :meth:`record` writes one ``runlog/<run_id>.json`` record per
    finished run (atomic and durable, O(1): earlier rows are never rewritten);
    :meth:`write` folds every row into ``runs.parquet`` (atomic) and then removes the
    folded records, at the end of a study, on compaction, or when a recorded run is taken
    back. A killed study loses no recorded row: a record left after its fold holds the
    same row the index does.
    """

    def __init__(self, layout: StudyLayout | Location | str | os.PathLike[str]):
        self.layout = layout if isinstance(layout, StudyLayout) else None
        self.location = Location.of(layout.root if isinstance(layout, StudyLayout) else layout)
        self.rows: dict[str, dict[str, Any]] = {}
        # an older file gains its missing optional columns (as nulls) on the next write
        for row in read_runs(self.location).to_pylist():
            self.rows[row["run_id"]] = row
        self._pending = bool(self.location.listdir(self.location.path("runlog")))

    def __contains__(self, run_id: str) -> bool:
        return run_id in self.rows

    def get(self, run_id: str) -> dict[str, Any] | None:
        return self.rows.get(run_id)

    def record(self, row: dict[str, Any]) -> None:
        """Record a finished run: its row in memory and one durable record file (O(1))."""
        loc = self.location
        self.rows[row["run_id"]] = row
        loc.makedirs(loc.path("runlog"))
        body = {"format": RUN_RECORD_FORMAT, "schema_version": SCHEMA_VERSION, "row": row}
        loc.write_bytes(record_path(loc, row["run_id"]), json.dumps(body, default=_json_value).encode())
        self._pending = True

    def upsert(self, row: dict[str, Any], write: bool = True) -> None:
        """Set a run's row; ``write`` folds the whole index into ``runs.parquet`` at once
        (one-off writers such as ``trace_run``; a study uses :meth:`record`)."""
        self.rows[row["run_id"]] = row
        if write:
            self.write()

    def remove(self, run_id: str) -> dict[str, Any]:
        """Take a recorded run back (its row is returned); :meth:`write` makes it durable."""
        return self.rows.pop(run_id)

    def write(self) -> None:
        """Fold every row into ``runs.parquet`` (atomic, durable), then remove the records
        it now holds (after the fold: a kill in between leaves records equal to rows)."""
        loc = self.location
        folder = loc.path("runlog")
        records = [n for n in loc.listdir(folder) if n.endswith(".json") and not n.startswith(".")]
        rows = sorted(self.rows.values(), key=lambda r: r["run_id"])
        loc.write_table(table_from_rows(RUN_COLUMNS, rows, file_metadata("runs")), loc.path("runs.parquet"))
        for name in records:
            loc.delete(f"{folder}/{name}")
        if records:
            loc.sync_dir(folder)
        self._pending = False

    def flush(self) -> None:
        """:meth:`write` when run records wait to be folded (the end of a study)."""
        if self._pending or not self.location.exists(self.location.path("runs.parquet")):
            self.write()


class RunHistory:
    """``history/``: superseded attempts of runs that ran again (a ``retry``, or a run taken
    back because its backend was down). Each archived attempt keeps its row in
    ``history/runs.parquet`` and its files as ``history/{spans,resources}/<run_id>.attempt<N>.parquet``
    (copied out of the compacted generation when the run's per-run files were compacted).
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
        from maestro.store.dataset import extract_compacted_run

        run_id, attempt = row["run_id"], row.get("attempt") or 1
        rows = self.rows() + [row]
        atomic_write_table(table_from_rows(RUN_COLUMNS, rows, file_metadata("runs")), self.runs_parquet)
        for src, folder in ((self.layout.spans_file(run_id), "spans"), (self.layout.resources_file(run_id), "resources")):
            target = self.root / folder / f"{run_id}.attempt{attempt}.parquet"
            if src.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, target)
            else:
                # compacted: a copy goes here; readers skip the compacted rows of a run that
                # is no longer recorded with that attempt, and the next compaction drops them
                extract_compacted_run(Location.of(self.layout.root), folder, run_id, attempt, str(target))
