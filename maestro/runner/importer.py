"""Imported traces (``maestro import`` / ``maestro ingest``) -> a normal study folder,
through the writers a study run uses.

Each run's spans go through ``ParquetSpanExporter`` (the run's ``spans/<run_id>.parquet``),
its totals through ``RunStats`` and its row through ``RunRecord`` into the study's
``RunIndex``: ``maestro.load_study``, ``maestro report`` and the analysis frames read the
folder like any other. An imported run has no resource samples (its CPU/memory columns are
null) and no set-up or total time (only the root span's duration, ``working_s``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from maestro import __version__
from maestro import semconv as sc
from maestro.backends import load_prices, parse_backend, price_key
from maestro.collector.export import ContentPolicy, ParquetSpanExporter, RunIdentity
from maestro.collector.redact import Redactor
from maestro.collector.telemetry import RunStats
from maestro.contract import JudgeResult
from maestro.interop.mapping import (
    ImportOptions,
    MappedRun,
    MappedSpan,
    detect_framework,
    group_runs,
    map_run,
    run_id_for,
)
from maestro.interop.otlp import OtlpSpan
from maestro.runner.record import RunRecord, RunTiming
from maestro.store.layout import StudyLayout, atomic_write_json, valid_id
from maestro.store.lock import StudyLock
from maestro.store.reader import STUDY_FORMAT, RunIndex, read_study_json

__all__ = ["StudyWriter", "import_files", "open_receiver"]

LOCK_WAIT_S = 30.0
"""How long an importer waits for another writer of the study folder."""

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


def _sdk_span(m: MappedSpan, resource: Resource) -> ReadableSpan:
    ctx = SpanContext(int(m.trace_id, 16), int(m.span_id, 16), False, _SAMPLED)
    parent = SpanContext(int(m.trace_id, 16), int(m.parent_span_id, 16), False, _SAMPLED) if m.parent_span_id else None
    try:
        status = Status(StatusCode[m.status_code], m.status_message if m.status_code == "ERROR" else None)
    except KeyError:
        status = Status(StatusCode.UNSET)
    return ReadableSpan(
        name=m.name, context=ctx, parent=parent, resource=resource, attributes=m.attributes,
        events=[Event(e["name"], e.get("attributes") or {}, e.get("time_ns") or m.start_ns) for e in m.events],
        kind=SpanKind[m.kind] if m.kind in SpanKind.__members__ else SpanKind.INTERNAL, status=status,
        start_time=m.start_ns, end_time=m.end_ns, instrumentation_scope=InstrumentationScope(m.scope or "imported"))


@dataclass
class StudyWriter:
    """Writes imported runs into one study folder. Holds the study's lock from ``open()``
    to ``close()`` (it is the folder's writer, as ``maestro study run`` is)."""

    root: str
    options: ImportOptions = field(default_factory=ImportOptions)
    written: list[str] = field(default_factory=list)
    """Run ids written, in order."""

    def __post_init__(self) -> None:
        self.layout = StudyLayout(self.root)
        valid_id(self.layout.study_id, "study id (the folder's name)")
        self.redactor = Redactor()
        self.content = ContentPolicy(capture=self.options.capture_content, redact=self.redactor)
        self._lock: StudyLock | None = None
        self._index: RunIndex | None = None
        self._backends: list[str] = []

    def open(self) -> StudyWriter:
        """Create the folder, take the study's lock, read its run index, write study.json."""
        self.layout.create()
        self._lock = StudyLock(self.layout.root, wait_s=LOCK_WAIT_S, purpose="maestro import")
        self._lock.__enter__()
        self._index = RunIndex(self.layout)
        info = read_study_json(self.layout.study_json) if self.layout.study_json.exists() else {}
        self._backends = list(info.get("backends") or [])
        self._write_study_json(info)
        return self

    def __enter__(self) -> StudyWriter:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Fold the run index into runs.parquet and release the study."""
        try:
            if self._index is not None:
                self._index.write()
        finally:
            if self._lock is not None:
                self._lock.__exit__(None, None, None)
                self._lock = None

    def _write_study_json(self, info: dict[str, Any]) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        info = info or {"format": STUDY_FORMAT, "schema_version": sc.SCHEMA_VERSION,
                        "study_id": self.layout.study_id, "maestro_version": __version__, "created_at": now,
                        "config": {"imported": True}, "prices": load_prices(None).snapshot()}
        info["backends"] = self._backends
        info["simulated_backends"] = [b for b in self._backends if b.startswith("sim/")]
        info["simulated"] = bool(info["simulated_backends"])
        info["updated_at"] = now
        atomic_write_json(info, self.layout.study_json)

    # -- one run -------------------------------------------------------------------------
    def write_group(self, key: str, spans: list[OtlpSpan]) -> str:
        """Map and write the spans of one run (``key``: its trace id or group value);
        returns its run id."""
        o = self.options
        first = spans[0].resource
        instance = o.instance or str(first.get(sc.MAESTRO_INSTANCE) or first.get(sc.SERVICE_NAME) or "imported")
        run = map_run(spans, capture_content=o.capture_content, instance=instance,
                      trace_id=min(spans, key=lambda s: s.start_ns).trace_id)
        return self.write_run(run, key, spans)

    def write_run(self, run: MappedRun, key: str, source: list[OtlpSpan]) -> str:
        """Write a mapped run: its spans file and its run record."""
        if self._index is None:
            raise RuntimeError("StudyWriter.write_run() before open()")
        o = self.options
        ident = run.identity_attributes()
        stats = RunStats()
        for m in run.spans:
            stats.add(m.attributes)
        provider, model, response_model = stats.main_model()
        backend = o.backend or ident.get(sc.MAESTRO_BACKEND) or price_key(provider, model) or ""
        try:
            simulated = parse_backend(backend).simulated if backend else provider == sc.SIM_PROVIDER
        except ValueError:
            simulated = provider == sc.SIM_PROVIDER
        identity = RunIdentity(
            study_id=self.layout.study_id, run_id=run_id_for(str(ident.get(sc.MAESTRO_RUN_ID) or key)),
            instance=o.instance or str(ident.get(sc.MAESTRO_INSTANCE) or run.root.name.removeprefix("invoke_workflow ")),
            framework=o.framework or str(ident.get(sc.MAESTRO_FRAMEWORK) or detect_framework(source)),
            backend=backend, tools_enabled=ident.get(sc.MAESTRO_TOOLS_ENABLED),
            repeat=int(ident.get(sc.MAESTRO_REPEAT) or 0), seed=int(ident.get(sc.MAESTRO_SEED) or 0),
            task_id=str(ident.get(sc.MAESTRO_TASK_ID) or ""), simulated=bool(simulated))
        resource = Resource({**run.resource, **identity.resource_attributes()})
        exporter = ParquetSpanExporter(self.layout.spans_file(identity.run_id), identity, self.content)
        exporter.export([_sdk_span(m, resource) for m in run.spans])
        stats.spans_created = len(run.spans)
        try:
            exporter.shutdown()
        except OSError as e:
            stats.write_error = f"spans file: {type(e).__name__}: {e}"
        stats.spans_written = exporter.written
        stats.spans_dropped = max(0, stats.spans_created - stats.spans_written)
        root = run.root
        attrs = root.attributes
        status = str(attrs.get(sc.MAESTRO_RUN_STATUS) or ("exception" if root.status_code == "ERROR" else "success"))
        judgement = attrs.get(sc.RUN_JUDGEMENT)
        record = RunRecord(
            identity, status, RunTiming(started_at_ns=root.start_ns, working_s=(root.end_ns - root.start_ns) / 1e9),
            model=model, provider=provider, response_model=response_model,
            reason=attrs.get(sc.RUN_OUTCOME_REASON) or root.status_message,
            judge=JudgeResult(str(judgement), str(attrs.get(sc.RUN_JUDGEMENT_REASON) or "")) if judgement else None)
        record.account_for(stats).price(load_prices(None))
        self._index.record(record.row(self.redactor))
        if backend and backend not in self._backends:
            self._backends.append(backend)
            self._write_study_json(read_study_json(self.layout.study_json))
        self.written.append(identity.run_id)
        return identity.run_id

    def write_all(self, spans: Iterable[OtlpSpan]) -> list[str]:
        """Group ``spans`` into runs and write each; returns their run ids."""
        return [self.write_group(k, v) for k, v in group_runs(spans, self.options.group_by).items()]


def import_files(paths: Iterable[str], root: str, options: ImportOptions | None = None) -> list[str]:
    """Import OTLP JSON files (one request, a list, or one request per line) into the study
    folder ``root``; returns the run ids written. All files are read before grouping, so a
    run split over several files is one run."""
    from maestro.interop.otlp import read_json_file

    spans: list[OtlpSpan] = []
    for p in paths:
        spans.extend(read_json_file(p))
    if not spans:
        raise ValueError(f"no spans in {', '.join(map(str, paths))}")
    with StudyWriter(root, options or ImportOptions()) as writer:
        return writer.write_all(spans)


def open_receiver(root: str, options: ImportOptions | None = None, **kwargs: Any):
    """An OTLP/HTTP :class:`maestro.interop.Receiver` writing into the study folder ``root``
    (``kwargs``: ``host``, ``port``, ``idle_s``, ``on_run``); start it, or use ``serve``."""
    from maestro.interop.receiver import Receiver

    return Receiver(StudyWriter(root, options or ImportOptions()), **kwargs)
