"""One run across processes: trace context and run identity over HTTP, spans back over OTLP.

A run whose agents live in other processes (A2A servers, possibly on other machines) stays
one run with one trace:

* **Caller side** (the run's process): every request to a remote agent carries
  :func:`propagation_headers`: W3C ``traceparent`` (the run's trace id and the span the
  remote work hangs under), ``x-maestro-run`` (the run identity, base64url JSON) and
  ``x-maestro-span-sink`` (where to send spans: the OTLP/HTTP traces URL of the run
  process's :class:`SpanSink`).
* **Remote side**: :meth:`RemoteRun.from_headers` reads them back; a :class:`RemoteTelemetry`
  per request records spans through the same fast-path API as ``RunTelemetry``
  (``start_span`` / ``end_span`` / ``record_message``) under the caller's span, and
  :meth:`RemoteTelemetry.flush` posts them to the sink as one OTLP/HTTP protobuf export
  *before* the remote agent answers, so a run's spans are all in when its last hand-over
  returns. Nothing is written to the remote machine's disk: no shared filesystem is assumed.
* **Sink**: an OTLP/HTTP receiver (``POST /v1/traces``) in the run's process, one per
  process, that hands each received span to the run's processors like a local span (the
  parquet file, the run's totals, OTLP forwarding) and counts, per remote process, spans
  created there (reported with each export) against spans received here. The counts go on
  the run root as ``maestro.remote.processes`` (JSON) and into the run's ``spans_created``,
  so a lost export shows as dropped spans.

The sink listens on ``MAESTRO_SPAN_SINK_HOST`` (``127.0.0.1`` by default): remote agents on
other machines need an address of the run's machine they reach there.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from maestro import __version__, settings
from maestro import semconv as sc
from maestro.collector.export import ContentPolicy, RunIdentity
from maestro.collector.http import TOTALS, install_http_hooks
from maestro.collector.redact import Redactor
from maestro.collector.telemetry import FastIdGenerator, RunTelemetry, SpanHandle

__all__ = ["TRACEPARENT", "RUN_HEADER", "SINK_HEADER", "REMOTE_PROCESS", "REMOTE_PROCESSES", "SPANS_LOST",
           "propagation_headers", "RemoteRun", "RemoteTelemetry", "SpanSink", "traceparent", "note_lost"]

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
"""W3C trace-context header: ``00-<trace id>-<parent span id>-01``."""
RUN_HEADER = "x-maestro-run"
"""Run identity (and the content-capture flag) as base64url JSON."""
SINK_HEADER = "x-maestro-span-sink"
"""OTLP/HTTP traces URL of the run process's span sink."""
REMOTE_PROCESS = "maestro.remote.process"
"""``<name>@<host>:<pid>`` of the process that recorded a span: a resource attribute of each
remote export, and an attribute of every span the sink stores (local spans have none)."""
REMOTE_SPANS_CREATED = "maestro.remote.spans_created"
"""Resource attribute of a remote export: spans the remote process created for it."""
REMOTE_HTTP_REQUEST_BYTES = "maestro.remote.http_request_bytes"
"""Resource attribute of a remote export: HTTP request body bytes (model calls) it made."""
REMOTE_HTTP_RESPONSE_BYTES = "maestro.remote.http_response_bytes"
"""Resource attribute of a remote export: HTTP response body bytes it received."""
SPANS_LOST = "maestro.remote.spans_lost"
"""In a remote agent's answer (A2A message metadata), only when its export to the sink failed:
spans it created for the request that the run will not receive (see :func:`note_lost`)."""
REMOTE_PROCESSES = "maestro.remote.processes"
"""On the run root: JSON ``{process: {"created": n, "received": m}}`` over the run's remote processes."""

_BOUNDARY = frozenset({"__start__", "__end__"})
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_SCOPE = InstrumentationScope("maestro.remote", __version__)
_IDENTITY_FIELDS = ("study_id", "run_id", "instance", "framework", "backend", "tools_enabled", "repeat", "seed",
                    "task_id", "simulated")


def traceparent(ctx: SpanContext) -> str:
    """The W3C ``traceparent`` value naming span ``ctx`` as the parent."""
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-01"


def propagation_headers(telemetry: RunTelemetry, parent: SpanHandle, sink_url: str) -> dict[str, str]:
    """Headers that make a remote agent's work part of ``telemetry``'s run, under ``parent``."""
    ident = {f: getattr(telemetry.identity, f) for f in _IDENTITY_FIELDS}
    ident["capture"] = bool(telemetry.content.capture)
    blob = base64.urlsafe_b64encode(json.dumps(ident, separators=(",", ":")).encode()).decode().rstrip("=")
    return {TRACEPARENT: traceparent(parent.context), RUN_HEADER: blob, SINK_HEADER: sink_url}


@dataclass(frozen=True)
class RemoteRun:
    """What a remote process learns from a request's headers."""

    identity: RunIdentity
    parent: SpanContext
    """The caller's span the remote work hangs under (``is_remote`` set)."""
    sink_url: str
    capture: bool = False

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RemoteRun | None:
        """The run a request belongs to; None when it carries no (or malformed) maestro headers
        (the remote agent then runs untraced)."""
        h = {str(k).lower(): str(v) for k, v in headers.items()}
        tp, blob, sink = h.get(TRACEPARENT), h.get(RUN_HEADER), h.get(SINK_HEADER)
        if not (tp and blob and sink):
            return None
        try:
            version, trace_id, span_id, _ = tp.split("-")
            parent = SpanContext(int(trace_id, 16), int(span_id, 16), True, _SAMPLED)
            data = json.loads(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
            ident = RunIdentity(**{f: data[f] for f in _IDENTITY_FIELDS if f in data})
        except (ValueError, TypeError, KeyError) as e:
            log.warning("maestro: ignoring malformed run headers (%s)", type(e).__name__)
            return None
        if version != "00" or not parent.is_valid:
            return None
        return cls(ident, parent, sink, bool(data.get("capture", False)))


class RemoteTelemetry:
    """A remote process's spans for one request of a run: the fast-path recording API of
    ``RunTelemetry`` under the caller's span, exported to the run's sink by :meth:`flush`.

    The run-boundary edges (``__start__ -> agent``, ``agent -> __end__``) a framework adapter
    records for a remote invocation are not recorded: the caller records the hand-over both
    ways with the real HTTP body bytes.
    """

    def __init__(self, remote: RemoteRun, process: str):
        self.remote = remote
        self.identity = remote.identity
        self.redact = Redactor()
        self.content = ContentPolicy(capture=remote.capture, redact=self.redact)
        self.process = process
        self.resource = Resource({
            sc.SERVICE_NAME: f"maestro.{remote.identity.instance}", sc.SERVICE_VERSION: __version__,
            sc.HOST_NAME: socket.gethostname(), REMOTE_PROCESS: process, **remote.identity.resource_attributes(),
        })
        self._ids = FastIdGenerator()
        self.root = SpanHandle(remote.parent, None, "remote parent", SpanKind.SERVER, time.time_ns(), {})
        self._open: dict[int, SpanHandle] = {}
        self._lock = threading.Lock()
        self.spans: list[ReadableSpan] = []
        self.created = 0
        """Spans created in this process for this request."""
        self.exported = 0
        """Spans the sink accepted."""
        self.lost = 0
        """Spans created here whose export failed (the caller learns it from the answer)."""
        install_http_hooks()
        self._http0 = (TOTALS.request_bytes, TOTALS.response_bytes)

    def start_span(self, name: str, attributes: dict[str, Any], parent: SpanHandle | None = None,
                   kind: SpanKind = SpanKind.INTERNAL, start_ns: int | None = None) -> SpanHandle:
        """Open a span under ``parent`` (the caller's span when None)."""
        pctx = (parent or self.root).context
        ctx = SpanContext(pctx.trace_id, self._ids.generate_span_id(), False, _SAMPLED)
        handle = SpanHandle(ctx, pctx, name, kind, start_ns or time.time_ns(), attributes)
        with self._lock:
            self.created += 1
            self._open[ctx.span_id] = handle
        return handle

    def end_span(self, handle: SpanHandle, attributes: dict[str, Any] | None = None, error: str | None = None,
                 end_ns: int | None = None, ok: bool = False) -> None:
        """Close ``handle`` (ERROR status with ``error``); it is exported at :meth:`flush`."""
        if handle.ended or handle is self.root:
            return
        handle.ended = True
        if attributes:
            handle.attributes.update(attributes)
        status = Status(StatusCode.ERROR, error) if error is not None else \
            Status(StatusCode.OK if ok else StatusCode.UNSET)
        span = ReadableSpan(name=handle.name, context=handle.context, parent=handle.parent, resource=self.resource,
                            attributes=self.content.attributes(dict(handle.attributes)), events=handle.events,
                            kind=handle.kind, instrumentation_scope=_SCOPE, status=status,
                            start_time=handle.start_ns, end_time=end_ns or time.time_ns())
        with self._lock:
            self._open.pop(handle.context.span_id, None)
            self.spans.append(span)

    def record_message(self, source: str, target: str, nbytes: int, parent: SpanHandle | None = None,
                       in_process: bool = True, at_ns: int | None = None,
                       attributes: dict[str, Any] | None = None) -> None:
        """A zero-duration ``message`` span, except the run-boundary edges (class docstring)."""
        if source in _BOUNDARY or target in _BOUNDARY:
            return
        t = at_ns or time.time_ns()
        attrs = {sc.MAESTRO_SPAN_TYPE: sc.SpanType.MESSAGE.value, sc.MAESTRO_MESSAGE_SOURCE: source,
                 sc.MAESTRO_MESSAGE_TARGET: target, sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES: nbytes,
                 sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: 0, sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES: nbytes,
                 sc.COMMUNICATION_IS_IN_PROCESS_CALL: in_process, **(attributes or {})}
        self.end_span(self.start_span(f"message {source} -> {target}", attrs, parent, SpanKind.PRODUCER, t), end_ns=t)

    def context_for(self, handle: SpanHandle) -> Any:
        """An OTel context whose current span is ``handle``."""
        return trace.set_span_in_context(NonRecordingSpan(handle.context))

    def flush(self, timeout_s: float = 10.0, error: str | None = None) -> bool:
        """End what is still open (as failed, with ``error`` or a default reason) and post every
        span to the run's sink as one OTLP/HTTP export; True when the sink accepted them.
        A failed export is logged and counted (``exported`` stays 0): the run then shows the
        spans as dropped."""
        with self._lock:
            still_open = sorted(self._open.values(), key=lambda h: -h.start_ns)
        for h in still_open:
            self.end_span(h, error=error or "the remote request ended while the span was open")
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        with self._lock:
            spans, self.spans = self.spans, []
        req_bytes, resp_bytes = TOTALS.request_bytes - self._http0[0], TOTALS.response_bytes - self._http0[1]
        self._http0 = (TOTALS.request_bytes, TOTALS.response_bytes)
        extra = {REMOTE_SPANS_CREATED: self.created, REMOTE_HTTP_REQUEST_BYTES: req_bytes,
                 REMOTE_HTTP_RESPONSE_BYTES: resp_bytes}
        created, self.created = self.created, 0
        resource = self.resource.merge(Resource(extra))
        # Spans carry the resource; the counts ride on it, so even an empty export reports them.
        spans = [_with_resource(s, resource) for s in spans] or [_marker_span(self.root, resource)]
        body = encode_spans(spans).SerializeToString()
        req = urllib.request.Request(self.remote.sink_url, data=body, method="POST",
                                     headers={"Content-Type": "application/x-protobuf"})
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                resp.read()
        except (urllib.error.URLError, OSError) as e:
            log.warning("maestro: span export to %s failed: %s", self.remote.sink_url, e)
            self.lost += created
            return False
        self.exported += sum(1 for s in spans if s.name != _MARKER)
        return True


_MARKER = "maestro.remote.counts"


def _with_resource(span: ReadableSpan, resource: Resource) -> ReadableSpan:
    return ReadableSpan(name=span.name, context=span.context, parent=span.parent, resource=resource,
                        attributes=span.attributes, events=span.events, kind=span.kind,
                        instrumentation_scope=span.instrumentation_scope, status=span.status,
                        start_time=span.start_time, end_time=span.end_time)


def _marker_span(root: SpanHandle, resource: Resource) -> ReadableSpan:
    # An export with no spans still has to carry its counts: a marker the sink does not store.
    return ReadableSpan(name=_MARKER, context=root.context, parent=None, resource=resource, attributes={},
                        kind=SpanKind.INTERNAL, instrumentation_scope=_SCOPE, start_time=root.start_ns,
                        end_time=root.start_ns)


def note_lost(telemetry: RunTelemetry, process: str, n: int) -> None:
    """Count ``n`` spans that ``process`` created for ``telemetry``'s run but could not export
    (it said so in its answer): created, never written, so the run shows them as dropped."""
    if n <= 0:
        return
    with telemetry._open_lock:
        telemetry.stats.spans_created += n
        lost = json.loads(telemetry.root.attributes.get(SPANS_LOST, "{}")) if telemetry.root is not None else {}
        lost[process] = lost.get(process, 0) + n
    telemetry.add_root_attributes({SPANS_LOST: json.dumps(lost, sort_keys=True)})


# --- the sink ---------------------------------------------------------------------------------------


def _any_value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple(_any_value(x) for x in v.array_value.values)
    if kind == "kvlist_value":
        return json.dumps({kv.key: _any_value(kv.value) for kv in v.kvlist_value.values})
    return getattr(v, kind)


def _attributes(kvs: Any) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in kvs}


class SpanSink:
    """OTLP/HTTP receiver for remote spans, one per process (:meth:`shared`), in a daemon
    thread. Runs register (:meth:`register`) and get the URL remote processes post to;
    spans of a run that is not registered here are refused (HTTP 404)."""

    _shared: SpanSink | None = None
    _shared_lock = threading.Lock()

    def __init__(self, host: str = "127.0.0.1", port: int = 0, advertise: str | None = None):
        self._runs: dict[str, tuple[RunTelemetry, dict[str, dict[str, int]]]] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                code = sink._receive(body) if self.path.rstrip("/") == "/v1/traces" else 404
                from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

                out = ExportTraceServiceResponse().SerializeToString() if code == 200 else b""
                self.send_response(code)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{advertise or host}:{self._server.server_address[1]}/v1/traces"
        """What remote processes post to."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="maestro-span-sink", daemon=True)
        self._thread.start()

    @classmethod
    def shared(cls, host: str | None = None, advertise: str | None = None) -> SpanSink:
        """This process's sink (started on first use; a forked child starts its own), on
        ``host`` (default: ``MAESTRO_SPAN_SINK_HOST``, loopback unless set)."""
        with cls._shared_lock:
            s = cls._shared
            if s is None or s._pid != os.getpid():
                s = cls(settings.SPAN_SINK_HOST.get(host), advertise=advertise)
                cls._shared = s
            return s

    def register(self, telemetry: RunTelemetry) -> str:
        """Accept spans of ``telemetry``'s run; returns the sink URL."""
        with self._lock:
            self._runs.setdefault(telemetry.identity.run_id, (telemetry, {}))
            if self._runs[telemetry.identity.run_id][0] is not telemetry:  # the same run id again (a retry)
                self._runs[telemetry.identity.run_id] = (telemetry, {})
        return self.url

    def counts(self, run_id: str) -> dict[str, dict[str, int]]:
        """Per remote process of run ``run_id``: spans ``created`` there and ``received`` here."""
        with self._lock:
            entry = self._runs.get(run_id)
            return {k: dict(v) for k, v in entry[1].items()} if entry else {}

    def close(self) -> None:
        """Stop serving (tests; the shared sink lives as long as its process)."""
        self._server.shutdown()
        self._server.server_close()

    def _receive(self, body: bytes) -> int:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception:  # noqa: BLE001 - a malformed export is refused, never raised
            return 400
        for rs in request.resource_spans:
            rattrs = _attributes(rs.resource.attributes)
            with self._lock:
                entry = self._runs.get(str(rattrs.get(sc.MAESTRO_RUN_ID)))
            if entry is None:
                return 404
            telemetry, counts = entry
            process = str(rattrs.get(REMOTE_PROCESS, "remote"))
            spans = [self._span(s, telemetry, process) for ss in rs.scope_spans for s in ss.spans if s.name != _MARKER]
            created = int(rattrs.get(REMOTE_SPANS_CREATED, len(spans)))
            with TOTALS.lock:  # the remote process's model traffic is the run's too
                TOTALS.request_bytes += int(rattrs.get(REMOTE_HTTP_REQUEST_BYTES, 0))
                TOTALS.response_bytes += int(rattrs.get(REMOTE_HTTP_RESPONSE_BYTES, 0))
            _ingest(telemetry, spans, created)
            with self._lock:
                c = counts.setdefault(process, {"created": 0, "received": 0})
                c["created"] += created
                c["received"] += len(spans)
                summary = json.dumps(counts, sort_keys=True)
            telemetry.add_root_attributes({REMOTE_PROCESSES: summary})
        return 200

    @staticmethod
    def _span(s: Any, telemetry: RunTelemetry, process: str) -> ReadableSpan:
        trace_id = int.from_bytes(s.trace_id, "big")
        parent = SpanContext(trace_id, int.from_bytes(s.parent_span_id, "big"), True, _SAMPLED) \
            if s.parent_span_id else None
        code = {1: StatusCode.OK, 2: StatusCode.ERROR}.get(s.status.code, StatusCode.UNSET)
        return ReadableSpan(
            name=s.name, context=SpanContext(trace_id, int.from_bytes(s.span_id, "big"), False, _SAMPLED),
            parent=parent, resource=telemetry.resource, attributes={**_attributes(s.attributes), REMOTE_PROCESS: process},
            events=[Event(e.name, _attributes(e.attributes), e.time_unix_nano) for e in s.events],
            kind=SpanKind(max(0, s.kind - 1)), instrumentation_scope=_SCOPE,
            status=Status(code, s.status.message or None) if code is StatusCode.ERROR else Status(code),
            start_time=s.start_time_unix_nano, end_time=s.end_time_unix_nano)


def _ingest(telemetry: RunTelemetry, spans: list[ReadableSpan], created: int) -> None:
    """Hand remote spans to the run's processors like local ones; count ``created`` among the
    run's created spans (so spans created remotely but never received show as dropped)."""
    # RunTelemetry's processors and lock are its own; the collector package is the one place
    # that feeds them from outside the fast path.
    with telemetry._open_lock:
        telemetry.stats.spans_created += created
    for span in spans:
        for p in telemetry._processors:
            try:
                p.on_end(span)
            except Exception:  # a broken processor must not break the sink
                log.exception("span processor failed on a remote span")
