"""On-disk layout of a study and the atomic writers every artefact goes through.

```
traces/<study_id>/
  study.json            config, package versions, schema version, seeds, price snapshot
  runs.parquet          the run index: one row per finished run, as of the last fold
  runlog/<run_id>.json         one record per run finished since (O(1) per run; newer than runs.parquet)
  spans/<run_id>.parquet       spans of one run (the crash-safe write path)
  resources/<run_id>.parquet   resource samples of one run
  compacted/CURRENT.json       the committed compaction generation (maestro.store.compact)
  compacted/gen-<N>/           its large spans/resources files, row groups ordered by run
  history/                     superseded attempts of retried runs (rows and files)
  quarantine/                  files a resume could not account for (never deleted)
```

Every file is written to a temporary name in the same folder, flushed to disk (fsync of the
file, then of its folder after the rename, unless ``MAESTRO_FSYNC=0``) and renamed into
place, so a reader, a study killed with SIGKILL or a power cut never sees a half-written
file. Leftover ``*.tmp`` files from a killed writer are ignored by readers and moved to
``quarantine/`` on resume.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from maestro import settings
from maestro.semconv import ARTEFACT_METADATA_KEY, SCHEMA_VERSION, SCHEMA_VERSION_METADATA_KEY
from maestro.store.schema import Column, arrow_schema

__all__ = [
    "StudyLayout",
    "TMP_SUFFIX",
    "file_metadata",
    "table_from_rows",
    "atomic_write_table",
    "atomic_write_json",
    "atomic_write_bytes",
    "atomic_copy",
    "StreamingParquetWriter",
    "valid_id",
]

TMP_SUFFIX = ".tmp"
"""Suffix of files being written; never read as data."""


_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def valid_id(value: str, what: str) -> str:
    """Check that ``value`` is usable as a study or run id (a safe file name)."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ValueError(
            f"invalid {what} {value!r}: use 1-200 characters from A-Z a-z 0-9 . _ - (not starting with . _ -)"
        )
    return value


class StudyLayout:
    """Paths of one study folder."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    @classmethod
    def for_study(cls, traces_dir: str | os.PathLike[str], study_id: str) -> StudyLayout:
        return cls(Path(traces_dir) / valid_id(study_id, "study id"))

    @property
    def study_id(self) -> str:
        return self.root.name

    @property
    def study_json(self) -> Path:
        return self.root / "study.json"

    @property
    def runs_parquet(self) -> Path:
        return self.root / "runs.parquet"

    @property
    def spans_dir(self) -> Path:
        return self.root / "spans"

    @property
    def resources_dir(self) -> Path:
        return self.root / "resources"

    @property
    def runlog_dir(self) -> Path:
        return self.root / "runlog"

    @property
    def compacted_dir(self) -> Path:
        return self.root / "compacted"

    @property
    def history_dir(self) -> Path:
        return self.root / "history"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    def spans_file(self, run_id: str) -> Path:
        return self.spans_dir / f"{valid_id(run_id, 'run id')}.parquet"

    def resources_file(self, run_id: str) -> Path:
        return self.resources_dir / f"{valid_id(run_id, 'run id')}.parquet"

    def create(self) -> StudyLayout:
        for d in (self.root, self.spans_dir, self.resources_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self

    def quarantine_temporaries(self) -> list[Path]:
        """Move ``*.tmp`` leftovers of killed writers to ``quarantine/`` (never deleted:
        the study's lock guarantees no writer is alive). Returns where they went."""
        moved = []
        for d in (self.root, self.spans_dir, self.resources_dir, self.runlog_dir, self.compacted_dir):
            if d.is_dir():
                for p in sorted(d.glob(f"*{TMP_SUFFIX}")):
                    moved.append(self.quarantine(p, "partial"))
        return moved

    def quarantine(self, path: Path, why: str) -> Path:
        """Move ``path`` into ``quarantine/`` as ``<folder>.<why>.<name>`` (unique)."""
        self.quarantine_dir.mkdir(exist_ok=True)
        base = f"{path.parent.name}.{why}.{path.name.lstrip('.')}"
        target, n = self.quarantine_dir / base, 1
        while target.exists():
            n += 1
            target = self.quarantine_dir / f"{base}.{n}"
        os.replace(path, target)
        return target


def file_metadata(artefact: str, extra: dict[str, str] | None = None) -> dict[bytes, bytes]:
    """Parquet key-value metadata that every maestro file carries."""
    meta = {SCHEMA_VERSION_METADATA_KEY: str(SCHEMA_VERSION).encode(), ARTEFACT_METADATA_KEY: artefact.encode()}
    for k, v in (extra or {}).items():
        meta[f"maestro.{k}".encode()] = v.encode()
    return meta


def table_from_rows(columns: list[Column], rows: list[dict[str, Any]], metadata: dict[bytes, bytes]) -> pa.Table:
    """Arrow table with exactly ``columns`` (missing keys become nulls)."""
    schema = arrow_schema(columns, metadata)
    arrays = [pa.array([r.get(c.name) for r in rows], type=c.type) for c in columns]
    return pa.Table.from_arrays(arrays, schema=schema)


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rename(tmp: Path, path: Path) -> None:
    # The atomic rename protects readers and killed studies; the fsyncs make "written" mean
    # on disk (a power cut or a full disk at flush time shows up here, as an error).
    durable = settings.FSYNC.get()
    if durable:
        _fsync(tmp)
    os.replace(tmp, path)
    if durable:
        try:
            _fsync(path.parent)
        except OSError:  # folders cannot be opened for fsync everywhere
            pass


def atomic_write_table(table: pa.Table, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write ``table`` to ``path`` via a temporary file and an atomic rename (``kwargs`` go
    to ``pyarrow.parquet.write_table``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        pq.write_table(table, tmp, compression="snappy", **kwargs)
        _rename(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` as indented JSON via a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
        _rename(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_bytes(data: bytes, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        tmp.write_bytes(data)
        _rename(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_copy(src: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Copy file ``src`` to ``path`` via a temporary file and an atomic rename."""
    import shutil

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        shutil.copyfile(src, tmp)
        _rename(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


class StreamingParquetWriter:
    """Writes a table in row groups to a temporary file; ``close`` renames it into place.

    Used for span files, which can hold tens of thousands of spans: memory stays bounded
    and a run that is killed leaves only a ``.tmp`` file, never a truncated ``.parquet``.
    """

    def __init__(self, path: str | os.PathLike[str], columns: list[Column], metadata: dict[bytes, bytes]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.columns = columns
        self.schema = arrow_schema(columns, metadata)
        self._tmp = _tmp_path(self.path)
        self._writer: pq.ParquetWriter | None = None
        self.rows_written = 0

    def write_columns(self, data: dict[str, list[Any]]) -> None:
        """Append one row group given as column name -> values."""
        n = len(next(iter(data.values()))) if data else 0
        if n == 0:
            return
        arrays = [pa.array(data.get(c.name, [None] * n), type=c.type) for c in self.columns]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, self.schema, compression="snappy")
        self._writer.write_batch(batch)
        self.rows_written += n

    def close(self) -> Path:
        """Finish the file (an empty table if nothing was written) and rename it into place."""
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, self.schema, compression="snappy")
        self._writer.close()
        _rename(self._tmp, self.path)
        return self.path
