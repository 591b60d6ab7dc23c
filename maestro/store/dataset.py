"""Reading a study's spans and resources in both stored forms, projected and filtered.

A study holds a table's rows in two forms at once:

* per-run files ``spans/<run_id>.parquet`` (the crash-safe write path of every run), and
* the committed compacted generation ``compacted/gen-<N>/`` named by ``compacted/CURRENT.json``
  (large files, row groups ordered by run, see :mod:`maestro.store.compact`).

The rows of run ``X`` come from its per-run file when there is one, else from the compacted
generation, and from there only while the run index records ``X`` with the attempt the
generation holds (a run taken back or run again is never read from an older compacted
copy). Each run's rows are therefore read exactly once whatever point a compaction was
killed at. Only the columns asked for are read, and filters are pushed down to the files
(row-group statistics on ``run_id`` and ``span_type``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from maestro.semconv import SCHEMA_VERSION
from maestro.store.layout import TMP_SUFFIX, file_metadata, table_from_rows
from maestro.store.location import Location
from maestro.store.reader import TraceFormatError, check_schema, fill_optional
from maestro.store.schema import TABLES, arrow_schema

__all__ = ["Manifest", "MANIFEST_FORMAT", "read_manifest", "per_run_files", "per_run_ids", "scan",
           "extract_compacted_run", "ARTEFACTS"]

ARTEFACTS = ("spans", "resources")
"""The per-run tables that compaction merges."""

MANIFEST_FORMAT = "maestro.compacted"
"""Value of the ``format`` key of ``compacted/CURRENT.json``."""


@dataclass
class Manifest:
    """The committed compacted generation."""

    generation: int
    """Its number (``compacted/gen-<N>/``)."""
    files: dict[str, list[str]]
    """Artefact -> file paths relative to ``compacted/``."""
    runs: dict[str, int]
    """run_id -> the attempt whose rows the generation holds."""
    rows: dict[str, int] = field(default_factory=dict)
    """Artefact -> rows it holds."""

    def to_json(self) -> dict[str, Any]:
        return {"format": MANIFEST_FORMAT, "schema_version": SCHEMA_VERSION, "generation": self.generation,
                "files": self.files, "runs": self.runs, "rows": self.rows}


def read_manifest(loc: Location) -> Manifest | None:
    """The committed generation, or None when the study was never compacted."""
    path = loc.path("compacted", "CURRENT.json")
    try:
        data = json.loads(loc.read_bytes(path))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as e:
        raise TraceFormatError(loc.display(path), f"not valid JSON ({e})") from e
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise TraceFormatError(loc.display(path), f"not a maestro compaction manifest (\"format\": \"{MANIFEST_FORMAT}\")")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise TraceFormatError(loc.display(path), f"schema version {data.get('schema_version')!r}; this maestro reads "
                               f"version {SCHEMA_VERSION}")
    return Manifest(int(data["generation"]), {k: list(v) for k, v in data["files"].items()},
                    {k: int(v) for k, v in data["runs"].items()}, dict(data.get("rows") or {}))


def per_run_files(loc: Location, artefact: str) -> tuple[dict[str, str], list[str]]:
    """run_id -> path of each ``<artefact>/<run_id>.parquet``, and the names of entries that
    are not (hidden files, other files; a writer's temporaries are left out silently)."""
    folder = loc.path(artefact)
    files, skipped = {}, []
    for name in loc.listdir(folder):
        if name.startswith(".") and name.endswith(TMP_SUFFIX):
            continue  # a writer's temporary file: never data
        if name.startswith(".") or not name.endswith(".parquet"):
            skipped.append(name)
            continue
        files[name[: -len(".parquet")]] = f"{folder}/{name}"
    return files, skipped


def per_run_ids(loc: Location, artefact: str) -> set[str]:
    """Run ids that have a per-run file of ``artefact``."""
    return set(per_run_files(loc, artefact)[0])


OnError = Callable[[TraceFormatError], None]


def _validated_fragments(loc: Location, paths: list[str], artefact: str, on_error: OnError | None,
                         schema: pa.Schema) -> list[ds.ParquetFileFragment]:
    """One fragment per readable file whose footer passes the store's checks (a bad file
    raises, or is passed to ``on_error`` and left out)."""
    if not paths:
        return []
    fmt = ds.ParquetFileFormat()
    columns = TABLES[artefact]
    out = []
    for p in paths:
        try:
            frag = fmt.make_fragment(p, filesystem=loc.fs)
            try:
                physical = frag.physical_schema  # reads the footer once; the scan reuses it
            except (pa.ArrowInvalid, OSError) as e:
                raise TraceFormatError(loc.display(p), f"not a readable parquet file (truncated or corrupt: {e})") from e
            check_schema(physical, loc.display(p), artefact, columns)
            out.append(frag)
        except TraceFormatError as e:
            if on_error is None:
                raise
            on_error(e)
    return out


def _to_table(loc: Location, fragments: list[ds.ParquetFileFragment], schema: pa.Schema, names: list[str],
              filter: pc.Expression | None, on_error: OnError | None) -> pa.Table:
    if not fragments:
        return schema.empty_table().select(names)
    dataset = ds.FileSystemDataset(fragments, schema, ds.ParquetFileFormat(), loc.fs)
    try:
        return dataset.to_table(columns=names, filter=filter, use_threads=True)
    except (pa.ArrowInvalid, OSError) as e:
        # name the file: read them one at a time
        tables = []
        for frag in fragments:
            try:
                tables.append(ds.FileSystemDataset([frag], schema, ds.ParquetFileFormat(), loc.fs)
                              .to_table(columns=names, filter=filter))
            except (pa.ArrowInvalid, OSError) as e2:
                err = TraceFormatError(loc.display(frag.path), f"cannot read data (truncated or corrupt: {e2})")
                if on_error is None:
                    raise err from e
                on_error(err)
        return pa.concat_tables(tables) if tables else schema.empty_table().select(names)


def scan(loc: Location, artefact: str, names: list[str] | None = None, filter: pc.Expression | None = None,
         *, attempts: dict[str, Any] | None = None, warnings: list[str] | None = None,
         on_error: OnError | None = None, compacted: bool = True) -> pa.Table:
    """Rows of ``artefact`` (``spans`` or ``resources``) from both stored forms.

    Args:
        names: columns to read (default all stored columns, in store order).
        filter: a ``pyarrow.dataset`` expression pushed down to the files.
        attempts: run_id -> attempt of the run index; compacted rows are read only for runs
            it records with the attempt the generation holds (None: every compacted run).
        warnings: receives non-fatal findings (entries that are not per-run files,
            span ids in more than one file).
        on_error: given, a malformed file is passed to it and skipped; else it raises.
        compacted: False reads the per-run files only.
    """
    columns = TABLES[artefact]
    schema = arrow_schema(columns)
    names = names or [c.name for c in columns]
    files, skipped = per_run_files(loc, artefact)
    if skipped and warnings is not None:
        n = len(skipped)
        warnings.append(f"{artefact}/: ignored {n} entr{'y' if n == 1 else 'ies'} that {'is' if n == 1 else 'are'} "
                        f"not <run_id>.parquet: {', '.join(skipped[:5])}{' ...' if n > 5 else ''}")
    parts = []
    manifest = read_manifest(loc) if compacted else None
    if manifest is not None and manifest.files.get(artefact):
        cpaths = [loc.path("compacted", f) for f in manifest.files[artefact]]
        # a run's compacted rows yield to its per-run file, and to a newer or missing record
        excluded = [r for r, a in manifest.runs.items()
                    if r in files or (attempts is not None and attempts.get(r) != a)]
        cfilter = filter
        if excluded:
            keep = ~pc.field("run_id").isin(pa.array(excluded, pa.string()))
            cfilter = keep if cfilter is None else cfilter & keep
        frags = _validated_fragments(loc, cpaths, artefact, on_error, schema)
        parts.append(_to_table(loc, frags, schema, names, cfilter, on_error))
    paths = list(files.values())  # in file-name order
    per_run = _read_small_files(loc, paths, artefact, names, filter, on_error)
    parts.append(per_run)
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    if artefact == "spans" and warnings is not None and "span_id" in names and per_run.num_rows:
        # a copied span file is a per-run file (compaction merges recorded runs' files only)
        _warn_duplicate_spans(loc, per_run, paths, warnings)
    return fill_optional(table, columns, names)


def _read_small_files(loc: Location, paths: list[str], artefact: str, names: list[str],
                      filter: pc.Expression | None, on_error: OnError | None) -> pa.Table:
    """Per-run files, each footer read once and checked, read by a few threads (a dataset
    scan pays more per file than the files' own reads for thousands of small files)."""
    from concurrent.futures import ThreadPoolExecutor

    columns = TABLES[artefact]
    wanted = [c for c in columns if c.name in names]

    def read(path: str) -> pa.Table | TraceFormatError:
        try:
            try:
                f = loc.parquet_file(path)
                schema = f.schema_arrow
            except (pa.ArrowInvalid, OSError) as e:
                raise TraceFormatError(loc.display(path), f"not a readable parquet file (truncated or corrupt: {e})") \
                    from e
            check_schema(schema, loc.display(path), artefact, columns)
            try:
                t = f.read(columns=[n for n in names if schema.get_field_index(n) >= 0], use_threads=False)
            except (pa.ArrowInvalid, OSError) as e:
                raise TraceFormatError(loc.display(path), f"cannot read data (truncated or corrupt: {e})") from e
            t = fill_optional(t, columns, names).replace_schema_metadata(None)
            return t.filter(filter) if filter is not None else t
        except TraceFormatError as e:
            return e

    if len(paths) > 8:
        with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
            results = list(pool.map(read, paths, chunksize=16))
    else:
        results = [read(p) for p in paths]
    tables = []
    for r in results:
        if isinstance(r, TraceFormatError):
            if on_error is None:
                raise r
            on_error(r)
        else:
            tables.append(r)
    if not tables:
        return table_from_rows(wanted, [], {}).select(names)
    return pa.concat_tables(tables)


def _warn_duplicate_spans(loc: Location, table: pa.Table, paths: list[str], warnings: list[str]) -> None:
    """Name span ids that appear in more than one file (a copied span file), with both files."""
    if pc.count_distinct(table.column("span_id")).as_py() == table.num_rows:
        return
    # the slow path runs only when there is a duplicate: which files hold which ids
    ids, owner = [], []
    for path in paths:
        col = loc.parquet_file(path).read(columns=["span_id"]).column("span_id").to_pylist()
        ids += col
        owner += [path.rsplit("/", 1)[-1]] * len(col)
    df = pd.DataFrame({"span_id": ids, "file": owner})
    dup = df[df["span_id"].duplicated(keep=False)]
    pairs = dup.groupby("span_id")["file"].unique()
    pairs = pairs[pairs.map(len) > 1]
    if pairs.empty:
        warnings.append("span ids appear more than once across the study's span files")
        return
    names = " and ".join(f"spans/{f}" for f in pairs.iloc[0][:2])
    warnings.append(f"{len(pairs)} span id(s) appear in more than one file (e.g. {pairs.index[0]} in {names}): "
                    "a copied or duplicated span file; remove the copy")


def extract_compacted_run(loc: Location, artefact: str, run_id: str, attempt: int, target: str) -> bool:
    """Copy ``run_id``'s rows of ``artefact`` out of the compacted generation into a file of
    its own at local path ``target`` (for ``history/``). False when the generation holds none."""
    from maestro.store.layout import atomic_write_table

    manifest = read_manifest(loc)
    if manifest is None or run_id not in manifest.runs or not manifest.files.get(artefact):
        return False
    columns = TABLES[artefact]
    schema = arrow_schema(columns)
    frags = _validated_fragments(loc, [loc.path("compacted", f) for f in manifest.files[artefact]], artefact,
                                 None, schema)
    table = _to_table(loc, frags, schema, [c.name for c in columns], pc.field("run_id") == run_id, None)
    meta = file_metadata(artefact, {"run_id": run_id, "attempt": str(attempt)})
    atomic_write_table(table.replace_schema_metadata(meta) if table.num_rows else
                       table_from_rows(columns, [], meta), target)
    return True

