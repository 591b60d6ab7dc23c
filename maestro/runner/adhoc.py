"""``trace_run``: record one run of your own MAS without the study runner."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator

from maestro import __version__
from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunTelemetry
from maestro.semconv import SCHEMA_VERSION
from maestro.store.layout import StudyLayout, atomic_write_json
from maestro.store.reader import STUDY_FORMAT, RunIndex

__all__ = ["trace_run"]


@contextlib.contextmanager
def trace_run(
    study_id: str = "adhoc",
    run_id: str | None = None,
    *,
    out: str = "traces",
    instance: str = "custom",
    framework: str = "custom",
    backend: str = "",
    task_id: str = "",
    question: str | None = None,
    seed: int = 0,
    capture_content: bool = False,
    sample_resources: bool = True,
) -> Iterator[RunTelemetry]:
    """Trace everything inside the block as one run of study ``study_id``.

    Yields the run's ``RunTelemetry``; pass it to an adapter (e.g.
    ``maestro.adapters.langgraph.instrument(graph, run)``). On exit the spans, resource
    samples and a ``runs.parquet`` row are written under ``out/study_id``; an exception
    inside the block is recorded as status ``exception`` and re-raised. ``question`` (the
    task's question, stored redacted in the row's ``question`` column; null when not given)
    lets failure judges see what was asked.
    """
    layout = StudyLayout.for_study(out, study_id).create()
    if not layout.study_json.exists():
        atomic_write_json({"format": STUDY_FORMAT, "schema_version": SCHEMA_VERSION, "study_id": study_id,
                           "maestro_version": __version__, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "config": {"adhoc": True}, "simulated": backend.startswith("sim/"), "prices": {}},
                          layout.study_json)
    run_id = run_id or f"run-{uuid.uuid4().hex[:12]}"
    identity = RunIdentity(study_id=study_id, run_id=run_id, instance=instance, framework=framework,
                           backend=backend, task_id=task_id, seed=seed, simulated=backend.startswith("sim/"))
    telemetry = RunTelemetry(identity, layout.spans_file(run_id), layout.resources_file(run_id),
                             capture_content=capture_content, sample_resources=sample_resources)
    started, t0 = time.time_ns(), time.perf_counter()
    telemetry.start()
    status, reason = "success", None
    try:
        yield telemetry
    except BaseException as exc:
        status, reason = "exception", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        stats = telemetry.finish(status, reason)
        row = {
            "schema_version": SCHEMA_VERSION, **identity.columns(), "simulated": identity.simulated,
            "status": status, "outcome": "success" if status == "success" else "failure",
            "outcome_reason": telemetry.redact(reason), "judgement": "unknown", "started_at_ns": started,
            "duration_s": time.perf_counter() - t0, **stats.run_columns(),
            "attempt": 1, "task_meta_json": json.dumps({}), "question": telemetry.redact(question),
        }
        RunIndex(layout).upsert(row)
