"""A study whose home is object storage, run from a local staging copy.

The runner's crash-safe write path (atomic renames, fsync, the study lock, history) needs a
local folder, so a study at ``s3://bucket/prefix/<study_id>`` runs in a staging folder and
:class:`StudyMirror` keeps the two in step:

* :meth:`StudyMirror.pull` copies the stored study into the staging folder before anything
  runs (a resume or an extension reads what object storage holds, from any machine);
* :meth:`StudyMirror.push_run` uploads a finished run's files and then its run record, each
  one PUT, as soon as the run is recorded: a record in object storage always has its files
  there, and a study process killed at any point has lost no recorded run;
* :meth:`StudyMirror.push` makes object storage equal the staging folder: uploads what is new
  or changed, then deletes what the staging folder no longer has (per-run files merged by
  compaction, folded run records), so a reader never sees a gap.

Staging folders are ``<tmp>/maestro-staging-<pid>/``; one whose process is gone is removed by
the next study (:func:`remove_orphaned_folders`). Object storage has no lock: one runner per
study location at a time is the caller's to ensure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.fs as pafs

from maestro.store.location import Location

__all__ = ["StudyMirror", "StagingFolder", "remove_orphaned_folders", "STAGING_PREFIX"]

STAGING_PREFIX = "maestro-staging-"
"""Staging folders are ``<tmp>/maestro-staging-<pid>``."""


def remove_orphaned_folders(prefix: str) -> int:
    """Remove ``<tmp>/<prefix><pid>`` folders whose process is gone (one killed mid-study
    leaves its folder behind). Returns how many were removed."""
    import psutil

    removed = 0
    for d in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        pid = d.name[len(prefix):]
        if pid.isdigit() and int(pid) != os.getpid() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
    return removed


class StagingFolder:
    """This process's staging folder (created on enter, removed on exit)."""

    def __init__(self) -> None:
        self.path = Path(tempfile.gettempdir()) / f"{STAGING_PREFIX}{os.getpid()}"

    def __enter__(self) -> Path:
        remove_orphaned_folders(STAGING_PREFIX)  # whatever those studies recorded is in object storage
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _upload_order(rel: str) -> int:
    """Uploads follow the store's commit order, so a reader (or a resume) listing object
    storage midway finds every recorded run whole: a generation's files before the
    ``CURRENT.json`` that names them, the run index before anything it replaces is deleted,
    a run's per-run files before its run record."""
    if rel.startswith("compacted/gen-"):
        return 0
    if rel == "compacted/CURRENT.json":
        return 1
    if rel == "runs.parquet":
        return 2
    if rel.startswith(("spans/", "resources/")):
        return 4
    if rel.startswith("runlog/"):
        return 5
    return 3  # study.json, summary.json, history/, quarantine/


class StudyMirror:
    """Keeps ``remote`` (a study's object-storage location) equal to ``local`` (its staging
    folder). Files are compared by what this mirror pulled or pushed (size and mtime of the
    local file), so an unchanged file is never uploaded twice."""

    def __init__(self, remote: Location, local: str | os.PathLike[str]):
        self.remote = remote
        self.local = Path(local)
        self._synced: dict[str, tuple[int, int]] = {}  # relative path -> (size, mtime_ns) at its last transfer

    @contextlib.contextmanager
    def _storage(self, doing: str) -> Iterator[None]:
        """An object-storage failure as one OSError that names the study and what was lost."""
        try:
            yield
        except OSError as e:
            raise OSError(f"object storage {self.remote.uri}: {doing} failed ({_one_line(e)}); every run recorded "
                          "before is stored there, the others run again on resume") from e

    def _remote_files(self) -> list[str]:
        selector = pafs.FileSelector(self.remote.root, allow_not_found=True, recursive=True)
        prefix = self.remote.root.rstrip("/") + "/"
        return sorted(i.path[len(prefix):] for i in self.remote.fs.get_file_info(selector)
                      if i.type == pafs.FileType.File)

    def _local_files(self) -> list[str]:
        return sorted(p.relative_to(self.local).as_posix() for p in self.local.rglob("*")
                      if p.is_file() and not p.name.startswith("."))  # dot files: the lock, temporaries

    def _stat(self, rel: str) -> tuple[int, int]:
        st = (self.local / rel).stat()
        return st.st_size, st.st_mtime_ns

    def pull(self) -> int:
        """Copy every file of the stored study into the staging folder; how many."""
        with self._storage("reading the stored study"):
            names = self._remote_files()
            for rel in names:
                dest = self.local / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(self.remote.read_bytes(self.remote.path(rel)))
                self._synced[rel] = self._stat(rel)
        return len(names)

    def _upload(self, rel: str) -> None:
        self.remote.upload(self.local / rel, self.remote.path(rel))
        self._synced[rel] = self._stat(rel)

    def push_run(self, run_id: str) -> None:
        """Upload one recorded run: its spans and resources files, then its run record."""
        with self._storage(f"storing run {run_id}"):
            for rel in (f"spans/{run_id}.parquet", f"resources/{run_id}.parquet", f"runlog/{run_id}.json"):
                if (self.local / rel).is_file():
                    self._upload(rel)

    def push(self) -> tuple[int, int]:
        """Make object storage equal the staging folder: upload new or changed files (run
        index and compacted files before anything is removed), then delete stored files the
        staging folder no longer has. Returns (uploaded, deleted)."""
        present = self._local_files()
        changed = sorted((rel for rel in present if self._synced.get(rel) != self._stat(rel)), key=_upload_order)
        with self._storage("updating the stored study"):
            for rel in changed:
                self._upload(rel)
            gone = sorted(set(self._remote_files()) - set(present))
            for rel in gone:
                self.remote.delete(self.remote.path(rel))
                self._synced.pop(rel, None)
        return len(changed), len(gone)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:300] or type(e).__name__
