"""OTLP export (``maestro.collector.otlp``): peer attributes, the resource, and a peer that is
down or hangs never failing or holding a run (bounded flush, counted in the run record)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pyarrow.parquet as pq
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import maestro
from maestro import semconv as sc
from maestro.collector.export import RunIdentity
from maestro.collector.otlp import peer_attributes, traces_url
from maestro.collector.telemetry import run_resource
from maestro.runner.config import ConfigError, study_config_from_dict

IDENT = RunIdentity(study_id="s1", run_id="r1", instance="toy", framework="langgraph", backend="sim/strong",
                    repeat=3, seed=7, task_id="t9", simulated=True)


@pytest.fixture
def no_otel_env(monkeypatch):
    for k in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SERVICE_NAME",
              "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"):
        monkeypatch.delenv(k, raising=False)


class _Collect(BaseHTTPRequestHandler):
    spans: list = []
    hang_s = 0.0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.hang_s:
            time.sleep(self.hang_s)
        req = ExportTraceServiceRequest.FromString(body)
        self.spans.extend((rs.resource, s) for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def collector():
    handler = type("Handler", (_Collect,), {"spans": [], "hang_s": 0.0})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("attrs, root, expected", [
    pytest.param({sc.MAESTRO_SPAN_TYPE: "llm", sc.GEN_AI_REQUEST_MODEL: "m", sc.GEN_AI_PROVIDER_NAME: "p",
                  sc.GEN_AI_USAGE_INPUT_TOKENS: 5, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 2, sc.GEN_AI_USAGE_TOTAL_TOKENS: 7},
                 False, {sc.OPENINFERENCE_SPAN_KIND: "LLM", sc.LLM_MODEL_NAME: "m", sc.LLM_PROVIDER: "p",
                         sc.LLM_TOKEN_COUNT_PROMPT: 5, sc.LLM_TOKEN_COUNT_COMPLETION: 2, sc.LLM_TOKEN_COUNT_TOTAL: 7},
                 id="llm"),
    pytest.param({sc.MAESTRO_SPAN_TYPE: "tool", sc.GEN_AI_TOOL_NAME: "search"}, False,
                 {sc.OPENINFERENCE_SPAN_KIND: "TOOL", sc.TOOL_NAME: "search"}, id="tool"),
    pytest.param({sc.MAESTRO_SPAN_TYPE: "agent", sc.GEN_AI_AGENT_NAME: "a"}, False,
                 {sc.OPENINFERENCE_SPAN_KIND: "AGENT", sc.AGENT_NAME: "a"}, id="agent"),
    pytest.param({sc.MAESTRO_SPAN_TYPE: "message"}, False, {sc.OPENINFERENCE_SPAN_KIND: "CHAIN"}, id="message"),
    pytest.param({sc.GEN_AI_OPERATION_NAME: "embeddings"}, False, {sc.OPENINFERENCE_SPAN_KIND: "EMBEDDING"},
                 id="framework-embeddings-by-operation"),
    pytest.param({sc.OPENINFERENCE_SPAN_KIND: "RETRIEVER"}, False, {}, id="existing-kind-kept"),
    pytest.param({sc.MAESTRO_SPAN_TYPE: "run"}, True, {sc.OPENINFERENCE_SPAN_KIND: "CHAIN",
                                                       **IDENT.resource_attributes()}, id="root-identity"),
])
def test_peer_attributes(attrs, root, expected):
    assert peer_attributes(attrs, root, IDENT) == expected


def test_traces_url():
    assert traces_url("http://h:4318") == "http://h:4318/v1/traces"
    assert traces_url("http://h:6006/") == "http://h:6006/v1/traces"
    assert traces_url("https://h/x/v1/traces") == "https://h/x/v1/traces"
    with pytest.raises(ValueError, match="http"):
        traces_url("h:4318")


def test_resource_honours_otel_env_but_never_over_identity(no_otel_env, monkeypatch):
    r = run_resource(IDENT).attributes
    assert r[sc.SERVICE_NAME] == "maestro.toy" and r[sc.OPENINFERENCE_PROJECT_NAME] == "s1"
    assert r[sc.TELEMETRY_SDK_NAME] == "opentelemetry" and r[sc.MAESTRO_RUN_ID] == "r1"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "shop")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "openinference.project.name=p2,maestro.run.id=spoof,k=v")
    r = run_resource(IDENT).attributes
    assert r[sc.SERVICE_NAME] == "shop" and r[sc.OPENINFERENCE_PROJECT_NAME] == "p2" and r["k"] == "v"
    assert r[sc.MAESTRO_RUN_ID] == "r1"  # the identity is maestro's to say


def _run(tmp_path, **kwargs):
    t0 = time.perf_counter()
    with maestro.trace_run("s1", "r1", out=str(tmp_path), instance="toy", sample_resources=False, **kwargs) as run:
        for i in range(20):
            h = run.start_span(f"chat m{i}", {sc.MAESTRO_SPAN_TYPE: "llm", sc.GEN_AI_USAGE_INPUT_TOKENS: 3,
                                              sc.GEN_AI_INPUT_MESSAGES: "secret prompt"})
            run.end_span(h)
        run.set_answer("ok")
    elapsed = time.perf_counter() - t0
    return maestro.load_study(tmp_path / "s1").runs.iloc[0], elapsed


def test_trace_run_option_exports_and_counts_nothing_failed(tmp_path, no_otel_env, collector):
    handler, url = collector
    row, _ = _run(tmp_path, otlp_endpoint=url)
    assert row.status == "success" and row.clean and row.spans_dropped == 0
    assert row.spans_export_failed == 0 and len(handler.spans) == row.spans_created == 21
    assert not any(a.key == sc.GEN_AI_INPUT_MESSAGES for _, s in handler.spans for a in s.attributes)
    root = next(s for _, s in handler.spans if not s.parent_span_id)
    assert {a.key: a.value.string_value for a in root.attributes}[sc.MAESTRO_RUN_ID] == "r1"


def test_otlp_off_leaves_the_column_null(tmp_path, no_otel_env):
    row, _ = _run(tmp_path)
    assert pd.isna(row.spans_export_failed)
    assert pq.read_table(tmp_path / "s1" / "runs.parquet").column("spans_export_failed").null_count == 1


def test_a_dead_endpoint_never_fails_the_run_and_is_counted(tmp_path, no_otel_env, monkeypatch):
    monkeypatch.setenv("MAESTRO_OTLP_FLUSH_S", "0.5")
    row, elapsed = _run(tmp_path, otlp_endpoint=f"http://127.0.0.1:{_closed_port()}")
    assert row.status == "success" and row.clean and row.spans_dropped == 0 and row.spans_written == 21
    assert row.spans_export_failed == 21
    assert elapsed < 3.0 and row.working_s < 0.5  # the flush waited at most ~0.5 s, after the work


def test_a_hanging_endpoint_is_cut_at_the_flush_budget(tmp_path, no_otel_env, monkeypatch, collector):
    handler, url = collector
    handler.hang_s = 5.0
    monkeypatch.setenv("MAESTRO_OTLP_FLUSH_S", "0.5")
    row, elapsed = _run(tmp_path, otlp_endpoint=url)
    assert row.status == "success" and row.clean
    assert row.spans_export_failed == 21 and elapsed < 3.0 and row.total_s < 3.0


def test_study_option_is_checked_and_reaches_the_workers_env():
    base = {"id": "s", "instances": ["crag"], "backends": ["sim/strong"]}
    config = study_config_from_dict({**base, "otlp_endpoint": "http://127.0.0.1:6006"})
    assert config.otlp_env() == {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:6006/v1/traces"}
    assert study_config_from_dict(base).otlp_env() == {}
    assert "otlp_endpoint" not in config.comparable_settings()
    with pytest.raises(ConfigError, match="otlp_endpoint"):
        study_config_from_dict({**base, "otlp_endpoint": "127.0.0.1:6006"})
