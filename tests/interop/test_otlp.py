"""OTLP protobuf and JSON payloads -> span records (both encodings of the same spans agree)."""

from __future__ import annotations

import base64
import json

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from maestro.interop import OtlpError, decode_json, decode_protobuf, read_json_file

TID, ROOT, CHILD = 0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, 0x00F067AA0BA902B7


def sdk_spans() -> list[ReadableSpan]:
    res = Resource({"service.name": "shop", "maestro.run.id": "r1"})
    scope = InstrumentationScope("openinference.instrumentation.langchain")
    flags = TraceFlags(TraceFlags.SAMPLED)
    root = SpanContext(TID, ROOT, False, flags)
    return [
        ReadableSpan("graph", root, None, res, {"openinference.span.kind": "CHAIN", "n": 3, "f": 0.5, "ok": True,
                                                "tags": ("a", "b")},
                     kind=SpanKind.SERVER, start_time=1_000, end_time=9_000, instrumentation_scope=scope),
        ReadableSpan("ChatOpenAI", SpanContext(TID, CHILD, False, flags), root, res,
                     {"llm.token_count.prompt": 12}, [Event("exception", {"exception.type": "E"}, 5_000)],
                     kind=SpanKind.CLIENT, status=Status(StatusCode.ERROR, "boom"), start_time=2_000, end_time=8_000,
                     instrumentation_scope=scope),
    ]


def as_otlp_json() -> dict:
    """The same spans as an OTLP JSON request (hex ids, int64 as strings, enum names and ints)."""
    def kv(k, v):
        return {"key": k, "value": v}

    return {"resourceSpans": [{
        "resource": {"attributes": [kv("service.name", {"stringValue": "shop"}), kv("maestro.run.id", {"stringValue": "r1"})]},
        "scopeSpans": [{"scope": {"name": "openinference.instrumentation.langchain"}, "spans": [
            {"traceId": f"{TID:032x}", "spanId": f"{ROOT:016x}", "name": "graph", "kind": "SPAN_KIND_SERVER",
             "startTimeUnixNano": "1000", "endTimeUnixNano": "9000",
             "attributes": [kv("openinference.span.kind", {"stringValue": "CHAIN"}), kv("n", {"intValue": "3"}),
                            kv("f", {"doubleValue": 0.5}), kv("ok", {"boolValue": True}),
                            kv("tags", {"arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}})]},
            # snake_case keys, base64 ids (protobuf's own JSON mapping) and an int enum are read too
            {"trace_id": base64.b64encode(TID.to_bytes(16, "big")).decode(),
             "span_id": base64.b64encode(CHILD.to_bytes(8, "big")).decode(), "parent_span_id": f"{ROOT:016x}",
             "name": "ChatOpenAI", "kind": 3, "start_time_unix_nano": 2000, "end_time_unix_nano": 8000,
             "status": {"code": 2, "message": "boom"}, "attributes": [kv("llm.token_count.prompt", {"intValue": 12})],
             "events": [{"name": "exception", "timeUnixNano": "5000",
                         "attributes": [kv("exception.type", {"stringValue": "E"})]}]},
        ]}],
    }]}


def _plain(spans):
    return [(s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.start_ns, s.end_ns, s.status_code,
             s.status_message, s.attributes, s.events, s.resource, s.scope) for s in spans]


def test_protobuf_and_json_decode_alike():
    from_pb = decode_protobuf(encode_spans(sdk_spans()).SerializeToString())
    from_json = decode_json(json.dumps(as_otlp_json()))
    assert _plain(from_pb) == _plain(from_json)
    root, child = from_pb
    assert root.span_id == f"{ROOT:016x}" and root.parent_span_id is None and root.kind == "SERVER"
    assert root.attributes == {"openinference.span.kind": "CHAIN", "n": 3, "f": 0.5, "ok": True, "tags": ["a", "b"]}
    assert child.parent_span_id == f"{ROOT:016x}" and child.kind == "CLIENT"
    assert (child.status_code, child.status_message) == ("ERROR", "boom")
    assert child.events == [{"name": "exception", "time_ns": 5000, "attributes": {"exception.type": "E"}}]
    assert root.resource == {"service.name": "shop", "maestro.run.id": "r1"}


def test_json_files_one_request_a_list_or_lines(tmp_path):
    req = as_otlp_json()
    one, many, lines = tmp_path / "one.json", tmp_path / "list.json", tmp_path / "lines.jsonl"
    one.write_text(json.dumps(req))
    many.write_text(json.dumps([req, req]))
    lines.write_text(json.dumps(req) + "\n\n" + json.dumps(req) + "\n")
    assert len(read_json_file(str(one))) == 2
    assert len(read_json_file(str(many))) == len(read_json_file(str(lines))) == 4


@pytest.mark.parametrize("payload, message", [
    pytest.param(b"\xff\x00not json", "not JSON", id="garbage"),
    pytest.param(json.dumps({"spans": []}), "no 'resourceSpans'", id="not-a-trace-request"),
    pytest.param(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x", "traceId": "zz",
                                                                             "spanId": "00f067aa0ba902b7"}]}]}]}),
                 "traceId 'zz'", id="bad-id"),
])
def test_bad_json_is_named(payload, message):
    with pytest.raises(OtlpError, match=message):
        decode_json(payload)


def test_bad_protobuf_is_named():
    with pytest.raises(OtlpError, match="not an OTLP protobuf"):
        decode_protobuf(b"\xff\xff\xff")


def test_bad_json_line_names_file_and_line(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text(json.dumps(as_otlp_json()) + "\n{oops\n")
    with pytest.raises(OtlpError, match=r"x\.jsonl: line 2: not JSON"):
        read_json_file(str(f))
