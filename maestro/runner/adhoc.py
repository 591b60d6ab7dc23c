"""``trace_run``: record one run of your own MAS without the study runner."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from maestro import __version__
from maestro.backends import load_prices, parse_backend, price_key
from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunTelemetry
from maestro.contract import JudgeResult
from maestro.runner.record import RunRecord, RunTiming, exception_reason
from maestro.scorers import Score, as_scorer, to_score
from maestro.semconv import SCHEMA_VERSION, RunStatus
from maestro.store.layout import StudyLayout, atomic_write_json
from maestro.store.lock import StudyLock
from maestro.store.reader import STUDY_FORMAT, RunIndex, read_study_json

__all__ = ["trace_run", "TracedRun"]

LOCK_WAIT_S = 30.0
"""How long ``trace_run`` waits for another writer of the same study folder."""


class TracedRun(RunTelemetry):
    """The telemetry of one ``trace_run`` block (pass it to an adapter), plus what the run
    produced: call :meth:`set_answer` and, when you judge it yourself, :meth:`score`."""

    answer: str | None = None
    verdict: Score | None = None

    def set_answer(self, answer: Any) -> None:
        """The run's final answer (stored redacted in ``runs.answer``; scored at the end of
        the block when ``trace_run`` was given a scorer and a target)."""
        self.answer = None if answer is None else str(answer)

    def score(self, value: Any, explanation: str = "") -> None:
        """Judge the run: a bool, a number in [0, 1] (1 is correct), ``'correct'`` /
        ``'wrong'``, or a :class:`maestro.scorers.Score`. Wins over ``trace_run``'s scorer."""
        self.verdict = to_score(value if explanation == "" else (value, explanation), "TracedRun.score")


def _update_study_json(layout: StudyLayout, study_id: str, backend: str | None, prices: dict[str, Any]) -> None:
    info: dict[str, Any] = read_study_json(layout.study_json) if layout.study_json.exists() else {
        "format": STUDY_FORMAT, "schema_version": SCHEMA_VERSION, "study_id": study_id,
        "maestro_version": __version__, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": {"adhoc": True}, "simulated": False, "prices": prices, "backends": [],
    }
    backends = list(info.get("backends") or [])
    if backend and backend not in backends:
        backends.append(backend)
        info["backends"] = backends
        info["simulated_backends"] = [b for b in backends if b.startswith("sim/")]
        info["simulated"] = bool(info["simulated_backends"])
        info["prices"] = prices
        atomic_write_json(info, layout.study_json)
    elif not layout.study_json.exists():
        atomic_write_json(info, layout.study_json)


@contextlib.contextmanager
def trace_run(
    study_id: str = "adhoc",
    run_id: str | None = None,
    *,
    out: str | os.PathLike[str] = "traces",
    instance: str = "custom",
    framework: str = "custom",
    backend: str | None = None,
    tools_enabled: bool | None = None,
    repeat: int = 0,
    task_id: str = "",
    question: str | None = None,
    target: str | None = None,
    scorer: Callable[..., Any] | None = None,
    seed: int = 0,
    prices: dict[str, dict[str, float]] | None = None,
    capture_content: bool = False,
    store_answers: bool = False,
    sample_resources: bool = True,
    otlp_endpoint: str | None = None,
) -> Iterator[TracedRun]:
    """Trace everything inside the block as one run of study ``study_id``.

    Yields a :class:`TracedRun`: pass it to an adapter (e.g.
    ``maestro.adapters.langgraph.instrument(graph, run)``), then ``run.set_answer(...)`` and,
    optionally, ``run.score(...)``. On exit the spans, resource samples and a
    ``runs.parquet`` row are written under ``out/study_id``; an exception inside the block
    is recorded as status ``exception`` and re-raised.

    What you do not say is measured, never guessed: ``model``, ``provider`` and
    ``response_model`` come from the run's LLM spans (the provider from the endpoint: the
    simulated service says it is one); ``backend``, when not given, is derived from them
    (``sim/strong``, ``openai/gpt-4o-mini``); cost uses the price table (``prices``
    overrides) whenever that backend has a price; ``tools_enabled`` stays null unless given.
    The run is judged by ``run.score(...)``, else by ``scorer(sample, answer)`` when a
    ``target`` is given, else it is ``unjudged``.

    ``otlp_endpoint`` also streams the run's spans over OTLP/HTTP (base URL as in
    ``OTEL_EXPORTER_OTLP_ENDPOINT``); without it the standard ``OTEL_EXPORTER_OTLP_*``
    variables decide. What the export did not deliver is counted in ``spans_export_failed``.
    """
    if backend is not None:
        parse_backend(backend)
    layout = StudyLayout.for_study(out, study_id).create()
    price_table = load_prices(prices)
    run_id = run_id or f"run-{uuid.uuid4().hex[:12]}"
    identity = RunIdentity(study_id=study_id, run_id=run_id, instance=instance, framework=framework,
                           backend=backend or "", tools_enabled=tools_enabled, repeat=repeat, task_id=task_id,
                           seed=seed, simulated=bool(backend and parse_backend(backend).simulated))
    run = TracedRun(identity, layout.spans_file(run_id), layout.resources_file(run_id),
                    capture_content=capture_content, sample_resources=sample_resources,
                    otlp=otlp_endpoint if otlp_endpoint else None)
    timing = RunTiming()
    t0 = time.perf_counter()
    run.start()
    root = run.root
    assert root is not None  # start() opened it
    record = RunRecord(identity, RunStatus.SUCCESS.value, timing, question=question, target=target, worker_pid=os.getpid())
    try:
        yield run
    except BaseException as exc:
        record.status, record.reason = RunStatus.EXCEPTION.value, exception_reason(exc)
        record.error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6))[-4000:]
        raise
    finally:
        work_end = time.time_ns()
        record.answer = run.answer
        record.judge = _judge(run, scorer, question, target)
        stats = run.finish(record.status, record.reason, end_ns=work_end)
        record.account_for(stats)
        record.provider, record.model, record.response_model = stats.main_model()
        derived = backend or price_key(record.provider, record.model)
        if derived and not backend:
            record.identity = dataclasses.replace(identity, backend=derived, simulated=parse_backend(derived).simulated)
        record.price(price_table)
        timing.working_s = (work_end - root.start_ns) / 1e9
        # Loops in several processes may trace into one study: one writer at a time.
        with StudyLock(layout.root, wait_s=LOCK_WAIT_S, purpose="maestro.trace_run"):
            _update_study_json(layout, study_id, derived, price_table.snapshot())
            timing.total_s = time.perf_counter() - t0
            RunIndex(layout).upsert(record.row(run.redact, store_answers))


def _judge(run: TracedRun, scorer, question: str | None, target: str | None) -> JudgeResult | None:
    if run.verdict is not None:
        return run.verdict.judgement_result()
    if scorer is None or target is None:
        return None
    from maestro.mas import Sample

    sample = Sample(run.identity.task_id or run.identity.run_id, question or "", target)
    return as_scorer(scorer)(sample, run.answer).judgement_result()
