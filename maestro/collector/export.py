"""Span exporters: the unified-schema parquet exporter and the content policy (the OTLP
exporter, which applies the same policy, is ``maestro.collector.otlp``).

The exporter implements OpenTelemetry's ``SpanExporter`` contract: ``export`` receives finished
``ReadableSpan`` objects and returns a result, it never raises into the caller, and
``shutdown`` finishes the output. Schema fields become flat columns; every other
attribute goes into one JSON column.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from maestro import semconv as sc
from maestro.store.layout import StreamingParquetWriter, file_metadata
from maestro.store.schema import SPAN_COLUMNS

__all__ = ["RunIdentity", "ContentPolicy", "ParquetSpanExporter", "span_to_row"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunIdentity:
    """Who a run is: written on every span (resource) and every row."""

    study_id: str
    """Study id."""
    run_id: str
    """Run id."""
    instance: str = "custom"
    """MAS instance name."""
    framework: str = "custom"
    """Framework of the instance."""
    backend: str = ""
    """Backend spec (``sim/strong``)."""
    tools_enabled: bool | None = None
    """Whether external tools were on; None when unknown (``trace_run`` without ``tools_enabled``)."""
    repeat: int = 0
    """Repeat index."""
    seed: int = 0
    """Run seed."""
    task_id: str = ""
    """Task id."""
    simulated: bool = False
    """True when the backend is simulated."""

    def resource_attributes(self) -> dict[str, Any]:
        """OTel resource attributes (an unknown tool setting is left out: OTel has no null)."""
        attrs = {
            sc.MAESTRO_STUDY_ID: self.study_id,
            sc.MAESTRO_RUN_ID: self.run_id,
            sc.MAESTRO_INSTANCE: self.instance,
            sc.MAESTRO_FRAMEWORK: self.framework,
            sc.MAESTRO_BACKEND: self.backend,
            sc.MAESTRO_BACKEND_SIMULATED: self.simulated,
            sc.MAESTRO_TOOLS_ENABLED: self.tools_enabled,
            sc.MAESTRO_REPEAT: self.repeat,
            sc.MAESTRO_SEED: self.seed,
            sc.MAESTRO_TASK_ID: self.task_id,
        }
        return {k: v for k, v in attrs.items() if v is not None}

    def columns(self) -> dict[str, Any]:
        return {
            "study_id": self.study_id, "run_id": self.run_id, "instance": self.instance,
            "framework": self.framework, "backend": self.backend, "tools_enabled": self.tools_enabled,
            "repeat": self.repeat, "seed": self.seed, "task_id": self.task_id,
        }


# Framework attributes that carry whole payloads: dropped unless content capture is on.
_PAYLOAD_ATTRIBUTES = frozenset(
    {
        sc.GCP_VERTEX_AGENT_LLM_REQUEST,
        sc.GCP_VERTEX_AGENT_LLM_RESPONSE,
        sc.GCP_VERTEX_AGENT_TOOL_CALL_ARGS,
        sc.GCP_VERTEX_AGENT_TOOL_RESPONSE,
        "message",  # autogen-core process/publish spans
        "input.value",
        "output.value",
        "llm.input_messages",
        "llm.output_messages",
    }
)


@dataclass(frozen=True)
class ContentPolicy:
    """What may be written of message content."""

    capture: bool
    """True when the study opted in to prompts, responses and tool arguments."""
    redact: Callable[[str | None], str | None]
    """Secret redaction, applied to content and to every error text."""

    def attributes(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Attributes allowed out: payloads dropped (capture off) or redacted (capture on)."""
        if not self.capture:
            if any(k in sc.CONTENT_ATTRIBUTES or k in _PAYLOAD_ATTRIBUTES for k in attrs):
                return {k: v for k, v in attrs.items() if k not in sc.CONTENT_ATTRIBUTES and k not in _PAYLOAD_ATTRIBUTES}
            return attrs
        return {k: (self.redact(v) if isinstance(v, str) else v) for k, v in attrs.items()}


# Attribute -> flat column. Popped from the attribute dict; the rest goes to attributes_json.
_FLAT = (
    (sc.MAESTRO_SPAN_TYPE, "span_type"),
    (sc.GEN_AI_OPERATION_NAME, "operation"),
    (sc.GEN_AI_AGENT_NAME, "agent_name"),
    (sc.GEN_AI_PROVIDER_NAME, "provider"),
    (sc.GEN_AI_REQUEST_MODEL, "request_model"),
    (sc.GEN_AI_RESPONSE_MODEL, "response_model"),
    (sc.GEN_AI_USAGE_INPUT_TOKENS, "input_tokens"),
    (sc.GEN_AI_USAGE_OUTPUT_TOKENS, "output_tokens"),
    (sc.GEN_AI_USAGE_TOTAL_TOKENS, "total_tokens"),
    (sc.MAESTRO_USAGE_ESTIMATED, "usage_estimated"),
    (sc.GEN_AI_TOOL_NAME, "tool_name"),
    (sc.GEN_AI_TOOL_CALL_ID, "tool_call_id"),
    (sc.GEN_AI_TOOL_TYPE, "tool_type"),
    (sc.MAESTRO_MESSAGE_SOURCE, "message_source"),
    (sc.MAESTRO_MESSAGE_TARGET, "message_target"),
    (sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES, "input_bytes"),
    (sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES, "output_bytes"),
    (sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES, "total_bytes"),
    (sc.COMMUNICATION_IS_IN_PROCESS_CALL, "is_in_process_call"),
    (sc.MAESTRO_HTTP_ATTEMPTS, "http_attempts"),
    (sc.AGENT_RETRY_ATTEMPT_NUMBER, "retry_attempt"),
    (sc.AGENT_RETRY_TRIGGER, "retry_trigger"),
    (sc.AGENT_RETRY_PREVIOUS_SPAN_ID, "retry_previous_span_id"),
    (sc.AGENT_FAILURE_CATEGORY, "failure_category"),
    (sc.AGENT_FAILURE_REASON, "failure_reason"),
)


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def span_to_row(span: ReadableSpan, content: ContentPolicy) -> dict[str, Any]:
    """One span as a row of the unified schema (run identity columns excluded)."""
    ctx = span.context
    attrs = dict(span.attributes or {})
    attrs = content.attributes(attrs)
    row: dict[str, Any] = {
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent is not None else None,
        "name": span.name,
        "kind": span.kind.name,
        "start_time_ns": span.start_time,
        "end_time_ns": span.end_time,
        "duration_ns": (span.end_time - span.start_time) if span.end_time and span.start_time else None,
        "status_code": span.status.status_code.name,
        "status_description": content.redact(span.status.description),
    }
    for key, col in _FLAT:
        if key in attrs:
            value = attrs.pop(key)
            if isinstance(value, (list, tuple)):  # e.g. finish reasons: keep JSON in a string column
                value = json.dumps(list(value))
            row[col] = value
    if row.get("span_type") is None:
        row["span_type"] = sc.OPERATION_SPAN_TYPES.get(row.get("operation") or "", sc.SpanType.OTHER.value)
    if row.get("agent_name") is None and sc.GEN_AI_SYSTEM in attrs and row.get("provider") is None:
        row["provider"] = attrs[sc.GEN_AI_SYSTEM]
    row["attributes_json"] = json.dumps(attrs, default=_json_default, separators=(",", ":")) if attrs else None
    if span.events:
        row["events_json"] = json.dumps(
            [
                {
                    "name": e.name,
                    "time_ns": e.timestamp,
                    "attributes": {
                        k: (content.redact(v) if isinstance(v, str) else v) for k, v in (e.attributes or {}).items()
                    },
                }
                for e in span.events
            ],
            default=_json_default,
            separators=(",", ":"),
        )
    return row


_ROW_COLUMNS = [c.name for c in SPAN_COLUMNS]


class ParquetSpanExporter(SpanExporter):
    """Writes spans of one run to ``spans/<run_id>.parquet`` in the unified schema.

    Spans are buffered and written as a row group every ``chunk_rows`` spans, so a run of
    tens of thousands of spans stays in bounded memory. The file appears (atomically)
    only on ``shutdown``; until then it is a ``.tmp`` file.
    """

    def __init__(self, path, identity: RunIdentity, content: ContentPolicy, chunk_rows: int = 5000):
        self.identity = identity
        self.content = content
        self.chunk_rows = chunk_rows
        self._writer = StreamingParquetWriter(path, SPAN_COLUMNS, file_metadata("spans", {"run_id": identity.run_id}))
        self._rows: list[dict[str, Any]] = []
        self.exported = 0
        """Spans handed to the file writer (buffered in its temporary file)."""
        self.written = 0
        """Spans durably in ``spans/<run_id>.parquet``: set when the file was closed, synced
        and renamed into place; 0 until then, and if that failed."""
        self.failed = 0
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._closed:
            return SpanExportResult.FAILURE
        try:
            for span in spans:
                self._rows.append(span_to_row(span, self.content))
            if len(self._rows) >= self.chunk_rows:
                self._flush_rows()
            return SpanExportResult.SUCCESS
        except Exception:
            self.failed += len(spans)
            log.exception("parquet span export failed")
            return SpanExportResult.FAILURE

    def _flush_rows(self) -> None:
        if not self._rows:
            return
        n = len(self._rows)
        ident = self.identity.columns()
        data = {name: [r.get(name) for r in self._rows] for name in _ROW_COLUMNS if name not in ident}
        for name, value in ident.items():
            data[name] = [value] * n
        self._writer.write_columns(data)
        self.exported += n
        self._rows = []

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        try:
            self._flush_rows()
            return True
        except Exception:
            log.exception("parquet span flush failed")
            return False

    def shutdown(self) -> None:
        """Write what is buffered, close, sync and rename the file; then count it written.
        Raises the OSError of a failed write (the caller records it in the run)."""
        if self._closed:
            return
        self._closed = True
        self._flush_rows()
        self._writer.close()
        self.written = self.exported
