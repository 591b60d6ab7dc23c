"""OTLP trace payloads (protobuf or JSON) -> plain span records.

Both encodings of ``ExportTraceServiceRequest`` are read: the protobuf body an OTLP/HTTP
exporter posts, and OTLP JSON (the body of ``application/json`` posts and the files the
OTel Collector's file exporter writes, one request per line). OTLP JSON differs from
protobuf's own JSON mapping: trace and span ids are hex, not base64, and enums may be
integers; both spellings of field names (``traceId``/``trace_id``) are accepted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OtlpSpan", "OtlpError", "decode_protobuf", "decode_json", "read_json_file"]

_KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
_STATUS = ("UNSET", "OK", "ERROR")


class OtlpError(ValueError):
    """A payload that is not an OTLP trace export request; the message says why."""


@dataclass
class OtlpSpan:
    """One received span, as plain values."""

    trace_id: str
    """32 hex digits."""
    span_id: str
    """16 hex digits."""
    parent_span_id: str | None
    name: str
    kind: str
    """``INTERNAL``, ``SERVER``, ``CLIENT``, ``PRODUCER``, ``CONSUMER``."""
    start_ns: int
    end_ns: int
    status_code: str = "UNSET"
    status_message: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    """``{name, time_ns, attributes}`` per event."""
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str = ""
    """Instrumentation scope name (e.g. ``openinference.instrumentation.langchain``)."""


# -- protobuf ------------------------------------------------------------------------------

def _pb_value(v: Any) -> Any:
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_pb_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _pb_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, which)


def _pb_attrs(kvs: Iterable[Any]) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in kvs}


def decode_protobuf(body: bytes) -> list[OtlpSpan]:
    """Spans of a protobuf ``ExportTraceServiceRequest``."""
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    try:
        req = ExportTraceServiceRequest.FromString(body)
    except DecodeError as e:
        raise OtlpError(f"not an OTLP protobuf trace request: {e}") from None
    out: list[OtlpSpan] = []
    for rs in req.resource_spans:
        resource = _pb_attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append(OtlpSpan(
                    trace_id=s.trace_id.hex(), span_id=s.span_id.hex(),
                    parent_span_id=s.parent_span_id.hex() or None, name=s.name,
                    kind=_KINDS[s.kind] if 0 <= s.kind < len(_KINDS) else "INTERNAL",
                    start_ns=s.start_time_unix_nano, end_ns=s.end_time_unix_nano,
                    status_code=_STATUS[s.status.code] if 0 <= s.status.code < len(_STATUS) else "UNSET",
                    status_message=s.status.message or None, attributes=_pb_attrs(s.attributes),
                    events=[{"name": e.name, "time_ns": e.time_unix_nano, "attributes": _pb_attrs(e.attributes)}
                            for e in s.events],
                    resource=resource, scope=ss.scope.name))
    return out


# -- JSON ----------------------------------------------------------------------------------

def _get(d: dict[str, Any], camel: str, default: Any = None) -> Any:
    if camel in d:
        return d[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return d.get(snake, default)


def _json_value(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    for key, conv in (("stringValue", str), ("boolValue", bool), ("intValue", int), ("doubleValue", float)):
        raw = _get(v, key)
        if raw is not None:
            return conv(raw)
    arr = _get(v, "arrayValue")
    if arr is not None:
        return [_json_value(x) for x in (arr.get("values") or [])]
    kv = _get(v, "kvlistValue")
    if kv is not None:
        return _json_attrs(kv.get("values") or [])
    raw = _get(v, "bytesValue")
    return raw


def _json_attrs(kvs: Iterable[dict[str, Any]] | None) -> dict[str, Any]:
    return {kv["key"]: _json_value(kv.get("value")) for kv in (kvs or []) if "key" in kv}


def _hex_id(raw: Any, n: int, what: str) -> str | None:
    if raw in (None, ""):
        return None
    text = str(raw).lower()
    if len(text) != n or any(c not in "0123456789abcdef" for c in text):
        try:  # protobuf's JSON mapping writes bytes as base64; accept it too
            text = base64.b64decode(str(raw), validate=True).hex()
        except ValueError:
            raise OtlpError(f"{what} {raw!r} is neither {n} hex digits nor base64") from None
        if len(text) != n:
            raise OtlpError(f"{what} {raw!r} does not hold {n // 2} bytes")
    return None if text == "0" * n else text


def _enum(raw: Any, names: tuple[str, ...], prefix: str) -> str:
    if isinstance(raw, int):
        return names[raw] if 0 <= raw < len(names) else names[0]
    text = str(raw or "").upper().removeprefix(prefix)
    return text if text in names else names[0]


def decode_json(payload: Any) -> list[OtlpSpan]:
    """Spans of an OTLP JSON ``ExportTraceServiceRequest`` (parsed or as text/bytes)."""
    if isinstance(payload, (bytes, str)):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as e:
            raise OtlpError(f"not JSON: {e}") from None
    if not isinstance(payload, dict) or _get(payload, "resourceSpans") is None:
        raise OtlpError("not an OTLP JSON trace request: no 'resourceSpans'")
    out: list[OtlpSpan] = []
    for rs in _get(payload, "resourceSpans") or []:
        resource = _json_attrs((_get(rs, "resource") or {}).get("attributes"))
        for ss in _get(rs, "scopeSpans") or _get(rs, "instrumentationLibrarySpans") or []:
            scope = (_get(ss, "scope") or _get(ss, "instrumentationLibrary") or {}).get("name") or ""
            for s in ss.get("spans") or []:
                trace_id = _hex_id(_get(s, "traceId"), 32, "traceId")
                span_id = _hex_id(_get(s, "spanId"), 16, "spanId")
                if trace_id is None or span_id is None:
                    raise OtlpError(f"span {s.get('name')!r} has no traceId/spanId")
                status = s.get("status") or {}
                kind = _enum(s.get("kind", 1), _KINDS, "SPAN_KIND_")
                out.append(OtlpSpan(
                    trace_id=trace_id, span_id=span_id,
                    parent_span_id=_hex_id(_get(s, "parentSpanId"), 16, "parentSpanId"), name=s.get("name") or "",
                    kind="INTERNAL" if kind == "UNSPECIFIED" else kind,
                    start_ns=int(_get(s, "startTimeUnixNano") or 0), end_ns=int(_get(s, "endTimeUnixNano") or 0),
                    status_code=_enum(status.get("code", 0), _STATUS, "STATUS_CODE_"),
                    status_message=status.get("message") or None, attributes=_json_attrs(s.get("attributes")),
                    events=[{"name": e.get("name") or "", "time_ns": int(_get(e, "timeUnixNano") or 0),
                             "attributes": _json_attrs(e.get("attributes"))} for e in s.get("events") or []],
                    resource=resource, scope=scope))
    return out


def _json_documents(text: str) -> Iterator[Any]:
    """One JSON document, or one per line (the Collector's file exporter writes JSON lines)."""
    try:
        yield json.loads(text)
        return
    except json.JSONDecodeError:
        pass
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                raise OtlpError(f"line {n}: not JSON: {e}") from None


def read_json_file(path: str) -> list[OtlpSpan]:
    """Spans of an OTLP JSON file: one request, a list of requests, or one request per line."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    spans: list[OtlpSpan] = []
    try:
        for doc in _json_documents(text):
            for req in doc if isinstance(doc, list) else [doc]:
                spans.extend(decode_json(req))
    except OtlpError as e:
        raise OtlpError(f"{path}: {e}") from None
    return spans
