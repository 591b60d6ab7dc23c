"""Shared fixtures: a run telemetry writing into a temporary study folder, and S3-compatible
object storage on loopback."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pyarrow.fs as pafs
import pytest

# --import-mode=importlib does not put test folders on sys.path: make the shared helper
# modules in this folder (trace_helpers) importable from every test file.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunTelemetry
from maestro.store.layout import StudyLayout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """A real S3 API on loopback (moto's server mode): its endpoint URL."""
    moto_server = pytest.importorskip("moto.server")

    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """Credentials and ``MAESTRO_S3_ENDPOINT`` for the loopback S3, and a new bucket:
    ``(filesystem, bucket)``."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("MAESTRO_S3_ENDPOINT", s3_endpoint)
    fs = pafs.S3FileSystem(endpoint_override=s3_endpoint.split("//")[1], scheme="http", access_key="testing",
                           secret_key="testing", region="us-east-1", allow_bucket_creation=True)
    bucket = f"maestro-{_free_port()}"
    fs.create_dir(bucket)
    return fs, bucket


@pytest.fixture
def layout(tmp_path) -> StudyLayout:
    return StudyLayout.for_study(tmp_path, "study-t").create()


@pytest.fixture
def make_telemetry(layout):
    made = []

    def make(run_id: str = "run-1", **kwargs) -> RunTelemetry:
        kwargs.setdefault("sample_resources", False)
        ident = RunIdentity(study_id=layout.study_id, run_id=run_id, instance="toy", framework="langgraph",
                            backend="sim/strong", seed=7, task_id="t1", simulated=True)
        t = RunTelemetry(ident, layout.spans_file(run_id), layout.resources_file(run_id), **kwargs)
        made.append(t)
        return t

    yield make
    for t in made:
        t.finish()


# The whole suite loads native libraries that run threads of their own (Ray's and gRPC's
# clients, Playwright's driver, pyarrow's S3 client, DuckDB). One of them crashed once in
# interpreter teardown, after every test had passed and the summary was printed (a fresh
# clone's CI: "1836 passed ... Segmentation fault"), which would turn a green run red. So
# the session ends with its own exit status, without tearing those libraries down.
_EXIT_STATUS: list[int] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _EXIT_STATUS and config.pluginmanager.hasplugin("terminalreporter"):
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
