"""Process-per-run executor.

Every run gets its own process, forked from a forkserver that has already imported the
frameworks and built the instances' data (``maestro.runner.preload``), so isolation costs
a fork, not a framework import. The parent enforces a hard deadline: a worker whose
watchdog cannot end the run (e.g. stuck in C code holding the GIL) is killed and the run
recorded as ``timeout``; a worker that dies without reporting is recorded as ``crashed``.

The executor is an interface (``Executor``): a distributed engine can take its place and
write to the same study layout.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext
from typing import Any, Literal, Protocol, cast

from maestro import settings
from maestro.procs import group_dies_with_parent, kill_group
from maestro.runner.config import RunSpec
from maestro.runner.worker import WorkerContext
from maestro.semconv import RunStatus

__all__ = ["Executor", "ProcessExecutor", "StartMethod"]

log = logging.getLogger(__name__)


ResultCallback = Callable[[RunSpec, dict[str, Any]], None]


class Executor(Protocol):
    """Runs RunSpecs and reports one row per run through ``on_result``."""

    def run(self, specs: Iterable[tuple[RunSpec, int]], ctx: WorkerContext, on_result: ResultCallback,
            failure_row: Callable[[RunSpec, int, str, str, str | None], dict[str, Any]],
            should_run: Callable[[RunSpec], bool] = ...) -> None:
        ...


def _child_main(spec: RunSpec, ctx: WorkerContext, attempt: int, conn) -> None:
    # Its own session: the run and every process it starts form one group the parent can
    # kill whole; and that group dies if the forkserver (so the runner) dies.
    os.setsid()
    group_dies_with_parent()

    def deliver(row: dict[str, Any]) -> None:
        try:
            conn.send(row)
            conn.close()
        finally:
            os._exit(0)  # the MAS thread may still be hung; leave without joining it

    try:
        from maestro.runner.worker import execute_run

        row = execute_run(spec, ctx, attempt, on_timeout_row=deliver)
        conn.send(row)
    except BaseException as exc:  # noqa: BLE001 - report anything, the parent decides
        try:
            conn.send({"__worker_error__": "".join(traceback.format_exception(exc))[-4000:]})
        except Exception:
            pass
    finally:
        try:
            conn.close()
        finally:
            # Skip interpreter teardown: faster, and framework threads cannot block exit.
            os._exit(0)


StartMethod = Literal["forkserver", "spawn", "fork"]
"""A multiprocessing start method (``multiprocessing.get_context``)."""


class ProcessExecutor:
    """Runs each RunSpec in its own forked process, ``workers`` at a time."""

    def __init__(self, workers: int, preload: list[str] | None = None, start_method: StartMethod = "forkserver"):
        self.workers = max(1, workers)
        # typeshed types get_context(<a union of literals>) as BaseContext, which lacks .Process
        self.mp = cast("ForkServerContext | SpawnContext | ForkContext", multiprocessing.get_context(start_method))
        if start_method == "forkserver" and preload:
            self.mp.set_forkserver_preload(preload)

    def run(self, specs: Iterable[tuple[RunSpec, int]], ctx: WorkerContext, on_result: ResultCallback,
            failure_row: Callable[[RunSpec, int, str, str, str | None], dict[str, Any]],
            should_run: Callable[[RunSpec], bool] = lambda spec: True) -> None:
        """Run every spec; ``failure_row(spec, attempt, status, reason, error)`` builds the row
        of a run whose worker could not report (crashed, or killed past its deadline).
        ``should_run(spec)`` is asked just before a run starts (False skips it, unrecorded)."""
        pending = deque(specs)
        active: dict[Connection, tuple[Any, Connection, RunSpec, int, float]] = {}
        grace_s = settings.HARD_KILL_GRACE_S.get()
        deadline_s = ctx.timeout_s + grace_s

        def finish(key, row):
            proc, conn, spec, attempt, _ = active.pop(key)
            try:
                conn.close()
            except Exception:
                pass
            proc.join(timeout=5)
            # Whatever the run started (a tool's subprocess) goes with it, finished or killed.
            kill_group(proc.pid)
            proc.join(timeout=5)
            on_result(spec, row)

        try:
            self._loop(pending, active, ctx, deadline_s, grace_s, finish, failure_row, should_run)
        finally:
            for proc, *_ in list(active.values()):  # interrupted (Ctrl-C, an error): no run outlives us
                kill_group(proc.pid)
                proc.join(timeout=5)

    def _loop(self, pending, active, ctx, deadline_s, grace_s, finish, failure_row, should_run) -> None:
        while pending or active:
            while pending and len(active) < self.workers:
                spec, attempt = pending.popleft()
                if not should_run(spec):
                    continue
                recv, send = self.mp.Pipe(duplex=False)
                proc = self.mp.Process(target=_child_main, args=(spec, ctx, attempt, send),
                                       name=f"maestro-run-{spec.run_id}", daemon=False)
                proc.start()
                send.close()  # the child holds the only write end: EOF means it is gone
                active[recv] = (proc, recv, spec, attempt, time.monotonic() + deadline_s)
            ready = cast("list[Connection]", wait(list(active), timeout=0.5))  # the objects it was given
            for conn in ready:
                proc, _, spec, attempt, _ = active[conn]
                try:
                    row = conn.recv()
                except (EOFError, OSError):
                    proc.join(timeout=5)
                    code = proc.exitcode
                    row = failure_row(spec, attempt, RunStatus.CRASHED.value,
                                      f"worker process died without reporting (exit code {code})", None)
                if "__worker_error__" in row:
                    row = failure_row(spec, attempt, RunStatus.EXCEPTION.value, "maestro worker error", row["__worker_error__"])
                finish(conn, row)
            now = time.monotonic()
            for conn, (proc, _, spec, attempt, deadline) in list(active.items()):
                if now > deadline:
                    kill_group(proc.pid)
                    row = failure_row(spec, attempt, RunStatus.TIMEOUT.value,
                                      f"timeout: worker killed {grace_s:g} s after the {ctx.timeout_s:g} s "
                                      "cap (the run did not stop itself; its spans are lost)", None)
                    finish(conn, row)
