"""RunTelemetry: span tree, flat columns, run totals, no silent loss, open spans at timeout."""

from __future__ import annotations

import json
import threading

import pyarrow.parquet as pq
from opentelemetry.trace import StatusCode

from maestro import semconv as sc


def _spans(layout, run_id="run-1"):
    return pq.read_table(layout.spans_file(run_id)).to_pylist()


def test_span_tree_columns_and_totals(make_telemetry, layout):
    t = make_telemetry().start()
    agent = t.start_span("invoke_agent planner", {sc.MAESTRO_SPAN_TYPE: "agent", sc.GEN_AI_AGENT_NAME: "planner",
                                                  sc.GEN_AI_OPERATION_NAME: "invoke_agent"})
    llm = t.start_span("chat m", {sc.MAESTRO_SPAN_TYPE: "llm", sc.GEN_AI_OPERATION_NAME: "chat",
                                  sc.GEN_AI_REQUEST_MODEL: "m"}, agent)
    t.end_span(llm, {sc.GEN_AI_USAGE_INPUT_TOKENS: 11, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 4,
                     sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES: 100, sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: 250,
                     "custom.flag": True})
    t.record_message("planner", "executor", 42, parent=agent)
    t.end_span(agent)
    stats = t.finish("success")
    rows = {r["name"]: r for r in _spans(layout)}
    root = rows["invoke_workflow toy"]
    assert root["parent_span_id"] is None and root["span_type"] == "run" and root["status_code"] == "OK"
    assert rows["invoke_agent planner"]["parent_span_id"] == root["span_id"]
    assert rows["chat m"]["parent_span_id"] == rows["invoke_agent planner"]["span_id"]
    assert {r["trace_id"] for r in rows.values()} == {root["trace_id"]}
    chat = rows["chat m"]
    assert (chat["input_tokens"], chat["output_tokens"], chat["input_bytes"], chat["output_bytes"]) == (11, 4, 100, 250)
    assert json.loads(chat["attributes_json"]) == {"custom.flag": True}
    msg = rows["message planner -> executor"]
    assert (msg["message_source"], msg["message_target"], msg["total_bytes"], msg["span_type"]) == ("planner", "executor", 42, "message")
    assert all(r["run_id"] == "run-1" and r["seed"] == 7 and r["backend"] == "sim/strong" for r in rows.values())
    assert (stats.llm_calls, stats.agent_turns, stats.messages, stats.input_tokens, stats.output_tokens) == (1, 1, 1, 11, 4)
    assert stats.spans_created == stats.spans_written == 4 and stats.spans_dropped == 0
    assert json.loads(root["attributes_json"])[sc.GEN_AI_LLM_CALL_COUNT] == 1


def test_sdk_spans_share_the_run_trace(make_telemetry, layout):
    t = make_telemetry().start()
    agent = t.start_span("invoke_agent a", {sc.MAESTRO_SPAN_TYPE: "agent"})
    with t.tracer.start_as_current_span("native child", context=t.context_for(agent)):
        pass
    t.end_span(agent)
    stats = t.finish()
    rows = {r["name"]: r for r in _spans(layout)}
    assert rows["native child"]["parent_span_id"] == rows["invoke_agent a"]["span_id"]
    assert rows["native child"]["trace_id"] == rows["invoke_agent a"]["trace_id"]
    assert rows["native child"]["span_type"] == "other"
    assert stats.spans_created == stats.spans_written == 3


def test_fifty_thousand_spans_none_lost(make_telemetry, layout):
    t = make_telemetry().start()
    parent = t.start_span("invoke_agent big", {sc.MAESTRO_SPAN_TYPE: "agent"})
    for i in range(45_000):
        h = t.start_span("execute_tool t", {sc.MAESTRO_SPAN_TYPE: "tool", sc.GEN_AI_TOOL_NAME: "t",
                                            sc.GEN_AI_TOOL_CALL_ID: str(i)}, parent)
        t.end_span(h)
    ctx = t.context_for(parent)
    for _ in range(4_998):
        t.tracer.start_span("sdk span", context=ctx).end()
    t.end_span(parent)
    stats = t.finish()
    meta = pq.read_metadata(layout.spans_file("run-1"))
    assert stats.spans_created == 50_000
    assert stats.spans_written == meta.num_rows == 50_000
    assert stats.spans_dropped == 0
    assert meta.num_row_groups > 1  # written in chunks, not held in memory


def test_spans_ending_after_finish_are_counted_as_dropped(make_telemetry):
    t = make_telemetry().start()
    late = t.tracer.start_span("late", context=t.context_for(t.root))
    stats = t.finish("timeout", "timeout: run exceeded 1 s")
    late.end()  # already closed by finish(); a second end is ignored by the SDK
    assert stats.spans_dropped == 0 and stats.spans_written == 2
    t2 = make_telemetry("run-2").start()
    stats2 = t2.finish()
    orphan = t2.start_span("after", {})
    t2.end_span(orphan)
    assert t2.stats.spans_created == stats2.spans_written + 1  # created after finish: not written


def test_timeout_finish_from_watchdog_thread_closes_open_spans(make_telemetry, layout):
    t = make_telemetry().start()
    agent = t.start_span("invoke_agent slow", {sc.MAESTRO_SPAN_TYPE: "agent"})
    t.start_span("chat m", {sc.MAESTRO_SPAN_TYPE: "llm"}, agent)
    th = threading.Thread(target=t.finish, args=("timeout", "timeout: run exceeded 1 s"))
    th.start()
    th.join()
    rows = {r["name"]: r for r in _spans(layout)}
    assert set(rows) == {"invoke_workflow toy", "invoke_agent slow", "chat m"}
    assert rows["chat m"]["status_code"] == StatusCode.ERROR.name
    assert "timeout" in rows["chat m"]["status_description"]
    root_attrs = json.loads(rows["invoke_workflow toy"]["attributes_json"])
    assert root_attrs[sc.MAESTRO_RUN_STATUS] == "timeout" and root_attrs[sc.RUN_OUTCOME] == "failure"


def test_content_dropped_unless_captured(make_telemetry, layout, monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-9f8e7d6c5b4a")
    for capture, run_id in ((False, "off"), (True, "on")):
        t = make_telemetry(run_id, capture_content=capture).start()
        h = t.start_span("chat m", {sc.MAESTRO_SPAN_TYPE: "llm"})
        t.end_span(h, {sc.GEN_AI_INPUT_MESSAGES: "use tok-9f8e7d6c5b4a and Authorization: Bearer abcdef123456",
                       "message": "autogen payload"})
        t.finish()
    off = {r["name"]: r for r in _spans(layout, "off")}["chat m"]
    on = {r["name"]: r for r in _spans(layout, "on")}["chat m"]
    assert off["attributes_json"] is None
    attrs = json.loads(on["attributes_json"])
    assert "tok-9f8e7d6c5b4a" not in on["attributes_json"] and "abcdef123456" not in on["attributes_json"]
    assert attrs[sc.GEN_AI_INPUT_MESSAGES].startswith("use [REDACTED]")
    assert attrs["message"] == "autogen payload"


def test_resource_samples_written_on_span_clock(make_telemetry, layout):
    import time

    t = make_telemetry(sample_resources=True, sample_interval_s=0.02).start()
    t0 = time.time_ns()
    sum(i * i for i in range(300_000))
    time.sleep(0.1)
    stats = t.finish()
    res = pq.read_table(layout.resources_file("run-1")).to_pylist()
    assert len(res) >= 3 and stats.resources["resource_samples"] == len(res)
    assert all(t0 - 1e9 < r["time_ns"] < time.time_ns() for r in res)
    assert stats.resources["rss_peak_bytes"] >= stats.resources["rss_min_bytes"] > 10_000_000
    assert stats.resources["cpu_peak"] > 0


def test_otlp_export_alongside_parquet(make_telemetry, monkeypatch):
    """Spans reach a real OTLP/HTTP endpoint (a local receiver) as well as parquet."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            req = ExportTraceServiceRequest.FromString(body)
            received.extend(s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"http://127.0.0.1:{srv.server_port}/v1/traces")
    t = make_telemetry().start()
    h = t.start_span("chat m", {sc.MAESTRO_SPAN_TYPE: "llm", sc.GEN_AI_INPUT_MESSAGES: "secret prompt"})
    t.end_span(h)
    stats = t.finish()
    srv.shutdown()
    assert sorted(s.name for s in received) == ["chat m", "invoke_workflow toy"]
    assert all(a.key != sc.GEN_AI_INPUT_MESSAGES for s in received for a in s.attributes)
    assert stats.spans_dropped == 0
