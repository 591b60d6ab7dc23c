"""HTTP byte accounting equals the body bytes the server saw, for httpx and httpx2, sync,
async and streamed responses."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from maestro.collector.http import TOTALS, HttpLedger, bind_ledger, install_http_hooks


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.seen.append(len(body))
        chunks = [json.dumps({"i": i, "pad": "x" * (10 * i)}).encode() + b"\n" for i in range(5)]
        self.server.sent.append(sum(len(c) for c in chunks))
        self.send_response(200)
        self.send_header("content-type", "application/x-ndjson")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for c in chunks:
            self.wfile.write(f"{len(c):x}\r\n".encode() + c + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    srv.seen, srv.sent = [], []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()


@pytest.mark.parametrize("module", ["httpx", "httpx2"])
def test_sync_and_async_bytes_match_server(server, module):
    mod = pytest.importorskip(module)
    install_http_hooks()
    url = f"http://127.0.0.1:{server.server_port}/x"
    payload = {"prompt": "hello " * 50}
    ledger = HttpLedger()
    bind_ledger(ledger)
    with mod.Client() as c:
        with c.stream("POST", url, json=payload) as r:
            streamed = sum(len(b) for b in r.iter_raw())
    bind_ledger(None)
    assert ledger.request_bytes == server.seen[-1]
    assert ledger.response_bytes == server.sent[-1] == streamed
    assert ledger.attempts == 1 and ledger.status_codes == [200]

    async def go():
        bind_ledger(led2)
        async with mod.AsyncClient() as c:
            r = await c.post(url, json=payload)
            return len(r.content)

    led2 = HttpLedger()
    got = asyncio.run(go())
    assert led2.request_bytes == server.seen[-1] and led2.response_bytes == server.sent[-1] == got


def test_unbound_calls_still_count_in_process_totals(server):
    import httpx

    install_http_hooks()
    TOTALS.reset()
    bind_ledger(None)
    httpx.post(f"http://127.0.0.1:{server.server_port}/x", content=b"abc")
    assert TOTALS.request_bytes == 3 and TOTALS.response_bytes == server.sent[-1] and TOTALS.requests == 1
