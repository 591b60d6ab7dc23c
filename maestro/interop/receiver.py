"""``maestro ingest``: an OTLP/HTTP trace receiver on loopback that writes a study.

``POST /v1/traces`` takes protobuf (``application/x-protobuf``) or OTLP JSON
(``application/json``), gzip-compressed or not, and answers as the OTLP/HTTP spec says
(200 with an ``ExportTraceServiceResponse`` in the request's encoding; 400 for a body that
is not a trace request, 415 for another content type), so any OTel SDK exporter, the OTel
Collector's ``otlphttp`` exporter, or Phoenix-style clients can send to it.

Spans are held per run (trace id, or the ``group_by`` attribute) until the run is complete:
its root span has arrived (or, when grouping by attribute, any span) and nothing of it came
for ``idle_s`` seconds. Then it goes to the receiver's sink (for ``maestro ingest``, the
study writer ``maestro.runner.importer.StudyWriter``) and is forgotten. Spans that arrive for a run already written are counted as late (not
written): raise ``idle_s`` for exporters that batch slowly. ``close()`` writes what is held.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from maestro.interop.mapping import ImportOptions, key_of, run_id_for
from maestro.interop.otlp import OtlpError, OtlpSpan, decode_json, decode_protobuf

__all__ = ["Receiver", "RunSink", "serve", "DEFAULT_PORT", "DEFAULT_IDLE_S"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 4318
"""The OTLP/HTTP port."""
DEFAULT_IDLE_S = 2.0
"""Seconds without a span of a run (whose root has arrived) before it is written."""
ORPHAN_IDLE_S = 30.0
"""Seconds without a span before a run whose root never arrived is written anyway."""
MAX_BODY_BYTES = 64 * 1024 * 1024
"""Largest request body accepted (the Collector's default limit is far below)."""


class RunSink(Protocol):
    """Where complete runs go (``maestro.runner.importer.StudyWriter``)."""

    options: ImportOptions
    written: list[str]

    def open(self) -> Any: ...

    def write_group(self, key: str, spans: list[OtlpSpan]) -> str: ...

    def close(self) -> None: ...


@dataclass
class _Pending:
    spans: list[OtlpSpan] = field(default_factory=list)
    last_ns: int = 0
    rooted: bool = False


class Receiver:
    """An OTLP/HTTP receiver handing complete runs to ``sink``.

    Args:
        sink: where runs go; its ``options`` say how spans become runs (grouping).
        host / port: where to listen (loopback by default; port 0 picks a free one).
        idle_s: quiet time after which a run whose root has arrived is written.
        on_run: called with each written run id (e.g. to print it).
    """

    def __init__(self, sink: RunSink, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 idle_s: float = DEFAULT_IDLE_S, on_run: Callable[[str], None] | None = None):
        self.options = sink.options
        self.writer = sink
        self.idle_s = idle_s
        self.on_run = on_run
        self._pending: dict[str, _Pending] = {}
        self._trace_key: dict[str, str] = {}
        self._done: set[str] = set()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.spans_received = 0
        self.late_spans = 0
        """Spans that arrived for a run already written (not written)."""
        self.requests = 0
        self.bad_requests = 0
        self.last_span_at = 0.0
        """``time.monotonic()`` of the latest span received (0 before the first)."""
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.host = host
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """The traces URL (``http://127.0.0.1:PORT/v1/traces``)."""
        return f"http://{self.host}:{self.port}/v1/traces"

    @property
    def runs_written(self) -> list[str]:
        """Run ids written so far, in order."""
        return list(self.writer.written)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Receiver:
        """Open the study and serve on background threads."""
        self.writer.open()
        for target in (self._server.serve_forever, self._sweep):
            t = threading.Thread(target=target, daemon=True, name=f"maestro-ingest:{self.port}")
            t.start()
            self._threads.append(t)
        return self

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening, write every run still held, fold the run index."""
        self._stop.set()
        if self._threads:  # shutdown() waits for serve_forever: only when it runs
            self._server.shutdown()
        self._server.server_close()
        if not self._threads:
            return
        self.flush(force=True)
        self.writer.close()

    # -- spans in ---------------------------------------------------------------------------
    def add(self, spans: list[OtlpSpan]) -> None:
        """Take received spans (what a request carried)."""
        now = time.monotonic_ns()
        group_by = self.options.group_by
        with self._lock:
            self.spans_received += len(spans)
            self.last_span_at = time.monotonic()
            for s in spans:
                key = self._trace_key.get(s.trace_id, s.trace_id)
                if group_by is not None:
                    value = key_of(s, group_by)
                    if value is not None and key == s.trace_id:
                        key = self._rekey(s.trace_id, str(value))
                if key in self._done:
                    self.late_spans += 1
                    continue
                p = self._pending.setdefault(key, _Pending())
                p.spans.append(s)
                p.last_ns = now
                p.rooted = p.rooted or s.parent_span_id is None or group_by is not None

    def _rekey(self, trace_id: str, key: str) -> str:
        """Trace ``trace_id`` turns out to belong to run ``key``: move what it holds."""
        self._trace_key[trace_id] = key
        held = self._pending.pop(trace_id, None)
        if held is not None:
            p = self._pending.setdefault(key, _Pending())
            p.spans.extend(held.spans)
            p.last_ns = max(p.last_ns, held.last_ns)
            p.rooted = p.rooted or held.rooted
        return key

    def flush(self, force: bool = False) -> list[str]:
        """Write the runs that are complete (all held runs with ``force``); returns their ids."""
        now = time.monotonic_ns()
        with self._lock:
            ready = [k for k, p in self._pending.items()
                     if force or (now - p.last_ns) / 1e9 >= (self.idle_s if p.rooted else max(self.idle_s, ORPHAN_IDLE_S))]
            batches = [(k, self._pending.pop(k).spans) for k in ready]
            self._done.update(ready)
        out = []
        with self._write_lock:
            for key, spans in batches:
                try:
                    run_id = self.writer.write_group(key, spans)
                except Exception:  # noqa: BLE001 - one bad run must not stop the receiver
                    log.exception("maestro ingest: could not write run %s", run_id_for(key))
                    continue
                out.append(run_id)
                if self.on_run is not None:
                    self.on_run(run_id)
        return out

    def _sweep(self) -> None:
        while not self._stop.wait(min(0.25, self.idle_s / 2 or 0.25)):
            self.flush()

    # -- HTTP -------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, code: int, message: str, as_json: bool) -> None:
                receiver.bad_requests += 1
                if as_json:
                    self._reply(code, json.dumps({"code": 3, "message": message}).encode(), "application/json")
                else:  # OTLP/HTTP: a google.rpc.Status in the request's encoding
                    from google.rpc import status_pb2  # type: ignore[import-untyped]

                    self._reply(code, status_pb2.Status(code=3, message=message).SerializeToString(),
                                "application/x-protobuf")

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                as_json = ctype == "application/json"
                length = int(self.headers.get("Content-Length") or 0)
                if self.path.rstrip("/") != "/v1/traces":
                    self.rfile.read(length)
                    return self._error(404, f"no such path {self.path!r}; send traces to /v1/traces", as_json)
                if length > MAX_BODY_BYTES:
                    return self._error(413, f"body of {length} bytes is over {MAX_BODY_BYTES}", as_json)
                body = self.rfile.read(length)
                receiver.requests += 1
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                try:
                    if encoding == "gzip":
                        body = gzip.decompress(body)
                    elif encoding == "deflate":
                        body = zlib.decompress(body)
                    if as_json:
                        spans = decode_json(body)
                    elif ctype in ("application/x-protobuf", "application/protobuf"):
                        spans = decode_protobuf(body)
                    else:
                        return self._error(415, f"unsupported content type {ctype!r}; send application/x-protobuf "
                                                "or application/json", False)
                except (OtlpError, OSError, zlib.error, EOFError) as e:
                    return self._error(400, str(e), as_json)
                receiver.add(spans)
                if as_json:
                    self._reply(200, b"{}", "application/json")
                else:
                    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

                    self._reply(200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("maestro ingest: " + format, *args)

        return Handler


def serve(receiver: Receiver, until_idle_s: float | None = None, poll_s: float = 0.2) -> None:
    """Run ``receiver`` until interrupted (Ctrl-C, SIGTERM), or, with ``until_idle_s``,
    until that many seconds passed without a span after the first one arrived. Closes it
    (writing every run still held)."""
    import signal

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    receiver.start()
    try:
        while not stop.wait(poll_s):
            if until_idle_s is not None and receiver.last_span_at and \
                    time.monotonic() - receiver.last_span_at >= until_idle_s:
                break
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        receiver.close()
