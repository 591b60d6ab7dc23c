"""The request log (``--log-requests``) and errors shaped for the caller's protocol."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import openai
import pytest
from google import genai
from google.genai import errors, types

from maestro.sim import SimServer, gemini_base_url, openai_base_url
from maestro.sim.server import guess_protocol

SECRET = "sk-simlogtest-Zq8v2Lr5Wm3Kp9"


def _post(server_url: str, path: str, body: dict | bytes, headers: dict | None = None):
    u = urlsplit(server_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read() or b"null")
    conn.close()
    return out


def test_request_log_records_requests_replies_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMLOG_TEST_API_KEY", SECRET)  # the redactor removes secret env values
    log = tmp_path / "sub" / "requests.jsonl"
    with SimServer(time_factor=0, request_log=log) as sim:
        c = openai.OpenAI(base_url=openai_base_url(sim.url, "strong", 3, "a"), api_key="x", max_retries=0)
        tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]
        c.chat.completions.create(
            model="m",
            messages=[{"role": "system", "content": "You are the planner."}, {"role": "user", "content": f"Plan Oslo. key={SECRET}", "name": "user"}],
            tools=tools,
        )
        g = genai.Client(api_key="x", http_options=types.HttpOptions(base_url=gemini_base_url(sim.url, "oracle", 4)))
        g.models.generate_content(model="gemini-x", contents="Hi there", config=types.GenerateContentConfig(system_instruction="Be brief."))
        with pytest.raises(openai.NotFoundError):
            openai.OpenAI(base_url=sim.url + "/v1", api_key="x", max_retries=0).chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r["kind"] for r in lines] == ["request", "request", "error"]
    first, second, err = lines
    assert first["protocol"] == "openai" and first["profile"] == "strong" and first["runkey"] == "3.a" and first["policy"] == "fallback"
    assert first["request"]["messages"][0] == {"role": "system", "content": "You are the planner."}
    assert first["request"]["messages"][1]["name"] == "user" and SECRET not in log.read_text() and "[REDACTED]" in log.read_text()
    assert first["request"]["tools"][0]["name"] == "lookup"
    assert "choices" in first["reply"] and first["usage"]["prompt_tokens"] > 0
    assert second["protocol"] == "gemini" and second["request"]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert second["reply"]["choices"][0]["text"]
    assert err["status"] == 404 and err["path"] == "/v1/chat/completions" and "/sim/" in err["message"]


def test_injected_errors_are_logged_once(tmp_path, fresh):
    log = tmp_path / "flaky.jsonl"
    with SimServer(time_factor=0, request_log=log) as sim:
        c = openai.OpenAI(base_url=openai_base_url(sim.url, "flaky", 1, fresh()), api_key="x", max_retries=0)
        n_err = 0
        for i in range(40):
            try:
                c.chat.completions.create(model="m", messages=[{"role": "user", "content": f"question {i}"}])
            except (openai.RateLimitError, openai.InternalServerError):
                n_err += 1
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(lines) == 40 and n_err > 0
    assert sum("error" in r["reply"] for r in lines) == n_err


def test_cli_log_requests(tmp_path):
    log = tmp_path / "cli.jsonl"
    p = subprocess.Popen(
        [sys.executable, "-m", "maestro.sim", "serve", "--time-factor", "0", "--log-requests", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(p.stdout.readline())
        status, body = _post(info["url"], "/sim/strong/1/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hello"}]})
        assert status == 200
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    (rec,) = [json.loads(x) for x in log.read_text().splitlines()]
    assert rec["request"]["messages"] == [{"role": "user", "content": "hello"}]
    assert rec["reply"]["choices"][0]["text"] == body["choices"][0]["message"]["content"]


# --- errors in the caller's protocol -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/v1beta/models/gemini-2.5-flash:generateContent", {}, "gemini"),
        ("/v1/v1beta/models/g:streamGenerateContent", {}, "gemini"),
        ("/sim/strong/1/v1beta/models/g:generateContent", {}, "gemini"),
        ("/v1beta1/projects/p/locations/l/publishers/google/models/g:predict", {}, "gemini"),
        ("/v1/chat/completions", {}, "openai"),
        ("/sim/strong/1/v1/chat/completions", {}, "openai"),
        ("/sim/strong/1/v1/models/gpt-4o", {}, "openai"),
        ("/elsewhere", {"x-goog-api-key": "k"}, "gemini"),
        ("/elsewhere", {}, "openai"),
    ],
)
def test_guess_protocol(path, headers, expected):
    assert guess_protocol(path, headers) == expected


def test_gemini_client_on_a_wrong_base_url_gets_google_error_shape(sim):
    # GOOGLE_GEMINI_BASE_URL set to the bare server (no /sim/{profile}/{seed}).
    c = genai.Client(api_key="x", http_options=types.HttpOptions(base_url=sim.url))
    with pytest.raises(errors.ClientError) as ei:
        c.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert ei.value.code == 404 and ei.value.status == "NOT_FOUND"
    assert "GOOGLE_GEMINI_BASE_URL" in ei.value.message and f"{sim.url}/sim/" in ei.value.message
    status, body = _post(sim.url, "/v1beta/models/g:generateContent", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    assert status == 404 and set(body["error"]) == {"code", "message", "status"} and body["error"]["status"] == "NOT_FOUND"


def test_gemini_errors_keep_google_shape(sim):
    bad_profile = _post(sim.url, "/sim/nope/1/v1beta/models/g:generateContent", {"contents": "hi"})
    bad_runkey = _post(sim.url, "/sim/strong/x.y.z/v1beta/models/g:generateContent", {"contents": "hi"})
    bad_body = _post(sim.url, "/sim/strong/1/v1beta/models/g:generateContent", b"{oops")
    bad_method = _post(sim.url, "/sim/strong/1/v1beta/models/g:frobnicate", {"contents": "hi"})
    by_header = _post(sim.url, "/nowhere", {}, {"x-goog-api-key": "k"})
    for (status, body), want in zip((bad_profile, bad_runkey, bad_body, bad_method, by_header), (404, 400, 400, 404, 404)):
        assert status == want and set(body["error"]) == {"code", "message", "status"} and body["error"]["code"] == want


def test_openai_client_on_a_wrong_base_url_gets_openai_error_shape(sim):
    c = openai.OpenAI(base_url=sim.url + "/v1", api_key="x", max_retries=0)  # OPENAI_BASE_URL without /sim/...
    with pytest.raises(openai.NotFoundError) as ei:
        c.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    err = ei.value.body
    assert set(err) >= {"message", "type", "code"} and "OPENAI_BASE_URL" in err["message"] and f"{sim.url}/sim/strong/1/v1" in err["message"]


def test_docs_simulator_example_runs(tmp_path, monkeypatch, capsys, no_policy_leak):
    """The policy example of docs/simulator.md, verbatim."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text()
    (code,) = re.findall(r"<!-- example: simulator-policy -->\n```python\n(.*?)```\n<!-- /example -->", doc, re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/simulator.md", "exec"), {"__name__": "docs_example"})
    out = capsys.readouterr().out
    assert out.rstrip().endswith("| maestro-sim/strong/my-team.reviewer")
    assert json.loads((tmp_path / "sim-requests.jsonl").read_text().splitlines()[0])["policy"] == "my-team.reviewer"


@pytest.fixture
def no_policy_leak():
    from maestro.sim import registered_policies

    before = [p.name for p in registered_policies()]
    yield
    assert [p.name for p in registered_policies()] == before
