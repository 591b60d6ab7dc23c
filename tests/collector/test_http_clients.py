"""Byte accounting through every HTTP client the frameworks use: httpx, aiohttp (google-genai
sends async calls through it when installed) and requests (google-auth). Bytes are compared
with what crossed the wire, measured independently."""

from __future__ import annotations

import asyncio
import json

import pytest

from maestro.collector.http import TOTALS, HttpLedger, bind_ledger, install_http_hooks
from maestro.sim import SimServer, gemini_base_url, openai_base_url


@pytest.fixture(scope="module")
def sim():
    with SimServer(time_factor=0) as server:
        yield server


def _ledger_of(call):
    install_http_hooks()
    ledger = HttpLedger()
    bind_ledger(ledger)
    try:
        result = call()
    finally:
        bind_ledger(None)
    return ledger, result


def _genai_call(sim, seed: int, force_httpx: bool, stream: bool):
    import httpx
    from google import genai
    from google.genai import types

    # a nonce per client: the same seed gives the same reply, counted afresh for each
    base = gemini_base_url(sim.url, "strong", seed, "httpx" if force_httpx else "aiohttp")
    options = types.HttpOptions(base_url=base, httpx_async_client=httpx.AsyncClient() if force_httpx else None)
    client = genai.Client(api_key="sim-key", http_options=options)

    async def go():
        if stream:
            chunks = [c async for c in await client.aio.models.generate_content_stream(
                model="sim-strong", contents="Name one river in Europe.")]
            return "".join(c.text or "" for c in chunks)
        reply = await client.aio.models.generate_content(model="sim-strong", contents="Name one river in Europe.")
        return reply.text

    return asyncio.run(go())


@pytest.mark.parametrize("stream", [pytest.param(False, id="plain"), pytest.param(True, id="stream")])
def test_google_genai_async_bytes_are_the_same_through_aiohttp_and_httpx(sim, stream):
    pytest.importorskip("aiohttp")
    via_aiohttp, text_a = _ledger_of(lambda: _genai_call(sim, 3, force_httpx=False, stream=stream))
    via_httpx, text_h = _ledger_of(lambda: _genai_call(sim, 3, force_httpx=True, stream=stream))
    assert text_a == text_h  # the same request, the same seeded reply
    assert via_aiohttp.attempts == via_httpx.attempts == 1 and via_aiohttp.status_codes == [200]
    assert via_aiohttp.request_bytes == via_httpx.request_bytes > 0
    assert via_aiohttp.response_bytes == via_httpx.response_bytes > 0
    assert via_aiohttp.provider == via_httpx.provider == "maestro.sim"


def test_aiohttp_is_hooked_when_installed():
    pytest.importorskip("aiohttp")
    import aiohttp

    install_http_hooks()
    assert aiohttp.ClientSession._request.__qualname__.startswith("_wrap_aiohttp")


@pytest.mark.parametrize("stream", [pytest.param(False, id="plain"), pytest.param(True, id="stream")])
def test_requests_bytes_equal_the_body_sent_and_received(sim, stream):
    import requests

    body = {"model": "sim-strong", "messages": [{"role": "user", "content": "hello"}]}
    url = openai_base_url(sim.url, "strong", 5) + "/chat/completions"

    def call():
        r = requests.post(url, data=json.dumps(body), headers={"Authorization": "Bearer sim-key"}, stream=stream)
        return r.content

    before = TOTALS.response_bytes
    ledger, content = _ledger_of(call)
    assert ledger.request_bytes == len(json.dumps(body).encode())
    assert ledger.response_bytes == len(content) > 0 and ledger.status_codes == [200]
    assert TOTALS.response_bytes - before == len(content)


def test_a_model_call_without_http_is_flagged_not_zero(make_telemetry):
    from maestro import semconv as sc
    from maestro.adapters._common import ledger_attributes

    attrs = ledger_attributes(HttpLedger())
    assert attrs[sc.MAESTRO_BYTES_OBSERVED] is False
    t = make_telemetry()
    t.start()
    t.end_span(t.start_span("chat m", {sc.MAESTRO_SPAN_TYPE: "llm", **attrs}))
    t.end_span(t.start_span("chat m", {sc.MAESTRO_SPAN_TYPE: "llm", **ledger_attributes(HttpLedger(attempts=1))}))
    stats = t.finish()
    assert stats.llm_calls == 2 and stats.bytes_unobserved_calls == 1
    assert stats.run_columns()["bytes_unobserved_calls"] == 1
