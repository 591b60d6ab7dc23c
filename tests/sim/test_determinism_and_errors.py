"""Seeding, occurrence counters, injected errors and HTTP error handling."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import openai
import pytest

from maestro.sim import SimReply, SimServer, openai_base_url

MSGS = [{"role": "user", "content": "Name the capital of Australia and explain briefly."}]


_BASE: list[openai.OpenAI] = []


def ask(url: str, **kw) -> str | None:
    # One real client, re-pointed per call: building a client per request costs ~40 ms.
    if not _BASE:
        _BASE.append(openai.OpenAI(base_url="http://127.0.0.1:1/v1", api_key="x"))
    c = _BASE[0].with_options(base_url=url, max_retries=kw.pop("max_retries", 0))
    return c.chat.completions.create(model="m", messages=MSGS, **kw).choices[0].message.content


def raw_post(server_url: str, path: str, body: bytes, conn: http.client.HTTPConnection | None = None):
    u = urlsplit(server_url)
    conn = conn or http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp, json.loads(resp.read() or b"null")


def test_same_seed_same_reply_across_nonces_and_servers(oai_url, fresh):
    a = ask(oai_url("strong", 17, fresh()))
    b = ask(oai_url("strong", 17, fresh()))
    assert a == b
    with SimServer(time_factor=0) as other:  # a restarted service gives the same answer
        assert ask(openai_base_url(other.url, "strong", 17, "x")) == a


def test_different_seeds_differ(oai_url, fresh):
    replies = {ask(oai_url("strong", s, fresh())) for s in range(10)}
    assert len(replies) > 1


def test_identical_repeat_gets_fresh_draw(oai_url, fresh):
    url = oai_url("strong", 23, fresh())
    first, second = ask(url), ask(url)
    assert first != second
    # ... and the sequence itself repeats in a new attempt of the run.
    url2 = oai_url("strong", 23, fresh())
    assert [ask(url2), ask(url2)] == [first, second]


def test_profiles_differ_in_verbosity(oai_url, fresh):
    def mean_len(profile: str) -> float:
        lens = [len((ask(oai_url(profile, s, fresh())) or "").split()) for s in range(12)]
        return sum(lens) / len(lens)

    assert mean_len("verbose") > 1.5 * mean_len("strong")


def _scan_flaky(oai_url):
    """A seed whose first request is a 429 and whose retry succeeds (deterministic)."""
    for seed in range(300):
        url = oai_url("flaky", seed, "scan")
        try:
            ask(url)
            continue
        except openai.RateLimitError as exc:
            assert exc.response.headers["Retry-After"] == "0"
            assert exc.response.headers["X-Maestro-Simulated"] == "true"
        except openai.InternalServerError:
            continue
        try:
            return seed, ask(url)
        except (openai.RateLimitError, openai.InternalServerError):
            continue
    raise AssertionError("no seed in range gave 429 then success")


def test_flaky_429_is_deterministic_and_retry_succeeds(sim, oai_url, fresh):
    seed, after_retry = _scan_flaky(oai_url)
    with pytest.raises(openai.RateLimitError):  # same seed, fresh attempt: the 429 repeats
        ask(oai_url("flaky", seed, fresh()))
    before = sim.request_count
    reply = ask(oai_url("flaky", seed, fresh()), max_retries=2)  # the client retries by itself
    assert reply == after_retry
    assert sim.request_count - before == 2


def test_flaky_error_rates_noticeable(oai_url, fresh):
    errs = 0
    for seed in range(60):
        try:
            ask(oai_url("flaky", seed, fresh()))
        except (openai.RateLimitError, openai.InternalServerError):
            errs += 1
    assert 5 <= errs <= 30
    for seed in range(20):  # strong never fails
        ask(oai_url("strong", seed, fresh()))


def test_unknown_profile_404(oai_url):
    with pytest.raises(openai.NotFoundError) as ei:
        ask(oai_url("gpt-imaginary", 1))
    assert "gpt-imaginary" in str(ei.value) and "confabulating" in str(ei.value)


def test_malformed_json_400_and_keep_alive(sim):
    u = urlsplit(sim.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    resp, body = raw_post(sim.url, "/sim/strong/1/v1/chat/completions", b"{not json", conn)
    assert resp.status == 400 and "malformed JSON" in body["error"]["message"]
    assert resp.headers["X-Maestro-Simulated"] == "true"
    # Same connection, next request: the server kept it alive and in sync.
    resp, body = raw_post(sim.url, "/sim/strong/1/v1/chat/completions", json.dumps({"model": "m", "messages": MSGS}).encode(), conn)
    assert resp.status == 200 and body["object"] == "chat.completion"
    resp, body = raw_post(sim.url, "/sim/strong/1/v1beta/models/g:generateContent", b"[1,", conn)
    assert resp.status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    resp, body = raw_post(sim.url, "/sim/strong/1/v1/chat/completions", json.dumps({"model": "m"}).encode(), conn)
    assert resp.status == 400 and "messages" in body["error"]["message"]
    resp, body = raw_post(sim.url, "/sim/strong/notaseed/v1/chat/completions", json.dumps({"model": "m", "messages": MSGS}).encode(), conn)
    assert resp.status == 400 and "runkey" in body["error"]["message"]
    conn.close()


def test_policy_exception_is_500_naming_policy(oai_url, fresh, policies):
    class Broken:
        name = "broken-test"

        def matches(self, req):
            return "explode" in req.last_user

        def respond(self, req, ctx):
            raise ZeroDivisionError("boom")

    policies(Broken())
    c = openai.OpenAI(base_url=oai_url("strong", 1, fresh()), api_key="x", max_retries=0)
    with pytest.raises(openai.InternalServerError) as ei:
        c.chat.completions.create(model="m", messages=[{"role": "user", "content": "please explode"}])
    assert "broken-test" in str(ei.value)
    assert ask(oai_url("strong", 1, fresh()))  # still serving


def test_policy_sees_profile_context(oai_url, fresh, policies):
    seen = {}

    class Spy:
        name = "spy-test"

        def matches(self, req):
            return req.last_user == "spy"

        def respond(self, req, ctx):
            seen.update(profile=ctx.profile_name, accuracy=ctx.accuracy, verbosity=ctx.verbosity, protocol=req.protocol)
            return SimReply(text=f"draw {ctx.rng.random():.6f}")

    policies(Spy())
    c = openai.OpenAI(base_url=oai_url("abstaining", 1, fresh()), api_key="x")
    r = c.chat.completions.create(model="m", messages=[{"role": "user", "content": "spy"}], n=2)
    assert seen == {"profile": "abstaining", "accuracy": 0.85, "verbosity": 0.8, "protocol": "openai"}
    assert r.choices[0].message.content != r.choices[1].message.content
    assert r.system_fingerprint == "maestro-sim/abstaining/spy-test"


def test_time_factor_sleeps(fresh):
    import time

    with SimServer(time_factor=0.05) as slow:
        t0 = time.perf_counter()
        ask(openai_base_url(slow.url, "verbose", 1, fresh()))  # ttft 0.8 s * 0.05 = 40 ms at least
        assert time.perf_counter() - t0 >= 0.03


def test_raw_sse_framing_and_keep_alive(sim):
    u = urlsplit(sim.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    body = json.dumps({"model": "m", "messages": MSGS, "stream": True, "stream_options": {"include_usage": True}}).encode()
    for _ in range(2):  # twice on one connection: the chunked stream ends cleanly
        conn.request("POST", "/sim/oracle/5/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.headers["Transfer-Encoding"] == "chunked"
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        events = [e for e in resp.read().decode().split("\r\n\r\n") if e]
        assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
        assert json.loads(events[-2][6:])["usage"]["completion_tokens"] > 0
    conn.close()
