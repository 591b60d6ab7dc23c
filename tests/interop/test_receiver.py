"""The OTLP/HTTP receiver of ``maestro ingest`` over real HTTP on loopback, and the
``maestro ingest`` / ``maestro import`` commands."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

import maestro
from maestro.cli import main
from maestro.interop import ImportOptions
from maestro.runner.importer import open_receiver

from .test_otlp import TID, as_otlp_json, sdk_spans


def _post(url: str, body: bytes, ctype: str, encoding: str | None = None) -> tuple[int, bytes, str]:
    headers = {"Content-Type": ctype, **({"Content-Encoding": encoding} if encoding else {})}
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read(), r.headers["Content-Type"]
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers["Content-Type"]


@pytest.fixture
def receiver(tmp_path):
    r = open_receiver(str(tmp_path / "got"), ImportOptions(), port=0, idle_s=0.3)
    with r:
        yield r


def _wait_for(cond, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_protobuf_request_is_answered_and_the_run_written_when_quiet(receiver, tmp_path):
    code, body, ctype = _post(receiver.url, encode_spans(sdk_spans()).SerializeToString(), "application/x-protobuf")
    assert code == 200 and ctype == "application/x-protobuf"
    assert ExportTraceServiceResponse.FromString(body) == ExportTraceServiceResponse()
    _wait_for(lambda: receiver.runs_written == ["r1"])  # the run id travels in maestro.run.id
    # a late span of a written run is counted, not written
    _post(receiver.url, encode_spans(sdk_spans()[1:]).SerializeToString(), "application/x-protobuf")
    assert receiver.late_spans == 1 and receiver.spans_received == 3
    receiver.writer.close()  # fold the index so the study reads now
    study = maestro.load_study(tmp_path / "got")
    assert list(study.runs.run_id) == ["r1"] and study.runs.iloc[0].status == "success"  # the root did not fail
    assert (study.spans.status_code == "ERROR").sum() == 1
    assert study.spans.trace_id.unique().tolist() == [f"{TID:032x}"]


def test_gzip_json_request(receiver):
    code, body, ctype = _post(receiver.url, gzip.compress(json.dumps(as_otlp_json()).encode()), "application/json",
                              "gzip")
    assert (code, body, ctype) == (200, b"{}", "application/json")
    assert receiver.spans_received == 2


@pytest.mark.parametrize("path, body, ctype, code", [
    pytest.param("/v1/traces", b"{oops", "application/json", 400, id="bad-json"),
    pytest.param("/v1/traces", b"\xff\xff\xff", "application/x-protobuf", 400, id="bad-protobuf"),
    pytest.param("/v1/traces", b"x", "text/plain", 415, id="content-type"),
    pytest.param("/v1/metrics", b"{}", "application/json", 404, id="path"),
])
def test_bad_requests_are_refused_with_a_reason(receiver, path, body, ctype, code):
    got, reply, reply_type = _post(receiver.url.replace("/v1/traces", path), body, ctype)
    assert got == code and receiver.spans_received == 0
    message = json.loads(reply)["message"] if reply_type == "application/json" \
        else status_pb2.Status.FromString(reply).message
    assert message


def test_close_writes_what_is_held(tmp_path):
    r = open_receiver(str(tmp_path / "held"), ImportOptions(), port=0, idle_s=3600)
    with r:
        _post(r.url, json.dumps(as_otlp_json()).encode(), "application/json")
        assert r.runs_written == []
    assert r.runs_written == ["r1"]
    assert len(maestro.load_study(tmp_path / "held").spans) == 2  # no agents: no hand-overs to derive


def test_import_command(tmp_path, capsys):
    f = tmp_path / "spans.json"
    f.write_text(json.dumps(as_otlp_json()))
    assert main(["import", str(f), "--study", str(tmp_path / "imp"), "--backend", "openai/gpt-4o",
                 "--instance", "shop"]) == 0
    assert "1 run(s) written" in capsys.readouterr().out
    runs = maestro.load_study(tmp_path / "imp").runs
    assert (runs.run_id.tolist(), runs.backend.tolist(), runs.instance.tolist()) == (["r1"], ["openai/gpt-4o"], ["shop"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"spans": []}')
    assert main(["import", str(bad), "--study", str(tmp_path / "imp2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.json" in err and "resourceSpans" in err


def test_ingest_command_until_idle(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "maestro.cli", "ingest", "--study", str(tmp_path / "ing"),
                             "--port", "0", "--idle-s", "0.2", "--until-idle", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1/traces")
        code, _, _ = _post(url, encode_spans(sdk_spans()).SerializeToString(), "application/x-protobuf")
        assert code == 200
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "run r1 written" in out and "2 span(s) received, 1 run(s) written" in out
    assert maestro.load_study(tmp_path / "ing").runs.run_id.tolist() == ["r1"]
