"""Running a study: expansion, resume, the simulated service, workers, progress, summary."""

from __future__ import annotations

import functools
import os
import platform
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from maestro import __version__
from maestro.backends import load_prices, parse_backend
from maestro.collector.export import RunIdentity
from maestro.instances import INSTANCE_MODULES
from maestro.runner.config import ConfigError, RunSpec, StudyConfig, expand_runs, incomparable_settings
from maestro.runner.executors import Preload, SimPlan, open_executor, resolve_executor
from maestro.runner.pool import StartMethod
from maestro.runner.preflight import preflight
from maestro.runner.record import RunRecord
from maestro.runner.systems import pickle_system
from maestro.runner.worker import WorkerContext
from maestro.semconv import SCHEMA_VERSION, RunStatus
from maestro.store.compact import compact
from maestro.store.layout import StudyLayout, atomic_write_json
from maestro.store.location import Location, is_uri
from maestro.store.lock import StudyLock
from maestro.store.mirror import StagingFolder, StudyMirror
from maestro.store.reader import STUDY_FORMAT, RunHistory, RunIndex, read_study_json

__all__ = ["StudyResult", "run_study", "failure_row", "RUN_STATUSES"]

RUN_STATUSES = tuple(s.value for s in RunStatus)
"""Every run status (``maestro.semconv.RunStatus``)."""

_RAISED = (RunStatus.EXCEPTION.value, RunStatus.CRASHED.value)

_VERSIONED = ("maestro-mas", "langgraph", "langchain-core", "langchain-openai", "openai", "autogen-agentchat",
              "google-adk", "google-genai", "opentelemetry-sdk", "pyarrow", "pandas", "psutil")


@dataclass
class StudyResult:
    """What ``run_study`` did."""

    path: Path | str
    """The study folder, or its URI (``s3://bucket/prefix/<study_id>``) for a study in
    object storage."""
    total: int
    """Runs in the study."""
    skipped: int
    """Runs already recorded (resume)."""
    executed: int
    """Runs executed now."""
    counts: dict[str, int]
    """Status -> runs, over the whole study."""
    wall_s: float
    """Wall time of this invocation."""
    summary: list[dict[str, Any]]
    """Per (instance, backend, tools) cell: runs, success/correct rates, medians."""
    executed_counts: dict[str, int] = field(default_factory=dict)
    """Status -> runs, over the runs executed now."""
    common_error: str | None = None
    """The most frequent reason among the runs executed now that ended in an exception."""
    stopped_backends: dict[str, str] = field(default_factory=dict)
    """Backends the circuit breaker stopped, with why; their runs are left to a resume."""

    @property
    def runs_per_s(self) -> float:
        return self.executed / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def all_raised(self) -> bool:
        """True when runs were executed and every one ended in an exception or crash:
        the study measured nothing (a broken MAS, endpoint or key)."""
        return self.executed > 0 and \
            sum(self.executed_counts.get(s, 0) for s in _RAISED) == self.executed


def _versions() -> dict[str, str]:
    out = {}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def failure_row(spec: RunSpec, attempt: int, status: str, reason: str, error: str | None,
                study_id: str = "", framework: str = "") -> dict[str, Any]:
    """A runs.parquet row for a run whose worker could not report (killed or crashed)."""
    b = parse_backend(spec.backend)
    identity = RunIdentity(study_id=study_id, run_id=spec.run_id, instance=spec.instance, framework=framework,
                           backend=spec.backend, tools_enabled=spec.tools_enabled, repeat=spec.repeat,
                           seed=spec.seed, task_id=spec.task_id, simulated=b.simulated)
    return RunRecord(identity, status, reason=reason, error=error, attempt=attempt).row()


def _study_failure_row(study_id: str, frameworks: dict[str, str], spec: RunSpec, attempt: int, status: str,
                       reason: str, error: str | None) -> dict[str, Any]:
    # Module level, so the bound form pickles (a Ray task builds crash rows on its node).
    return failure_row(spec, attempt, status, reason, error, study_id, frameworks[spec.instance])


_ENV_PREFIXES = ("OPENAI_", "GOOGLE_", "GEMINI_", "OTEL_", "MAESTRO_")


def _worker_env() -> dict[str, str]:
    """Variables a worker must see as they are now (backend keys and URLs, OTel settings,
    and every secret-named variable, so redaction knows its value)."""
    from maestro.collector.redact import is_secret_env_name

    return {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES) or is_secret_env_name(k)}


def _study_info(config: StudyConfig, runs: list[RunSpec], prices, previous: dict[str, Any] | None) -> dict[str, Any]:
    """study.json: the latest config (a study may grow its grid), seeds of every run ever
    planned, and the backends of every config it has run under."""
    previous = previous or {}
    backends = list(dict.fromkeys([*previous.get("backends", []), *config.backends]))
    simulated = [b for b in backends if parse_backend(b).simulated]
    return {
        "format": STUDY_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "study_id": config.study_id,
        "maestro_version": __version__,
        "created_at": previous.get("created_at") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": config.to_dict(),
        "config_fingerprint": config.fingerprint(),
        "backends": backends,
        "simulated": bool(simulated),
        "simulated_backends": simulated,
        "package_versions": _versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "study_seed": config.seed,
        "run_seeds": {**previous.get("run_seeds", {}), **{r.run_id: r.seed for r in runs}},
        "prices": prices.snapshot(),
    }


def _summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cells: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        cells.setdefault((r["instance"], r["backend"], r["tools_enabled"]), []).append(r)
    out = []
    tools_order = {True: 0, False: 1, None: 2}
    for (inst, backend, tools), rs in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1], tools_order[kv[0][2]])):
        n = len(rs)
        durations = sorted(r.get("duration_s") or 0.0 for r in rs)
        judged = [r for r in rs if r.get("judgement") in ("correct", "wrong")]
        out.append({
            "instance": inst, "backend": backend, "tools": tools, "runs": n,
            "success": sum(r["status"] == RunStatus.SUCCESS for r in rs) / n,
            "correct": (sum(r["judgement"] == "correct" for r in judged) / len(judged)) if judged else None,
            "timeouts": sum(r["status"] == RunStatus.TIMEOUT for r in rs),
            "exceptions": sum(r["status"] in _RAISED for r in rs),
            "median_s": durations[n // 2],
            "mean_tokens": sum(r.get("total_tokens") or 0 for r in rs) / n,
            "mean_cost_usd": sum(r.get("cost_usd") or 0.0 for r in rs) / n,
            "dropped_spans": sum(r.get("spans_dropped") or 0 for r in rs),
            "simulated": parse_backend(backend).simulated,
        })
    return out


RETRYABLE = tuple(s.value for s in (RunStatus.EXCEPTION, RunStatus.TIMEOUT, RunStatus.CRASHED, RunStatus.FAILURE))
"""Statuses ``retry`` may name: their recorded runs are run again (the old attempt is kept
in ``history/``). ``write_failed`` runs are always run again."""

CONNECTION_ERROR = re.compile(r"APIConnectionError|ConnectError|ConnectTimeout|ConnectionError|Connection refused|"
                              r"RemoteProtocolError|Server disconnected|ServerDisconnected|ConnectionResetError")
"""What a run's exception says when its backend could not be reached at all."""


def run_study(config: StudyConfig, *, progress: bool = True, console=None, start_method: StartMethod = "forkserver",
              retry: Iterable[str] = (), max_connection_failures: int = 5, executor: str | None = None,
              address: str | None = None) -> StudyResult:
    """Run (or resume, or extend) a study. Already-recorded runs are skipped.

    Before any run starts every backend is checked (:func:`maestro.runner.preflight.preflight`).
    A study folder recorded under other comparable settings (``COMPARABLE_SETTINGS``) is
    refused; one recorded with a smaller grid (fewer systems, backends, tool settings, tasks
    or repeats) is extended: only the new runs execute. One runner at a time: the folder is
    locked for the call (:class:`~maestro.store.lock.StudyLock`).

    ``retry``: statuses (of :data:`RETRYABLE`) whose recorded runs run again; the old row and
    files move to ``history/``. ``max_connection_failures``: a backend whose runs fail this
    many times in a row because it cannot be reached is stopped (a circuit breaker): those
    runs and the rest of its runs are left unrecorded, to run on the next resume, and
    ``StudyResult.stopped_backends`` says why.

    ``start_method`` is the multiprocessing start method for run processes: the default
    forks each run from a server that preloaded the frameworks; ``spawn`` (a fresh
    interpreter per run) exists for comparison in benchmarks/study_throughput.py.

    ``config.out`` may be object storage (``s3://bucket/prefix``): the study then runs in a
    local staging folder that is first filled from what is stored (resume, extension) and
    mirrored back run by run (:mod:`maestro.store.mirror`); it is removed at the end.

    ``executor``: where runs execute, ``local`` or ``ray`` (default: ``config.executor``, else
    ``MAESTRO_EXECUTOR``, else ``local``); ``address``: the Ray cluster's (default:
    ``config.address``, else ``RAY_ADDRESS``, else a local Ray instance). See
    :mod:`maestro.runner.executors`.

    Raises:
        ConfigError: a backend cannot be used, or the study folder holds incomparable runs.
        StudyLockedError: another runner is writing the study folder.
        OSError: object storage could not be read or written (the message names the URI);
            every run recorded before is stored, the others run on resume.
    """
    t0 = time.perf_counter()
    unknown = sorted(set(retry) - set(RETRYABLE))
    if unknown:
        raise ConfigError(f"retry: unknown status(es) {', '.join(unknown)}; retryable: {', '.join(RETRYABLE)}")
    if max_connection_failures < 1:
        raise ConfigError(f"max_connection_failures must be >= 1, got {max_connection_failures}")
    kind, address = resolve_executor(executor or config.executor, address or config.address)
    preflight(config.backends)
    systems = config.systems()
    try:
        tasks = {name: s.tasks(n=config.tasks, source=config.task_file, seed=config.seed) for name, s in systems.items()}
    except (ValueError, KeyError, TypeError) as e:  # a bad task file or dataset: before anything is written
        raise ConfigError(f"tasks: {e}") from None
    runs = expand_runs(config, tasks)
    prices = load_prices(config.prices)
    args = (systems, runs, prices, set(retry) | {RunStatus.WRITE_FAILED.value}, max_connection_failures, progress,
            console, start_method, t0, kind, address)
    if not is_uri(config.out):
        layout = StudyLayout.for_study(config.out, config.study_id).create()
        with StudyLock(layout.root):
            return _run_locked(config, layout, *args)
    remote = Location.of(f"{config.out.rstrip('/')}/{config.study_id}")
    with StagingFolder() as staging:
        layout = StudyLayout.for_study(staging, config.study_id).create()
        mirror = StudyMirror(remote, layout.root)
        mirror.pull()
        with StudyLock(layout.root):
            result = _run_locked(config, layout, *args, mirror=mirror)
    return replace(result, path=remote.uri)


def _run_locked(config, layout, systems, runs, prices, retry, max_connection_failures, progress, console,
                start_method, t0, kind, address, mirror: StudyMirror | None = None) -> StudyResult:
    previous = read_study_json(layout.study_json) if layout.study_json.exists() else None
    if previous is not None:
        changed = incomparable_settings(previous.get("config") or {}, config)
        if changed:
            raise ConfigError(
                f"{layout.root} holds runs of study {config.study_id!r} recorded under other settings "
                f"({'; '.join(changed)}); runs under both would not be comparable: use a new study id "
                "(or delete the folder)")
    atomic_write_json(_study_info(config, runs, prices, previous), layout.study_json)
    layout.quarantine_temporaries()
    index = RunIndex(layout)
    history = RunHistory(layout)
    todo = _plan(runs, index, history, layout, retry)
    if mirror is not None:
        mirror.push()  # study.json, and runs a retry moved to history/
    skipped = len(runs) - len(todo)
    frameworks = {name: s.info.framework for name, s in systems.items()}
    # Systems given as objects or module:attribute references travel pickled to the runs;
    # built-ins and INSTANCE modules are found there by name.
    shipped = {name: pickle_system(systems[name]) for name, ref in zip(config.names, config.instances)
               if not isinstance(ref, str) or ":" in ref}

    sim = None
    if todo and any(parse_backend(b).simulated for b in config.backends):
        modules = [INSTANCE_MODULES.get(ref, ref.partition(":")[0]) for ref in config.instances if isinstance(ref, str)]
        sim = SimPlan(tuple(modules), config.time_factor)
    preload = Preload(frameworks=tuple(sorted(set(frameworks.values()))),
                      systems=tuple(ref for ref in config.instances if isinstance(ref, str)),
                      shipped=tuple(shipped.values()), python_path=tuple(p for p in sys.path if p))
    ctx = WorkerContext(
        study_root=str(layout.root), study_id=config.study_id, sim_url=None,
        timeout_s=config.timeout_s, max_tokens=config.max_tokens, capture_content=config.capture_content,
        store_answers=config.store_answers, prices=config.prices, task_file=config.task_file,
        n_tasks=config.tasks, study_seed=config.seed, instance_options=config.instance_options,
        env={**_worker_env(), **config.otlp_env()}, systems=shipped,
    )
    display = _Progress(len(runs), skipped, index, enabled=progress, console=console)
    executed: Counter = Counter()
    reasons: Counter = Counter()
    breaker = _Breaker(max_connection_failures)

    def on_result(spec: RunSpec, row: dict[str, Any]) -> None:
        index.record(row)  # O(1): one record file; folded into runs.parquet at the end
        if mirror is not None:
            mirror.push_run(row["run_id"])
        display.advance(row)
        executed[row["status"]] += 1
        if row["status"] in _RAISED and row.get("outcome_reason"):
            reasons[row["outcome_reason"]] += 1
        unrecorded = breaker.observe(spec.backend, row)
        for run_id in unrecorded:
            # not run after all: the backend was down; the attempt is kept, the run reruns on resume
            gone = index.rows.pop(run_id)
            history.archive(gone)
            display.unrecord(gone)
            executed[gone["status"]] -= 1
            executed["not_run"] += 1
        if unrecorded:
            index.write()
            if mirror is not None:
                mirror.push()

    make_failure_row = functools.partial(_study_failure_row, config.study_id, frameworks)
    workers = config.workers if kind == "ray" else config.n_workers
    with open_executor(kind, workers=workers, preload=preload, sim=sim, address=address,
                       start_method=start_method) as executor, display:
        executor.run(todo, ctx, on_result, failure_row=make_failure_row,
                     should_run=lambda spec: spec.backend not in breaker.stopped)
    compact(layout.root, index=index, lock=False)  # folds the run records; merges per-run files past a threshold
    rows = list(index.rows.values())
    counts = {s: sum(r["status"] == s for r in rows) for s in RUN_STATUSES}
    summary = _summarise(rows)
    wall = time.perf_counter() - t0
    atomic_write_json({"study_id": config.study_id, "runs": len(rows), "counts": counts, "cells": summary,
                       "executed": len(todo), "wall_s": wall,
                       "simulated": any(parse_backend(b).simulated for b in config.backends)},
                      layout.root / "summary.json")
    if mirror is not None:
        mirror.push()  # the compacted generation and run index, then what they replace is deleted
    common = reasons.most_common(1)[0][0] if reasons else None
    return StudyResult(layout.root, len(runs), skipped, sum(executed.values()), counts, wall, summary,
                       dict(executed), common, dict(breaker.stopped))


def _plan(runs: list[RunSpec], index: RunIndex, history: RunHistory, layout: StudyLayout,
          retry: set[str]) -> list[tuple[RunSpec, int]]:
    """The runs to execute now, with their attempt numbers: runs without a row (files of an
    interrupted attempt are quarantined first, never deleted) and recorded runs whose status
    is in ``retry`` (their row and files move to ``history/``)."""
    todo, archived = [], False
    for spec in runs:
        row = index.get(spec.run_id)
        if row is None:
            leftovers = [p for p in (layout.spans_file(spec.run_id), layout.resources_file(spec.run_id)) if p.exists()]
            for p in leftovers:
                layout.quarantine(p, "interrupted")
            todo.append((spec, 2 if leftovers else 1))
        elif row["status"] in retry:
            history.archive(index.rows.pop(spec.run_id))
            archived = True
            todo.append((spec, (row.get("attempt") or 1) + 1))
    if archived:
        index.write()
    return todo


class _Breaker:
    """Stops a backend after ``limit`` runs in a row failed to reach it."""

    def __init__(self, limit: int):
        self.limit = limit
        self.streaks: dict[str, list[str]] = {}
        self.stopped: dict[str, str] = {}
        """Backend -> why it was stopped."""

    def observe(self, backend: str, row: dict[str, Any]) -> list[str]:
        """Count ``row``; when it trips the breaker, the run ids of the streak (to unrecord)."""
        reason = row.get("outcome_reason") or ""
        if row["status"] != RunStatus.EXCEPTION or not CONNECTION_ERROR.search(reason):
            self.streaks.pop(backend, None)
            return []
        streak = self.streaks.setdefault(backend, [])
        streak.append(row["run_id"])
        if backend in self.stopped or len(streak) < self.limit:
            return [row["run_id"]] if backend in self.stopped else []
        self.stopped[backend] = f"{len(streak)} runs in a row could not reach it (last: {reason})"
        return list(streak)


class _Progress:
    """A rich progress bar over runs, with live status counts (silent when disabled)."""

    def __init__(self, total: int, done: int, index: RunIndex, enabled: bool, console=None):
        self.enabled = enabled
        self.counts = {s: 0 for s in RUN_STATUSES}
        for r in index.rows.values():
            self.counts[r["status"]] = self.counts.get(r["status"], 0) + 1
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]runs"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console, transient=False,
        )
        self.task = self.progress.add_task("runs", total=total, completed=done, status=self._status())

    def _status(self) -> str:
        c = self.counts
        return (f"[green]{c['success']} ok[/] [yellow]{c['failure']} fail[/] "
                f"[red]{c['exception'] + c['crashed']} exc[/] [magenta]{c['timeout']} timeout[/]")

    def advance(self, row: dict[str, Any]) -> None:
        self.counts[row["status"]] = self.counts.get(row["status"], 0) + 1
        if self.enabled:
            self.progress.update(self.task, advance=1, status=self._status())

    def unrecord(self, row: dict[str, Any]) -> None:
        """A recorded run taken back (left to a resume)."""
        self.counts[row["status"]] -= 1
        if self.enabled:
            self.progress.update(self.task, advance=-1, status=self._status())

    def __enter__(self):
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.progress.stop()
        return False
