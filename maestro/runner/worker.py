"""What happens inside one run's worker process.

``execute_run`` builds the instance for the run's backend and tool setting, wraps it with
its framework's adapter, runs one task under a timeout watchdog, judges the answer and
returns the run's row for ``runs.parquet``. It never raises: an exception in the MAS is
recorded as status ``exception``; reaching the time cap ends every open span, writes what
was recorded and reports ``timeout`` (the parent process kills the worker if even that
hangs).
"""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from maestro.backends import load_prices, parse_backend, resolve_endpoint
from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunStats, RunTelemetry
from maestro.instances import get_instance
from maestro.instances.base import RunContext, Task
from maestro import semconv as sc
from maestro.semconv import SCHEMA_VERSION
from maestro.store.layout import StudyLayout

__all__ = ["WorkerContext", "execute_run", "wrap_with_adapter", "ADAPTERS"]


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


def _langgraph(app, telemetry, provider):
    from maestro.adapters.langgraph import instrument

    return instrument(app, telemetry, provider=provider)


def _autogen(app, telemetry, provider):
    from maestro.adapters.autogen import instrument

    return instrument(app, telemetry, provider=provider)


def _adk(app, telemetry, provider):
    from maestro.adapters.adk import instrument

    return instrument(app, telemetry, provider=provider)


def _custom(app, telemetry, provider):
    # Instances of our own that record through maestro.collector.current_telemetry().
    return app


ADAPTERS = {"langgraph": _langgraph, "autogen": _autogen, "adk": _adk, "custom": _custom}
"""Framework -> function(app, telemetry, provider) returning the instrumented app."""


def wrap_with_adapter(framework: str, app, telemetry: RunTelemetry, provider: str):
    try:
        return ADAPTERS[framework](app, telemetry, provider)
    except KeyError:
        raise RuntimeError(f"no maestro adapter for framework {framework!r}; known: {', '.join(ADAPTERS)}") from None


_TASK_CACHE: dict[tuple, dict[str, Task]] = {}


def _task(ctx: WorkerContext, instance, task_id: str) -> Task:
    key = (instance.info.name, ctx.task_file, ctx.n_tasks, ctx.study_seed)
    if key not in _TASK_CACHE:
        tasks = instance.tasks(n=ctx.n_tasks, source=ctx.task_file, seed=ctx.study_seed)
        _TASK_CACHE[key] = {t.task_id: t for t in tasks}
    return _TASK_CACHE[key][task_id]


def _short_tb(exc: BaseException, limit: int = 6) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-limit))[-4000:]


def execute_run(spec, ctx: WorkerContext, attempt: int = 1, on_timeout_row=None) -> dict[str, Any]:
    """Run one ``RunSpec``; return its runs.parquet row.

    ``on_timeout_row(row)`` is called from the watchdog thread if the run hits its time
    cap: it must deliver the row (the caller then exits the process).
    """
    os.environ.update(ctx.env)
    layout = StudyLayout(ctx.study_root)
    started_at = time.time_ns()
    t0 = time.perf_counter()
    instance = get_instance(spec.instance)
    backend = parse_backend(spec.backend)
    identity = RunIdentity(
        study_id=ctx.study_id, run_id=spec.run_id, instance=spec.instance, framework=instance.info.framework,
        backend=spec.backend, tools_enabled=spec.tools_enabled, repeat=spec.repeat, seed=spec.seed,
        task_id=spec.task_id, simulated=backend.simulated,
    )
    telemetry = RunTelemetry(identity, layout.spans_file(spec.run_id), layout.resources_file(spec.run_id),
                             capture_content=ctx.capture_content)
    prices = load_prices(ctx.prices)
    task = _task(ctx, instance, spec.task_id)
    telemetry.start(attributes={sc.MAESTRO_TASK_ID: spec.task_id})
    redact = telemetry.redact
    done = threading.Lock()  # whoever takes it (main path or watchdog) reports the run

    def row_for(status: str, reason: str | None, answer: str | None, judge, error: str | None,
                stats: RunStats, model: str, provider: str) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION, **identity.columns(),
            "model": model, "provider": provider, "simulated": backend.simulated,
            "task_meta_json": json.dumps(task.meta, default=str, sort_keys=True),
            "status": status, "outcome": "success" if status == "success" else "failure",
            "outcome_reason": redact(reason),
            "judgement": judge.judgement if judge else sc.Judgement.UNKNOWN.value,
            "judgement_reason": judge.reason if judge else None,
            "exact_match": judge.exact_match if judge else None, "f1": judge.f1 if judge else None,
            # the question follows the answer's policy: a private task set's questions may be sensitive
            "question": redact(task.question) if ctx.store_answers else None,
            "answer": redact(answer) if ctx.store_answers else None, "gold": task.gold,
            "started_at_ns": started_at, "duration_s": time.perf_counter() - t0,
            # Tokens live on LLM spans only, so the run's sums are exactly what was billed.
            "cost_usd": prices.cost(spec.backend, stats.input_tokens, stats.output_tokens),
            **stats.run_columns(),
            "attempt": attempt, "worker_pid": os.getpid(), "error": redact(error),
        }

    endpoint_model, endpoint_provider = "", ""

    def on_timeout() -> None:
        if not done.acquire(blocking=False):
            return
        reason = f"timeout: run exceeded {ctx.timeout_s:g} s"
        stats = telemetry.finish("timeout", reason, {sc.RUN_JUDGEMENT: sc.Judgement.UNKNOWN.value})
        row = row_for("timeout", reason, None, None, None, stats, endpoint_model, endpoint_provider)
        if on_timeout_row is not None:
            on_timeout_row(row)

    watchdog = threading.Timer(ctx.timeout_s, on_timeout)
    watchdog.daemon = True
    watchdog.start()
    status, reason, answer, error, judge = "exception", None, None, None, None
    where = f"backend {spec.backend}"
    try:
        endpoint = resolve_endpoint(backend, sim_url=ctx.sim_url, seed=spec.seed, nonce=f"a{attempt}")
        endpoint_model, endpoint_provider = endpoint.model, endpoint.provider
        # Name the URL the framework actually calls: ADK instances speak Gemini REST.
        url = endpoint.gemini_base_url if instance.info.framework == "adk" and endpoint.gemini_base_url \
            else endpoint.base_url
        where = f"backend {spec.backend} at {url}"
        run_ctx = RunContext(endpoint=endpoint, tools_enabled=spec.tools_enabled, seed=spec.seed,
                             max_tokens=ctx.max_tokens, timeout_s=ctx.timeout_s,
                             options=ctx.instance_options.get(spec.instance, {}))
        app = instance.build(run_ctx)
        app = wrap_with_adapter(instance.info.framework, app, telemetry, endpoint.provider)
        result = instance.run(app, task, run_ctx)
        answer = result.answer
        status = "success" if result.outcome == "success" else "failure"
        reason = result.reason
        judge = instance.judge(task, answer)
    except BaseException as exc:  # noqa: BLE001 - a MAS may raise anything; record it
        # Name the culprit: a dead or misconfigured endpoint shows up here as a client error.
        status, reason, error = "exception", f"{type(exc).__name__}: {exc} ({where})", _short_tb(exc)
        if isinstance(exc, KeyboardInterrupt):
            raise
    if not done.acquire(blocking=False):
        # The watchdog already reported this run as a timeout; wait for the process to end.
        time.sleep(3600)
    watchdog.cancel()
    root_attrs = {sc.RUN_JUDGEMENT: judge.judgement if judge else sc.Judgement.UNKNOWN.value}
    if judge:
        root_attrs[sc.RUN_JUDGEMENT_REASON] = judge.reason
    stats = telemetry.finish(status, reason, root_attrs)
    return row_for(status, reason, answer, judge, error, stats, endpoint_model, endpoint_provider)
