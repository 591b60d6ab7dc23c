"""OTLP export of a run's spans to peers (an OTel Collector, Phoenix, Jaeger, Langfuse...).

On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set, or
when a study (``otlp_endpoint``) or ``trace_run(otlp_endpoint=...)`` names an endpoint. The
standard OTel variables apply as the SDK reads them (``OTEL_EXPORTER_OTLP_*HEADERS``,
``*_COMPRESSION``, ``*_CERTIFICATE``); the resource comes from ``Resource.create``, so
``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` override maestro's defaults (never the
run identity).

What peers get beyond the parquet copy (added here, at export: the parquet files are not
changed):

* the run identity (study, run, instance, framework, backend, repeat, seed, task) as
  attributes of the run root span, so a peer's UI can filter traces by them;
* ``openinference.span.kind`` on every span (``CHAIN`` for the run root and message
  records, ``AGENT``, ``LLM``, ``TOOL``), and OpenInference's model, token and tool names
  next to ``gen_ai.*``, so Phoenix shows the tree typed with token counts.

Export never slows or fails a run: spans go through a background batch processor; at the
end of the run (after its measured work) the flush waits at most ``MAESTRO_OTLP_FLUSH_S``
and what was not delivered by then is counted (``spans_export_failed`` in the run record).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from maestro import semconv as sc
from maestro import settings
from maestro.collector.export import ContentPolicy, RunIdentity

__all__ = ["otlp_configured", "traces_url", "peer_attributes", "PeerSpanExporter", "OtlpExport", "DEFAULT_OTLP_QUEUE"]

log = logging.getLogger(__name__)

DEFAULT_OTLP_QUEUE = 65536
"""OTLP batch queue size unless OTEL_BSP_MAX_QUEUE_SIZE says otherwise (SDK default: 2048)."""

TRACES_PATH = "v1/traces"


def otlp_configured() -> bool:
    """Whether the standard variables ask for OTLP export."""
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def traces_url(endpoint: str) -> str:
    """The traces URL for an endpoint given the way ``OTEL_EXPORTER_OTLP_ENDPOINT`` is
    (``http://host:4318`` -> ``http://host:4318/v1/traces``); a URL that already ends in
    ``/v1/traces`` is kept."""
    endpoint = endpoint.strip()
    if not endpoint.startswith(("http://", "https://")):
        raise ValueError(f"OTLP endpoint {endpoint!r}: expected an http:// or https:// URL")
    return endpoint if endpoint.rstrip("/").endswith(TRACES_PATH) else f"{endpoint.rstrip('/')}/{TRACES_PATH}"


def _span_type(attrs: dict[str, Any]) -> str:
    kind = attrs.get(sc.MAESTRO_SPAN_TYPE)
    if kind:
        return str(kind)
    return sc.OPERATION_SPAN_TYPES.get(str(attrs.get(sc.GEN_AI_OPERATION_NAME) or ""), sc.SpanType.OTHER.value)


def peer_attributes(attrs: dict[str, Any], is_root: bool, identity: RunIdentity | None) -> dict[str, Any]:
    """What an exported span carries for peers on top of ``attrs``: the OpenInference kind
    (an existing one is kept), OpenInference model/token/tool names, and on the root the run
    identity."""
    out: dict[str, Any] = {}
    span_type = _span_type(attrs)
    if sc.OPENINFERENCE_SPAN_KIND not in attrs:
        kind = sc.OPENINFERENCE_SPAN_KINDS.get(span_type, "CHAIN")
        if span_type == sc.SpanType.LLM.value and attrs.get(sc.GEN_AI_OPERATION_NAME) == sc.Operation.EMBEDDINGS.value:
            kind = "EMBEDDING"
        out[sc.OPENINFERENCE_SPAN_KIND] = kind
    if span_type == sc.SpanType.LLM.value:
        for src, dst in ((sc.GEN_AI_REQUEST_MODEL, sc.LLM_MODEL_NAME), (sc.GEN_AI_PROVIDER_NAME, sc.LLM_PROVIDER),
                         (sc.GEN_AI_USAGE_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_PROMPT),
                         (sc.GEN_AI_USAGE_OUTPUT_TOKENS, sc.LLM_TOKEN_COUNT_COMPLETION),
                         (sc.GEN_AI_USAGE_TOTAL_TOKENS, sc.LLM_TOKEN_COUNT_TOTAL)):
            if attrs.get(src) is not None and dst not in attrs:
                out[dst] = attrs[src]
    elif span_type == sc.SpanType.TOOL.value and attrs.get(sc.GEN_AI_TOOL_NAME) and sc.TOOL_NAME not in attrs:
        out[sc.TOOL_NAME] = attrs[sc.GEN_AI_TOOL_NAME]
    elif span_type == sc.SpanType.AGENT.value and attrs.get(sc.GEN_AI_AGENT_NAME) and sc.AGENT_NAME not in attrs:
        out[sc.AGENT_NAME] = attrs[sc.GEN_AI_AGENT_NAME]
    if is_root and identity is not None:
        out.update(identity.resource_attributes())
    return out


class PeerSpanExporter(SpanExporter):
    """Content policy and peer attributes on each span, then the wrapped exporter (OTLP);
    counts the spans the wrapped exporter accepted and those it did not."""

    def __init__(self, inner: SpanExporter, content: ContentPolicy, identity: RunIdentity | None = None):
        self.inner = inner
        self.content = content
        self.identity = identity
        self.exported = 0
        """Spans the endpoint accepted."""
        self.failed = 0
        """Spans whose export failed (endpoint down, refused, timed out)."""

    def _for_peer(self, span: ReadableSpan) -> ReadableSpan:
        attrs = self.content.attributes(dict(span.attributes or {}))
        attrs.update(peer_attributes(attrs, span.parent is None, self.identity))
        return ReadableSpan(
            name=span.name, context=span.context, parent=span.parent, resource=span.resource,
            attributes=attrs, events=span.events, links=span.links, kind=span.kind,
            status=span.status, start_time=span.start_time, end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export([self._for_peer(s) for s in spans])
        except Exception:  # noqa: BLE001 - a peer's failure must never reach the run
            log.exception("OTLP span export failed")
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self.exported += len(spans)
        else:
            self.failed += len(spans)
        return result

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.inner.shutdown()


class OtlpExport:
    """One run's OTLP side channel: a background batch processor over OTLP/HTTP.

    Args:
        content: the run's content policy (payloads dropped or redacted as in parquet).
        identity: the run identity written on the root span.
        endpoint: base or traces URL; None: the standard variables decide.
        flush_s: the most the end-of-run flush waits (default ``MAESTRO_OTLP_FLUSH_S``);
            it also caps each HTTP export's timeout, so a dead endpoint cannot hold the run.
    """

    def __init__(self, content: ContentPolicy, identity: RunIdentity | None = None, endpoint: str | None = None,
                 flush_s: float | None = None, exporter: SpanExporter | None = None):
        self.flush_s = settings.OTLP_FLUSH_S.get(flush_s)
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            env_timeout = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") or os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT")
            timeout = min(float(env_timeout), self.flush_s) if env_timeout else self.flush_s
            exporter = OTLPSpanExporter(endpoint=traces_url(endpoint) if endpoint else None, timeout=timeout)
        self.exporter = PeerSpanExporter(exporter, content, identity)
        queue = int(os.environ.get("OTEL_BSP_MAX_QUEUE_SIZE") or DEFAULT_OTLP_QUEUE)
        self.processor = BatchSpanProcessor(self.exporter, max_queue_size=queue)

    @property
    def exported(self) -> int:
        """Spans the endpoint accepted so far."""
        return self.exporter.exported

    def shutdown(self) -> None:
        """Flush what is queued, waiting at most ``flush_s``; then stop."""
        # BatchSpanProcessor.shutdown() takes no timeout (it would wait up to 30 s); the
        # batch processor inside it does: join the worker for at most flush_s, then stop.
        inner = getattr(self.processor, "_batch_processor", None)
        if inner is not None and hasattr(inner, "shutdown"):
            inner.shutdown(timeout_millis=int(self.flush_s * 1000))
        else:  # pragma: no cover - another SDK layout: its own bounded shutdown
            self.processor.shutdown()
