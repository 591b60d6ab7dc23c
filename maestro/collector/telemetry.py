"""One run's telemetry: a TracerProvider, its processors, the run root span, resource
sampling and the run's totals.

Adapters record their spans through a fast path (``start_span``/``end_span``): a span is
kept as a small ``SpanHandle`` while open and materialised as an OpenTelemetry SDK
``ReadableSpan`` when it ends, then handed to the run's span processors exactly like a
span the SDK tracer finished. This costs a fraction of the SDK tracer's per-span work
(no sampler, no per-attribute validation and locking) while every exporter, including
OTLP, still receives standard SDK spans. Spans that frameworks or user code create
with the run's SDK ``tracer`` flow through the same processors.

Nothing is dropped silently: spans are counted when created and when written; the
difference is reported in the run's record, which is then flagged as not clean. Spans the
optional OTLP export (``maestro.collector.otlp``) did not deliver are counted apart
(``spans_export_failed``): a peer's failure never fails or slows the run.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections import Counter
from contextvars import Token
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from maestro import __version__, settings
from maestro import semconv as sc
from maestro.collector.export import ContentPolicy, ParquetSpanExporter, RunIdentity
from maestro.collector.http import TOTALS, install_http_hooks
from maestro.collector.otlp import DEFAULT_OTLP_QUEUE, OtlpExport, otlp_configured
from maestro.collector.redact import Redactor
from maestro.collector.resources import ResourceSampler, summarise
from maestro.store.layout import atomic_write_table, file_metadata, table_from_rows
from maestro.store.schema import RESOURCE_COLUMNS

__all__ = ["RunTelemetry", "RunStats", "SpanHandle", "FastIdGenerator", "current_telemetry", "run_resource",
           "DEFAULT_OTLP_QUEUE"]

log = logging.getLogger(__name__)

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_SCOPE = InstrumentationScope("maestro", __version__)
_STATUS_UNSET = Status(StatusCode.UNSET)
_STATUS_OK = Status(StatusCode.OK)


class FastIdGenerator(IdGenerator):
    """Ids from ``random.getrandbits``.

    The SDK default calls ``os.urandom`` per id, which releases the GIL on every call and
    was measured to starve the batch exporter thread into dropping spans.
    """

    def __init__(self) -> None:
        self._rng = random.Random()

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1


class SpanHandle:
    """An open span recorded through the fast path."""

    __slots__ = ("context", "parent", "name", "kind", "start_ns", "attributes", "events", "ended")

    def __init__(self, context: SpanContext, parent: SpanContext | None, name: str, kind: SpanKind,
                 start_ns: int, attributes: dict[str, Any]):
        self.context = context
        self.parent = parent
        self.name = name
        self.kind = kind
        self.start_ns = start_ns
        self.attributes = attributes
        self.events: list = []
        self.ended = False

    @property
    def span_id_hex(self) -> str:
        return format(self.context.span_id, "016x")


@dataclass
class RunStats:
    """Totals of one run, filled as spans end (LLM tokens from LLM spans only)."""

    spans_created: int = 0
    spans_written: int = 0
    spans_dropped: int = 0
    llm_calls: int = 0
    tool_calls: int = 0
    agent_turns: int = 0
    messages: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usage_estimated_calls: int = 0
    bytes_unobserved_calls: int = 0
    """LLM calls whose HTTP bytes could not be observed (``maestro.bytes.observed = false``)."""
    llm_request_bytes: int = 0
    llm_response_bytes: int = 0
    a2a_bytes: int = 0
    http_request_bytes_total: int = 0
    """All HTTP request bytes of the process during the run (adapter-attributed or not)."""
    http_response_bytes_total: int = 0
    resources: dict[str, Any] = field(default_factory=dict)
    """mean/peak/min CPU and RSS (see resources.summarise)."""
    spans_export_failed: int | None = None
    """Spans the run's OTLP export did not deliver (endpoint down, refused, not flushed in
    time); None when OTLP export was off."""
    write_error: str | None = None
    """Why the run's span or resource file could not be written (its spans are then lost
    and counted dropped); None when both were written."""
    models: Counter = field(default_factory=Counter)
    """(provider, request model, response model) -> LLM spans: what the run talked to, as
    its spans recorded it."""

    def main_model(self) -> tuple[str | None, str | None, str | None]:
        """(provider, request model, response model) of most of the run's LLM calls, or
        Nones when it made none."""
        if not self.models:
            return None, None, None
        return self.models.most_common(1)[0][0]

    def run_columns(self) -> dict[str, Any]:
        """The run-record (runs.parquet) columns these totals fill."""
        return {
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
            "usage_estimated_calls": self.usage_estimated_calls, "bytes_unobserved_calls": self.bytes_unobserved_calls,
            "llm_calls": self.llm_calls, "tool_calls": self.tool_calls, "agent_turns": self.agent_turns,
            "messages": self.messages,
            "llm_request_bytes": self.http_request_bytes_total, "llm_response_bytes": self.http_response_bytes_total,
            "a2a_bytes": self.a2a_bytes,
            **self.resources,
            "spans_created": self.spans_created, "spans_written": self.spans_written,
            "spans_dropped": self.spans_dropped, "clean": self.spans_dropped == 0 and self.write_error is None,
            "spans_export_failed": self.spans_export_failed,
        }

    def add(self, attrs) -> None:
        get = attrs.get
        kind = get(sc.MAESTRO_SPAN_TYPE) or sc.OPERATION_SPAN_TYPES.get(get(sc.GEN_AI_OPERATION_NAME))
        if kind == "llm":
            self.llm_calls += 1
            i = get(sc.GEN_AI_USAGE_INPUT_TOKENS) or 0
            o = get(sc.GEN_AI_USAGE_OUTPUT_TOKENS) or 0
            self.input_tokens += i
            self.output_tokens += o
            if get(sc.MAESTRO_USAGE_ESTIMATED):
                self.usage_estimated_calls += 1
            if get(sc.MAESTRO_BYTES_OBSERVED) is False:
                self.bytes_unobserved_calls += 1
            self.models[(get(sc.GEN_AI_PROVIDER_NAME), get(sc.GEN_AI_REQUEST_MODEL), get(sc.GEN_AI_RESPONSE_MODEL))] += 1
            self.llm_request_bytes += get(sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES) or 0
            self.llm_response_bytes += get(sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES) or 0
        elif kind == "tool":
            self.tool_calls += 1
        elif kind == "agent":
            self.agent_turns += 1
        elif kind == "message":
            self.messages += 1
            self.a2a_bytes += get(sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES) or 0


class _RunSpanProcessor(SpanProcessor):
    """Counts, aggregates and forwards ended spans to the parquet exporter synchronously.

    Synchronous on purpose: there is no queue that could overflow. Spans are converted in
    batches (``batch`` spans at a time) to keep the per-span cost on the run's thread low.
    """

    def __init__(self, exporter: ParquetSpanExporter, stats: RunStats, batch: int = 512):
        self.exporter = exporter
        self.stats = stats
        self.batch = batch
        self._pending: list[ReadableSpan] = []
        self._lock = threading.Lock()
        self.open_sdk_spans: dict[int, Any] = {}
        self.closed = False

    def on_start(self, span, parent_context=None) -> None:
        with self._lock:
            self.stats.spans_created += 1
            self.open_sdk_spans[span.context.span_id] = span

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.open_sdk_spans.pop(span.context.span_id, None)
            if self.closed:  # ended after the run was finalised: counted as dropped
                return
            self.stats.add(span.attributes or {})
            self._pending.append(span)
            if len(self._pending) >= self.batch:
                pending, self._pending = self._pending, []
                self.exporter.export(pending)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            self.exporter.export(pending)
        return self.exporter.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.force_flush()
        with self._lock:
            self.closed = True
        self.exporter.shutdown()


_CURRENT: RunTelemetry | None = None


def current_telemetry() -> RunTelemetry | None:
    """The run telemetry active in this process, if any (set by ``RunTelemetry.start``)."""
    return _CURRENT


def run_resource(identity: RunIdentity) -> Resource:
    """The run's OTel resource, from ``Resource.create``: maestro's defaults
    (``service.name = maestro.<instance>``, version, environment, host, the Phoenix project
    named after the study) give way to ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``;
    the run identity (``maestro.*``) always wins."""
    defaults = {
        sc.SERVICE_NAME: f"maestro.{identity.instance}",
        sc.SERVICE_VERSION: __version__,
        sc.DEPLOYMENT_ENVIRONMENT: settings.ENVIRONMENT.get(),
        sc.HOST_NAME: _HOST_NAME,
        sc.OPENINFERENCE_PROJECT_NAME: identity.study_id,
    }
    from_env = OTELResourceDetector().detect().attributes
    attrs: dict[str, Any] = {k: v for k, v in defaults.items() if k not in from_env}
    attrs.update(identity.resource_attributes())
    return Resource.create(attrs)


class RunTelemetry:
    """Telemetry of one run. Create, ``start()``, record spans, ``finish()`` once.

    Args:
        identity: who the run is (written on every span).
        spans_path / resources_path: where the run's parquet files go.
        capture_content: write prompts, responses and tool arguments (redacted).
        sample_interval_s: resource sampling period (None: env MAESTRO_SAMPLE_INTERVAL_S, else 0.1 s).
        otlp: also export over OTLP/HTTP: True, or the endpoint URL (base, like
            ``OTEL_EXPORTER_OTLP_ENDPOINT``, or ending in ``/v1/traces``); None means "if
            OTEL_EXPORTER_OTLP_*ENDPOINT is set"; False never.
        sample_resources: False disables the sampler thread (benchmarks of the span path only).
    """

    def __init__(
        self,
        identity: RunIdentity,
        spans_path,
        resources_path,
        *,
        capture_content: bool = False,
        sample_interval_s: float | None = None,
        otlp: bool | str | None = None,
        sample_resources: bool = True,
        redactor: Redactor | None = None,
    ):
        self.identity = identity
        self.resources_path = resources_path
        self.redact = redactor or Redactor()
        self.content = ContentPolicy(capture=capture_content, redact=self.redact)
        self.stats = RunStats()
        self._ids = FastIdGenerator()
        self.resource = run_resource(identity)
        self.parquet = ParquetSpanExporter(spans_path, identity, self.content)
        self._run_processor = _RunSpanProcessor(self.parquet, self.stats)
        self._processors: list[SpanProcessor] = [self._run_processor]
        self._otlp_broken = False
        self._otlp: OtlpExport | None = None
        if otlp or (otlp is None and otlp_configured()):
            self._add_otlp(otlp if isinstance(otlp, str) else None)
        self.provider = TracerProvider(
            resource=self.resource,
            sampler=ALWAYS_ON,
            id_generator=self._ids,
            # Far above the SDK's 128 so no attribute is evicted silently.
            span_limits=SpanLimits(max_attributes=4096, max_events=4096, max_links=4096,
                                   max_span_attributes=4096, max_event_attributes=1024),
        )
        for p in self._processors:
            self.provider.add_span_processor(p)
        self.tracer = self.provider.get_tracer("maestro", __version__)
        self.sampler = ResourceSampler(interval_s=sample_interval_s) if sample_resources else None
        self.root: SpanHandle | None = None
        self._open: dict[int, SpanHandle] = {}
        self._open_lock = threading.Lock()
        self._finished = False
        self._finish_lock = threading.Lock()
        self.resource_samples: list = []
        self._ctx_token: Token[otel_context.Context] | None = None

    # -- set-up ----------------------------------------------------------------------
    def _add_otlp(self, endpoint: str | None) -> None:
        try:
            self._otlp = OtlpExport(self.content, self.identity, endpoint)
        except Exception:  # noqa: BLE001 - a bad endpoint must not lose the run: it is counted
            log.exception("OTLP export could not be set up; the run's spans go to parquet only")
            self.stats.spans_export_failed = 0  # made up below: every span counts as not delivered
            self._otlp_broken = True
            return
        self._processors.append(self._otlp.processor)

    def start(self, name: str | None = None, attributes: dict[str, Any] | None = None,
              start_ns: int | None = None) -> RunTelemetry:
        """Open the run root span (at ``start_ns``, default now), reset HTTP totals and
        start resource sampling."""
        global _CURRENT
        install_http_hooks()
        TOTALS.reset()
        attrs = {
            sc.GEN_AI_OPERATION_NAME: sc.Operation.INVOKE_WORKFLOW.value,
            sc.MAESTRO_SPAN_TYPE: sc.SpanType.RUN.value,
        }
        attrs.update(attributes or {})
        if self.sampler is not None:  # its first sample is maestro's work, not the run's: before the root opens
            self.sampler.start()
        trace_id = self._ids.generate_trace_id()
        ctx = SpanContext(trace_id, self._ids.generate_span_id(), False, _SAMPLED)
        self.root = SpanHandle(ctx, None, name or f"invoke_workflow {self.identity.instance}",
                               SpanKind.INTERNAL, start_ns or time.time_ns(), attrs)
        self.stats.spans_created += 1
        self._open[ctx.span_id] = self.root
        _CURRENT = self
        return self

    def attach_root_context(self) -> None:
        """Make the root span the current OTel context of the calling thread, so spans of
        OTel-instrumented libraries (via the global provider) nest under the run. Call from
        runner code only, never from callbacks."""
        if self.root is None:
            raise RuntimeError("attach_root_context() before the run's root span was opened")
        self._ctx_token = otel_context.attach(self.context_for(self.root))

    # -- fast path -------------------------------------------------------------------
    def start_span(
        self,
        name: str,
        attributes: dict[str, Any],
        parent: SpanHandle | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        start_ns: int | None = None,
    ) -> SpanHandle:
        """Open a span under ``parent`` (the run root when None). Never raises once the run's
        root span is open."""
        parent = parent or self.root
        if parent is None:
            raise RuntimeError("start_span() without a parent before the run's root span was opened")
        pctx = parent.context
        ctx = SpanContext(pctx.trace_id, self._ids.generate_span_id(), False, _SAMPLED)
        handle = SpanHandle(ctx, pctx, name, kind, start_ns or time.time_ns(), attributes)
        with self._open_lock:
            self.stats.spans_created += 1
            self._open[ctx.span_id] = handle
        return handle

    def end_span(
        self,
        handle: SpanHandle,
        attributes: dict[str, Any] | None = None,
        error: str | None = None,
        end_ns: int | None = None,
        ok: bool = False,
    ) -> None:
        """Close ``handle``: add ``attributes``, set ERROR status when ``error`` is given."""
        if handle.ended:
            return
        handle.ended = True
        with self._open_lock:
            self._open.pop(handle.context.span_id, None)
        if attributes:
            handle.attributes.update(attributes)
        if error is not None:
            status = Status(StatusCode.ERROR, error)
        else:
            status = _STATUS_OK if ok else _STATUS_UNSET
        span = ReadableSpan(
            name=handle.name, context=handle.context, parent=handle.parent, resource=self.resource,
            attributes=handle.attributes, events=handle.events, kind=handle.kind,
            instrumentation_scope=_SCOPE, status=status, start_time=handle.start_ns,
            end_time=end_ns or time.time_ns(),
        )
        for p in self._processors:
            try:
                p.on_end(span)
            except Exception:  # a broken processor must not break the user's MAS
                log.exception("span processor failed")

    def record_message(
        self,
        source: str,
        target: str,
        nbytes: int,
        parent: SpanHandle | None = None,
        in_process: bool = True,
        at_ns: int | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        """Record one agent-to-agent message as a zero-duration ``message`` span."""
        t = at_ns or time.time_ns()
        attrs = {
            sc.MAESTRO_SPAN_TYPE: sc.SpanType.MESSAGE.value,
            sc.MAESTRO_MESSAGE_SOURCE: source,
            sc.MAESTRO_MESSAGE_TARGET: target,
            sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES: nbytes,
            sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: 0,
            sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES: nbytes,
            sc.COMMUNICATION_IS_IN_PROCESS_CALL: in_process,
        }
        if attributes:
            attrs.update(attributes)
        h = self.start_span(f"message {source} -> {target}", attrs, parent, SpanKind.PRODUCER, start_ns=t)
        self.end_span(h, end_ns=t)

    def context_for(self, handle: SpanHandle) -> otel_context.Context:
        """An OTel context whose current span is ``handle`` (for SDK spans beneath it)."""
        return trace.set_span_in_context(NonRecordingSpan(handle.context))

    def add_root_attributes(self, attributes: dict[str, Any]) -> None:
        if self.root is not None and not self.root.ended:
            self.root.attributes.update(attributes)

    # -- end of run ------------------------------------------------------------------
    def finish(self, status: str = "success", reason: str | None = None,
               root_attributes: dict[str, Any] | None = None, end_ns: int | None = None) -> RunStats:
        """End every open span, write spans and resources, return the run's totals.

        ``end_ns``: when the run's work ended (default now); the root span and any span
        still open end then, so scoring and teardown after the work are not part of it.
        Safe to call from another thread (the runner's timeout watchdog) and idempotent.
        """
        global _CURRENT
        with self._finish_lock:
            if self._finished:
                return self.stats
            self._finished = True
        now = end_ns or time.time_ns()
        open_reason = reason or f"run ended ({status}) while the span was open"
        with self._open_lock:
            still_open = [h for h in self._open.values() if h is not self.root]
        for h in sorted(still_open, key=lambda h: -h.start_ns):  # children first
            self.end_span(h, error=open_reason, end_ns=now)
        for sdk_span in list(self._run_processor.open_sdk_spans.values()):
            try:
                sdk_span.set_status(Status(StatusCode.ERROR, open_reason))
                sdk_span.end(end_time=now)
            except Exception:
                log.debug("could not end open SDK span", exc_info=True)
        if self.root is not None:
            attrs: dict[str, Any] = {
                sc.MAESTRO_RUN_STATUS: status,
                sc.RUN_OUTCOME: "success" if status == "success" else "failure",
                sc.GEN_AI_LLM_CALL_COUNT: self.stats.llm_calls,
            }
            if reason:
                attrs[sc.RUN_OUTCOME_REASON] = self.redact(reason)
            attrs.update(root_attributes or {})
            self.end_span(self.root, attributes=attrs,
                          error=self.redact(reason) if status in ("exception", "timeout", "crashed") else None,
                          end_ns=now, ok=status == "success")
        if self._ctx_token is not None:
            try:
                otel_context.detach(self._ctx_token)
            except Exception:  # detaching from another thread (watchdog) is harmless to skip
                pass
        if self.sampler is not None:
            self.resource_samples = self.sampler.stop()
        errors = []
        try:
            self._write_resources()
        except Exception as e:  # noqa: BLE001 - a full disk must not hide the run
            errors.append(f"resources file: {type(e).__name__}: {e}")
        for p in self._processors:
            try:
                if self._otlp is not None and p is self._otlp.processor:
                    self._otlp.shutdown()  # bounded: a dead peer costs at most MAESTRO_OTLP_FLUSH_S
                else:
                    p.shutdown()
            except Exception as e:  # noqa: BLE001
                if self._otlp is not None and p is self._otlp.processor:
                    log.warning("OTLP export did not shut down cleanly: %s: %s", type(e).__name__, e)
                    continue
                errors.append(f"spans file: {type(e).__name__}: {e}" if p is self._run_processor
                              else f"span processor: {type(e).__name__}: {e}")
        s = self.stats
        s.write_error = "; ".join(errors) or None
        s.spans_written = self.parquet.written
        if self._otlp is not None:
            s.spans_export_failed = max(0, s.spans_created - self._otlp.exported)
        elif self._otlp_broken:
            s.spans_export_failed = s.spans_created
        s.spans_dropped = max(0, s.spans_created - s.spans_written)
        s.http_request_bytes_total = TOTALS.request_bytes
        s.http_response_bytes_total = TOTALS.response_bytes
        s.resources = summarise(self.resource_samples)
        if _CURRENT is self:
            _CURRENT = None
        return s

    def _write_resources(self) -> None:
        rows = [
            {"study_id": self.identity.study_id, "run_id": self.identity.run_id, "time_ns": r.time_ns,
             "cpu_percent": r.cpu_percent, "rss_bytes": r.rss_bytes, "num_processes": r.num_processes}
            for r in self.resource_samples
        ]
        meta = file_metadata("resources", {"run_id": self.identity.run_id})
        atomic_write_table(table_from_rows(RESOURCE_COLUMNS, rows, meta), self.resources_path)


# Looked up once per process: constant, and the lookup costs ~1 ms per run.
_HOST_NAME = socket.gethostname()
