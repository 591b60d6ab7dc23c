"""What happens inside one run's worker process.

``execute_run`` builds the instance for the run's backend and tool setting, wraps it with
its framework's adapter, runs one task under a timeout watchdog, judges the answer and
returns the run's row for ``runs.parquet``. It never raises: an exception in the MAS is
recorded as status ``exception``; reaching the time cap ends every open span, writes what
was recorded and reports ``timeout`` (the parent process kills the worker if even that
hangs).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro import semconv as sc
from maestro.backends import load_prices, parse_backend, resolve_endpoint, use_sim_service
from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunStats, RunTelemetry
from maestro.contract import JudgeResult, RunContext, Task
from maestro.runner.record import RunRecord, RunTiming, exception_reason
from maestro.runner.systems import resolve_system, unpickle_system
from maestro.semconv import Judgement, RunStatus
from maestro.sim.seeding import run_nonce
from maestro.store.layout import StudyLayout

__all__ = ["WorkerContext", "execute_run", "wrap_with_adapter", "ADAPTERS", "system_for", "SYSTEM_CACHE",
           "preload_spec_path"]


@dataclass(frozen=True)
class WorkerContext:
    """Study-wide facts a worker needs (picklable, sent once per run)."""

    study_root: str
    study_id: str
    sim_url: str | None
    timeout_s: float
    max_tokens: int
    capture_content: bool
    store_answers: bool
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    task_file: str | None = None
    n_tasks: int | None = None
    study_seed: int = 0
    instance_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    """The study process's provider keys, endpoints, OTel settings and secret-named
    variables: workers fork from a forkserver started earlier, so they get them here."""
    systems: dict[str, bytes] = field(default_factory=dict)
    """Systems given as objects (a ``maestro.MAS`` defined in a script or test), pickled by
    ``maestro.runner.systems.pickle_system``, by name; others are found by name or reference."""


def _langgraph(app, telemetry, provider):
    from maestro.adapters.langgraph import instrument

    return instrument(app, telemetry, provider=provider)


def _autogen(app, telemetry, provider):
    from maestro.adapters.autogen import instrument

    return instrument(app, telemetry, provider=provider)


def _adk(app, telemetry, provider):
    from maestro.adapters.adk import instrument

    return instrument(app, telemetry, provider=provider)


def _mcp_agent(app, telemetry, provider):
    from maestro.adapters.mcp_agent import instrument

    return instrument(app, telemetry, provider=provider)


def _custom(app, telemetry, provider):
    # Instances of our own that record through maestro.collector.current_telemetry().
    return app


ADAPTERS = {"langgraph": _langgraph, "autogen": _autogen, "adk": _adk, "mcp_agent": _mcp_agent, "custom": _custom}
"""Framework -> function(app, telemetry, provider) returning the instrumented app."""


def wrap_with_adapter(framework: str, app, telemetry: RunTelemetry, provider: str):
    try:
        return ADAPTERS[framework](app, telemetry, provider)
    except KeyError:
        raise RuntimeError(f"no maestro adapter for framework {framework!r}; known: {', '.join(ADAPTERS)}") from None


def preload_spec_path(runner_pid: int) -> Path:
    """Where the runner with process id ``runner_pid`` leaves the forkserver's preload spec
    (``maestro.runner.preload`` reads it through its parent's id)."""
    return Path(tempfile.gettempdir()) / f"maestro-preload-{runner_pid}.json"


_TASK_CACHE: dict[tuple, dict[str, Task]] = {}

SYSTEM_CACHE: dict[str, Any] = {}
"""Unpickled systems by the digest of their bytes (filled in the forkserver by
``maestro.runner.preload``, so forked runs inherit them)."""


def system_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def system_for(name: str, ctx: WorkerContext) -> Any:
    """The Instance a run of ``name`` uses: a pickled system from ``ctx.systems`` (already
    unpickled when the forkserver preloaded it), else a built-in name or reference."""
    data = ctx.systems.get(name)
    if data is None:
        return resolve_system(name)
    key = system_digest(data)
    if key not in SYSTEM_CACHE:
        SYSTEM_CACHE[key] = unpickle_system(data)
    return SYSTEM_CACHE[key]


def _task(ctx: WorkerContext, instance, task_id: str) -> Task:
    key = (instance.info.name, ctx.task_file, ctx.n_tasks, ctx.study_seed)
    if key not in _TASK_CACHE:
        tasks = instance.tasks(n=ctx.n_tasks, source=ctx.task_file, seed=ctx.study_seed)
        _TASK_CACHE[key] = {t.task_id: t for t in tasks}
    return _TASK_CACHE[key][task_id]


def _short_tb(exc: BaseException, limit: int = 6) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-limit))[-4000:]


def _judge(instance, task: Task, answer: str | None) -> JudgeResult:
    """The instance's verdict; a scorer that raises leaves the run unjudged and says why
    (the MAS's own outcome stands)."""
    try:
        return instance.judge(task, answer)
    except Exception as exc:  # noqa: BLE001 - a user's scorer may raise anything
        return JudgeResult(Judgement.UNJUDGED.value, f"the scorer raised {type(exc).__name__}: {exc}")


def execute_run(spec, ctx: WorkerContext, attempt: int = 1, on_timeout_row=None) -> dict[str, Any]:
    """Run one ``RunSpec``; return its runs.parquet row.

    Set-up (resolving the backend, building the MAS, wrapping it with its adapter) happens
    before the run root span opens and is recorded as ``setup_s``; the root span covers the
    MAS's work only (``working_s``); scoring and writing the run's files come after it
    (``total_s`` covers everything). ``on_timeout_row(row)`` is called from the watchdog
    thread if the run hits its time cap: it must deliver the row (the caller then exits the
    process).
    """
    os.environ.update(ctx.env)
    use_sim_service(ctx.sim_url)  # scorers on sim/... backends reach the study's service
    layout = StudyLayout(ctx.study_root)
    timing = RunTiming()
    t0 = time.perf_counter()
    instance = system_for(spec.instance, ctx)
    backend = parse_backend(spec.backend)
    identity = RunIdentity(
        study_id=ctx.study_id, run_id=spec.run_id, instance=spec.instance, framework=instance.info.framework,
        backend=spec.backend, tools_enabled=spec.tools_enabled, repeat=spec.repeat, seed=spec.seed,
        task_id=spec.task_id, simulated=backend.simulated,
    )
    telemetry = RunTelemetry(identity, layout.spans_file(spec.run_id), layout.resources_file(spec.run_id),
                             capture_content=ctx.capture_content)
    prices = load_prices(ctx.prices)
    record = RunRecord(identity, RunStatus.EXCEPTION.value, timing, attempt=attempt, worker_pid=os.getpid())
    done = threading.Lock()  # whoever takes it (main path or watchdog) reports the run

    def finish(stats: RunStats, work_end_ns: int | None) -> dict[str, Any]:
        record.account_for(stats)
        root = telemetry.root
        if root is not None:
            timing.working_s = ((work_end_ns or time.time_ns()) - root.start_ns) / 1e9
        record.price(prices)
        timing.total_s = time.perf_counter() - t0
        return record.row(telemetry.redact, ctx.store_answers)

    def on_timeout() -> None:
        if not done.acquire(blocking=False):
            return
        record.status, record.reason = RunStatus.TIMEOUT.value, f"timeout: run exceeded {ctx.timeout_s:g} s"
        if telemetry.root is None:  # still setting up: the root opens now, empty
            telemetry.start(attributes={sc.MAESTRO_TASK_ID: spec.task_id})
            timing.setup_s = time.perf_counter() - t0
        stats = telemetry.finish(RunStatus.TIMEOUT.value, record.reason, {sc.RUN_JUDGEMENT: Judgement.UNJUDGED.value})
        row = finish(stats, None)
        if on_timeout_row is not None:
            on_timeout_row(row)

    watchdog = threading.Timer(ctx.timeout_s, on_timeout)
    watchdog.daemon = True
    watchdog.start()
    where = f"backend {spec.backend}"
    work_end_ns = None
    try:
        task = _task(ctx, instance, spec.task_id)
        record.question, record.target, record.task_meta = task.question, task.gold, task.meta
        endpoint = resolve_endpoint(backend, sim_url=ctx.sim_url, seed=spec.seed, nonce=run_nonce(spec.run_id, attempt))
        record.model, record.provider = endpoint.model, endpoint.provider
        # Name the URL the framework actually calls: ADK instances speak Gemini REST.
        url = endpoint.gemini_base_url if instance.info.framework == "adk" and endpoint.gemini_base_url \
            else endpoint.base_url
        where = f"backend {spec.backend} at {url}"
        run_ctx = RunContext(endpoint=endpoint, tools_enabled=spec.tools_enabled, seed=spec.seed,
                             max_tokens=ctx.max_tokens, timeout_s=ctx.timeout_s,
                             options=ctx.instance_options.get(spec.instance, {}))
        app = instance.build(run_ctx)
        app = wrap_with_adapter(instance.info.framework, app, telemetry, endpoint.provider)
        timing.setup_s = time.perf_counter() - t0
        telemetry.start(attributes={sc.MAESTRO_TASK_ID: spec.task_id})
        result = instance.run(app, task, run_ctx)
        work_end_ns = time.time_ns()
        record.answer = result.answer
        record.status = (RunStatus.SUCCESS if result.outcome == "success" else RunStatus.FAILURE).value
        record.reason = result.reason
        record.judge = _judge(instance, task, result.answer)
    except BaseException as exc:  # noqa: BLE001 - a MAS may raise anything; record it
        work_end_ns = work_end_ns or time.time_ns()
        # Name the culprit: a dead or misconfigured endpoint shows up here as a client error.
        record.status, record.reason, record.error = RunStatus.EXCEPTION.value, exception_reason(exc, where), _short_tb(exc)
        if isinstance(exc, KeyboardInterrupt):
            raise
    if not done.acquire(blocking=False):
        # The watchdog already reported this run as a timeout; wait for the process to end.
        time.sleep(3600)
    watchdog.cancel()
    if telemetry.root is None:  # failed during set-up: an empty root records the attempt
        timing.setup_s = time.perf_counter() - t0
        telemetry.start(attributes={sc.MAESTRO_TASK_ID: spec.task_id}, start_ns=work_end_ns)
    judge = record.judge
    root_attrs = {sc.RUN_JUDGEMENT: judge.judgement if judge else Judgement.UNJUDGED.value}
    if judge:
        root_attrs[sc.RUN_JUDGEMENT_REASON] = judge.reason
    stats = telemetry.finish(record.status, record.reason, root_attrs, end_ns=work_end_ns)
    _, _, record.response_model = stats.main_model()
    return finish(stats, work_end_ns)
