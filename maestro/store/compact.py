"""Compaction: a study's per-run files merged into a few large files, atomically.

Per-run files (``spans/<run_id>.parquet``, ``resources/<run_id>.parquet``) stay the
crash-safe write path of every run. Compaction (at the end of a study with at least
``MAESTRO_COMPACT_MIN_RUNS`` per-run files, and on ``maestro compact STUDY``) merges the
committed generation and the per-run files of every recorded run into generation N+1:

1. ``compacted/gen-<N+1>/{spans,resources}-<k>.parquet`` are written, sorted by run (spans
   by run, then start time), row groups of :data:`ROW_GROUP_ROWS` rows with min/max
   statistics, so a filter on ``run_id`` or ``span_type`` skips row groups; each file is
   fsynced before it counts.
2. ``compacted/CURRENT.json`` is replaced atomically (fsync, rename, fsync of the folder):
   the commit. It names the generation's files and the run -> attempt it holds.
3. The run index is folded into ``runs.parquet`` (records removed after the fold).
4. The per-run files now in the generation are removed, then the older generations.

A kill before (2) leaves the old generation current and every per-run file in place; a kill
after it leaves per-run files that readers prefer to the same run's compacted rows
(:mod:`maestro.store.dataset`), so no point of a kill loses or double-counts a row. A
resumed or extended study writes new per-run files and compacts again. Per-run files of a
run that has no row in the index (an interrupted run) are never compacted: a resume
quarantines and reruns it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from maestro import settings
from maestro.store.dataset import ARTEFACTS, Manifest, per_run_files, read_manifest, scan
from maestro.store.layout import file_metadata
from maestro.store.location import Location
from maestro.store.lock import StudyLock
from maestro.store.reader import RunIndex, read_study_json

__all__ = ["compact", "CompactionResult", "compacted_files", "ROW_GROUP_ROWS", "FILE_ROWS", "CHECKPOINT"]

ROW_GROUP_ROWS = 64 * 1024
"""Rows per row group of a compacted file (each carries run_id/span_type min/max statistics)."""

FILE_ROWS = 4 * 1024 * 1024
"""Rows per compacted file at most."""

CHECKPOINT: Callable[[str], None] | None = None
"""Test hook: called with the name of each step compaction has made durable (the crash
tests kill the process there)."""

_SORT = {"spans": [("run_id", "ascending"), ("start_time_ns", "ascending")],
         "resources": [("run_id", "ascending"), ("time_ns", "ascending")]}


def _checkpoint(step: str) -> None:
    if CHECKPOINT is not None:
        CHECKPOINT(step)


@dataclass
class CompactionResult:
    """What :func:`compact` did."""

    generation: int | None
    """The committed generation afterwards (None: never compacted)."""
    compacted: bool
    """True when a new generation was written."""
    runs: int
    """Runs the generation holds."""
    merged_files: int
    """Per-run files merged into it (and removed)."""
    rows: dict[str, int]
    """Artefact -> rows in the generation."""
    wall_s: float
    """Seconds taken."""
    reason: str = ""
    """Why nothing was compacted, when nothing was."""


def compacted_files(where: str | os.PathLike[str] | Location, artefact: str) -> list[str]:
    """Paths of the committed generation's files of ``artefact`` (empty when never compacted)."""
    loc = Location.of(where)
    manifest = read_manifest(loc)
    return [loc.path("compacted", f) for f in (manifest.files.get(artefact, []) if manifest else [])]


def compact(where: str | os.PathLike[str] | Location, *, force: bool = False, min_runs: int | None = None,
            index: RunIndex | None = None, lock: bool = True, endpoint: str | None = None) -> CompactionResult:
    """Merge a study's per-run files into a new compacted generation (see the module doc).

    Args:
        where: the study folder or ``s3://`` URI.
        force: compact whatever the number of per-run files (``maestro compact``).
        min_runs: compact only when at least this many recorded runs have per-run files
            (default ``MAESTRO_COMPACT_MIN_RUNS``); the run index is folded either way.
        index: the caller's run index (the runner's, already loaded); else it is read.
        lock: take the study's lock (a local study; the runner already holds it).

    Raises:
        StudyLockedError: another process is writing the study.
        TraceFormatError: a file of the study is malformed (nothing is changed).
    """
    loc = Location.of(where, endpoint=endpoint)
    if lock and loc.local:
        with StudyLock(loc.root, wait_s=0.0, purpose="maestro compact"):
            return _compact(loc, force, min_runs, index)
    return _compact(loc, force, min_runs, index)


def _compact(loc: Location, force: bool, min_runs: int | None, index: RunIndex | None) -> CompactionResult:
    t0 = time.perf_counter()
    read_study_json(loc)
    index = index if index is not None else RunIndex(loc)
    attempts = {r: (row.get("attempt") or 1) for r, row in index.rows.items()}
    old = read_manifest(loc)
    per_run = {a: per_run_files(loc, a)[0] for a in ARTEFACTS}
    mergeable = {a: {r: p for r, p in per_run[a].items() if r in attempts} for a in ARTEFACTS}
    stale = [r for r, a in (old.runs.items() if old else []) if attempts.get(r) != a]
    n_new = len(set(mergeable["spans"]) | set(mergeable["resources"]))
    threshold = settings.COMPACT_MIN_RUNS.get(min_runs)
    if not stale and (n_new == 0 or (not force and n_new < threshold)):
        index.flush()
        _remove_old_generations(loc, f"gen-{old.generation:06d}" if old else None)
        why = "nothing new to compact" if n_new == 0 else f"{n_new} run(s) with per-run files (< {threshold})"
        return CompactionResult(old.generation if old else None, False, len(old.runs) if old else 0, 0,
                                dict(old.rows) if old else {}, time.perf_counter() - t0, why)

    gen = (old.generation if old else 0) + 1
    gen_dir = f"gen-{gen:06d}"
    loc.delete_dir(loc.path("compacted", gen_dir))  # a killed compaction's leftovers (never current)
    loc.makedirs(loc.path("compacted", gen_dir))
    files: dict[str, list[str]] = {}
    rows: dict[str, int] = {}
    for artefact in ARTEFACTS:
        # everything the readers would return for recorded runs, merged: the old generation's
        # rows still current plus the per-run files (they win), then sorted by run
        table = scan(loc, artefact, attempts=attempts)
        table = table.filter(pc.is_in(table.column("run_id"), value_set=pa.array(list(attempts), pa.string())))
        table = table.sort_by(_SORT[artefact]).replace_schema_metadata(file_metadata(artefact, {"compacted": "1"}))
        files[artefact], rows[artefact] = [], table.num_rows
        for k, start in enumerate(range(0, max(table.num_rows, 1), FILE_ROWS)):
            name = f"{gen_dir}/{artefact}-{k:05d}.parquet"
            loc.write_table(table.slice(start, FILE_ROWS), loc.path("compacted", name),
                            row_group_size=ROW_GROUP_ROWS, write_statistics=True)
            files[artefact].append(name)
        del table
    loc.sync_dir(loc.path("compacted", gen_dir))
    _checkpoint("generation-written")
    # every recorded run is held (one with no rows, a crash before any span, holds nothing)
    manifest = Manifest(gen, files, dict(sorted(attempts.items())), rows)
    loc.write_bytes(loc.path("compacted", "CURRENT.json"), json.dumps(manifest.to_json()).encode())
    _checkpoint("committed")
    index.write()
    _checkpoint("index-folded")
    merged = 0
    for artefact in ARTEFACTS:
        for path in mergeable[artefact].values():
            loc.delete(path)
            merged += 1
            if merged == 1:
                _checkpoint("removing-per-run-files")
        loc.sync_dir(loc.path(artefact))
    _checkpoint("per-run-files-removed")
    _remove_old_generations(loc, gen_dir)
    _checkpoint("done")
    return CompactionResult(gen, True, len(manifest.runs), merged, rows, time.perf_counter() - t0)



def _remove_old_generations(loc: Location, current: str | None) -> None:
    """Remove every generation folder but ``current`` (superseded ones, and leftovers of a
    compaction killed before its commit; readers follow CURRENT.json only)."""
    for name in loc.listdir(loc.path("compacted")):
        if name.startswith("gen-") and name != current:
            loc.delete_dir(loc.path("compacted", name))
