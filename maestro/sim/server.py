"""The simulated LLM service: a real HTTP/1.1 server (stdlib only) on a background thread.

Routes, below ``/sim/{profile}/{runkey}`` (see :mod:`maestro.sim.urls`):

* ``POST /v1/chat/completions``, ``POST /v1/embeddings``, ``GET /v1/models[/{id}]``;
* ``POST /{v1,v1beta,v1alpha,v1beta1}/[projects/{p}/locations/{l}/][publishers/{x}/]models/{m}:{method}``
  with method ``generateContent``, ``streamGenerateContent`` (SSE with ``?alt=sse``, else a
  JSON array), ``embedContent``, ``batchEmbedContents``, ``predict``, ``countTokens``;
  ``GET /v1beta/models[/{m}]``.

Plus ``GET /healthz`` at the root. Every response carries ``X-Maestro-Simulated: true``.
Connections are kept alive; bodies have exact Content-Length, streams use chunked encoding.

Errors answer in the caller's protocol: a request whose path (or ``x-goog-*`` header) is
Gemini's gets Google's error JSON (``{"error": {"code", "message", "status"}}``), anything
else OpenAI's; a path outside ``/sim/...`` gets a 404 that spells the URL scheme for that
protocol. With ``request_log`` every request and reply is appended to a JSONL file
(:mod:`maestro.sim.requestlog`).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, unquote, urlsplit

from maestro.sim import wire_gemini, wire_openai
from maestro.sim.engine import BadRequest, Engine, PolicyError, SimOutcome
from maestro.sim.profiles import Profile, get_profile, profile_names
from maestro.sim.requestlog import RequestLog
from maestro.sim.seeding import stable_seed
from maestro.sim.urls import SimRunKey, parse_sim_path
from maestro.tokens import count_message_tokens

__all__ = ["SimServer", "DEFAULT_TIME_FACTOR", "guess_protocol"]

log = logging.getLogger("maestro.sim")

DEFAULT_TIME_FACTOR = 0.02
"""Real seconds slept per simulated second (0 = never sleep)."""

_GEMINI_RE = re.compile(
    r"^/(?P<ver>v1|v1beta|v1alpha|v1beta1)/(?:projects/[^/]+/locations/[^/]+/)?(?:publishers/[^/]+/)?"
    r"models/(?P<model>[^/:]+)(?::(?P<method>[A-Za-z]+))?$"
)
_GEMINI_LIST_RE = re.compile(r"^/(?:v1|v1beta|v1alpha|v1beta1)/(?:projects/[^/]+/locations/[^/]+/)?(?:publishers/[^/]+/)?models$")
_OPENAI_MODEL_RE = re.compile(r"^/v1/models/(?P<model>[^/]+)$")

_MAX_BODY = 64 * 1024 * 1024  # refuse absurd bodies instead of reading them into memory


class _HttpError(Exception):
    """An error answer already shaped for the protocol."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.logged = False
        """True when the request log already has this request (an injected error)."""


_GEMINI_HINT_RE = re.compile(r"(?:^|/)(?:v1beta1?|v1alpha)(?:/|$)|/models/[^/]+:[A-Za-z]+$")


def guess_protocol(path: str, headers: Any = None) -> str:
    """``gemini`` when the request looks like a Gemini/Vertex client's (its path, or an
    ``x-goog-api-key``/``x-goog-api-client`` header), else ``openai``. Used to shape errors
    for requests that never reached a route, e.g. a base URL without ``/sim/...``."""
    sp = parse_sim_path(path)
    rest = sp.rest if sp is not None else re.sub(r"/{2,}", "/", path).rstrip("/")
    gm = _GEMINI_RE.match(rest)
    if gm and not (gm.group("ver") == "v1" and not gm.group("method")):
        return "gemini"
    if _GEMINI_LIST_RE.match(rest) and rest != "/v1/models":
        return "gemini"
    if rest.startswith("/v1/chat/") or rest.startswith("/v1/embeddings") or rest == "/v1/models":
        return "openai"
    if _GEMINI_HINT_RE.search(rest):
        return "gemini"
    if headers is not None and (headers.get("x-goog-api-key") or headers.get("x-goog-api-client")):
        return "gemini"
    return "openai"


def _no_route_message(protocol: str, path: str, server_url: str) -> str:
    if protocol == "gemini":
        return (
            f"no route for {path!r}: this is maestro's simulated LLM service; Gemini clients need the base URL "
            f"{server_url}/sim/{{profile}}/{{seed}}[.{{nonce}}] (GOOGLE_GEMINI_BASE_URL, HttpOptions(base_url=...) "
            "or ADK Gemini(base_url=...)); the client appends /v1beta/models/{model}:generateContent"
        )
    return (
        f"no route for {path!r}: this is maestro's simulated LLM service; OpenAI clients need the base URL "
        f"{server_url}/sim/{{profile}}/{{seed}}[.{{nonce}}]/v1 (OPENAI_BASE_URL or base_url=...), e.g. "
        f"{server_url}/sim/strong/1/v1"
    )


def _error(protocol: str, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None) -> _HttpError:
    if protocol == "gemini":
        return _HttpError(status, wire_gemini.error_body(status, message))
    return _HttpError(status, wire_openai.error_body(message, type_, code))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer has a length or is chunked
    # Headers and body go out in separate writes: with Nagle on, the client's delayed ACK
    # adds ~40 ms to every response.
    disable_nagle_algorithm = True
    server_version = "maestro-sim/0.1"
    server: _HTTPServer

    # -- plumbing ------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms per request). Small replies must not pay that.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def end_headers(self) -> None:
        # Here rather than in each sender so even stdlib-generated errors carry it.
        self.send_header("X-Maestro-Simulated", "true")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self, protocol: str = "openai") -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline(65537)
                if len(data) > _MAX_BODY:
                    raise _error(protocol, 413, "request body too large")
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True
            raise _error(protocol, 413, "request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
        self.wfile.flush()

    def _send_stream(self, events: list[tuple[dict[str, Any], bool]], out: SimOutcome, *, done_marker: bool) -> None:
        """SSE over chunked encoding; sleeps ttft before the first event and spreads the
        generation time over the content-carrying events."""
        sim = self.server.sim
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        n_content = sum(1 for _, c in events if c) or 1
        sim.sleep(out.ttft_s)
        for ev, carries in events:
            if carries:
                sim.sleep(out.gen_s / n_content)
            self._write_chunk(b"data: " + json.dumps(ev, ensure_ascii=False).encode("utf-8") + b"\r\n\r\n")
        if done_marker:
            self._write_chunk(b"data: [DONE]\r\n\r\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- entry points --------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def _handle(self, method: str) -> None:
        self.server.sim._count()
        protocol = "openai"
        path = self.path
        try:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            protocol = guess_protocol(path, self.headers)
            body_bytes = self._read_body(protocol)
            query = parse_qs(parts.query)
            if path.rstrip("/") in ("/healthz", ""):
                self._send_json(200, {"ok": True, "service": "maestro-sim", "profiles": profile_names()})
                return
            sp = parse_sim_path(path)
            if sp is None:
                raise _error(protocol, 404, _no_route_message(protocol, path, self.server.sim.url))
            gm = _GEMINI_RE.match(sp.rest)
            # ``/v1/models/{id}`` without a ``:method`` is OpenAI's model lookup, not Gemini.
            if gm and gm.group("ver") == "v1" and not gm.group("method"):
                gm = None
            if gm or (_GEMINI_LIST_RE.match(sp.rest) and sp.rest != "/v1/models"):
                protocol = "gemini"
            try:
                profile = get_profile(sp.profile)
            except KeyError:
                raise _error(
                    protocol, 404, f"unknown profile {sp.profile!r}; known profiles: {', '.join(profile_names())}", code="model_not_found"
                ) from None
            try:
                rk = SimRunKey.parse(sp.runkey)
            except ValueError as exc:
                raise _error(protocol, 400, str(exc)) from None
            self._route(method, sp.rest, gm, query, body_bytes, profile, rk, sp.runkey, protocol)
        except _HttpError as e:
            if not e.logged:  # injected 429/500s were logged with their request
                self.server.sim._log_error(e, protocol, method, path)
            self._send_json(e.status, e.body, e.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - the server must keep serving
            log.exception("maestro-sim internal error on %s %s", method, self.path)
            err = _error(protocol, 500, f"maestro-sim internal error: {type(exc).__name__}: {exc}", "server_error")
            self.server.sim._log_error(err, protocol, method, path)
            try:
                self._send_json(err.status, err.body)
            except OSError:
                self.close_connection = True

    def _json(self, body_bytes: bytes, protocol: str) -> Any:
        try:
            return json.loads(body_bytes.decode("utf-8") if body_bytes else "")
        except (UnicodeDecodeError, ValueError) as exc:
            raise _error(protocol, 400, f"malformed JSON body: {exc}") from None

    def _route(
        self,
        method: str,
        rest: str,
        gm: re.Match[str] | None,
        query: dict[str, list[str]],
        body_bytes: bytes,
        profile: Profile,
        rk: SimRunKey,
        runkey: str,
        protocol: str,
    ) -> None:
        if method == "GET":
            self._route_get(rest, gm, profile, protocol)
            return
        if rest == "/v1/chat/completions":
            body = self._json(body_bytes, protocol)
            try:
                req = wire_openai.parse_chat(body)
            except BadRequest as exc:
                raise _error(protocol, 400, str(exc)) from None
            out = self._simulate(profile, rk, runkey, req, protocol)
            if req.stream:
                opts = body.get("stream_options") or {}
                include_usage = bool(opts.get("include_usage")) if isinstance(opts, dict) else False
                self._send_stream(wire_openai.stream_chat(out, include_usage), out, done_marker=True)
            else:
                self.server.sim.sleep(out.ttft_s + out.gen_s)
                self._send_json(200, wire_openai.render_chat(out))
            return
        if rest == "/v1/embeddings":
            body = self._json(body_bytes, protocol)
            try:
                self._send_json(200, wire_openai.render_embeddings(body))
            except BadRequest as exc:
                raise _error(protocol, 400, str(exc)) from None
            return
        if gm and gm.group("method"):
            self._route_gemini(gm.group("model"), gm.group("method"), query, body_bytes, profile, rk, runkey)
            return
        raise _error(protocol, 404, _no_route_message(protocol, f"POST {rest}", self.server.sim.url))

    def _route_get(self, rest: str, gm: re.Match[str] | None, profile: Profile, protocol: str) -> None:
        names = profile_names()
        if rest == "/v1/models":
            self._send_json(200, {"object": "list", "data": [{"id": n, "object": "model", "created": 0, "owned_by": "maestro-sim"} for n in names]})
            return
        m = _OPENAI_MODEL_RE.match(rest)
        if m:
            self._send_json(200, {"id": m.group("model"), "object": "model", "created": 0, "owned_by": "maestro-sim"})
            return
        if protocol == "gemini" and (gm is None or gm.group("method") is None):
            def info(n: str) -> dict[str, Any]:
                return {
                    "name": f"models/{n}",
                    "displayName": f"maestro-sim {profile.name}",
                    "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens", "embedContent"],
                    "inputTokenLimit": 1_000_000,
                    "outputTokenLimit": 65_536,
                }

            if gm is None:
                self._send_json(200, {"models": [info(n) for n in names]})
            else:
                self._send_json(200, info(gm.group("model")))
            return
        raise _error(protocol, 404, _no_route_message(protocol, f"GET {rest}", self.server.sim.url))

    def _route_gemini(
        self, model: str, method: str, query: dict[str, list[str]], body_bytes: bytes, profile: Profile, rk: SimRunKey, runkey: str
    ) -> None:
        body = self._json(body_bytes, "gemini")
        try:
            if method in ("generateContent", "streamGenerateContent"):
                req = wire_gemini.parse_generate(body, model)
                out = self._simulate(profile, rk, runkey, req, "gemini")
                if method == "generateContent":
                    self.server.sim.sleep(out.ttft_s + out.gen_s)
                    self._send_json(200, wire_gemini.render_generate(out))
                elif query.get("alt", [""])[0] == "sse":
                    self._send_stream(wire_gemini.stream_generate(out), out, done_marker=False)
                else:
                    # Without alt=sse the real API streams one JSON array; send it whole.
                    self.server.sim.sleep(out.ttft_s + out.gen_s)
                    self._send_json(200, [ev for ev, _ in wire_gemini.stream_generate(out)])
            elif method == "countTokens":
                req = wire_gemini.parse_generate(body.get("generateContentRequest", body) if isinstance(body, dict) else body, model)
                n = count_message_tokens([(m.role, m.content) for m in req.messages])
                self._send_json(200, {"totalTokens": n})
            elif method == "embedContent":
                self._send_json(200, wire_gemini.render_embed_content(body))
            elif method == "batchEmbedContents":
                self._send_json(200, wire_gemini.render_batch_embed(body))
            elif method == "predict":
                # Image generation draws with the run's seed, keyed like a chat request (the
                # body and how often this run sent it), and takes the image model's time.
                occ = self.server.sim.engine.counter.next(profile.name, runkey, "predict", body_bytes)
                reply = wire_gemini.render_predict(body, profile, stable_seed(rk.seed, profile.name, "predict", body_bytes, occ))
                self.server.sim.sleep(wire_gemini.predict_seconds(body, profile.ttft_s))
                self._send_json(200, reply)
            else:
                raise _error("gemini", 404, f"unsupported method {method!r}")
        except BadRequest as exc:
            raise _error("gemini", 400, str(exc)) from None

    def _simulate(self, profile: Profile, rk: SimRunKey, runkey: str, req: Any, protocol: str) -> SimOutcome:
        sim = self.server.sim
        try:
            out = sim.engine.simulate(profile, rk.seed, runkey, req)
        except PolicyError as exc:
            log.error("maestro-sim: %s (profile %s, run %s)", exc, profile.name, runkey, exc_info=exc.__cause__ or exc)
            raise _error(protocol, 500, str(exc), "server_error") from None
        if sim.request_log is not None:
            try:
                sim.request_log.log_outcome(out, runkey)
            except OSError:
                log.warning("maestro-sim: cannot write the request log", exc_info=True)
        if out.error == "rate_limit":
            err = _error(protocol, 429, f"simulated rate limit (profile {profile.name})", "rate_limit_error", "rate_limit_exceeded")
            # Retry-After: 0 says "retry now"; the openai client ignores a zero and backs off
            # for ~0.5 s, so also send retry-after-ms, which it honours.
            err.headers = {"Retry-After": "0", "retry-after-ms": "1"}
            err.logged = True
            raise err
        if out.error == "server_error":
            err = _error(protocol, 500, f"simulated server error (profile {profile.name})", "server_error")
            err.logged = True
            raise err
        if out.stall_s:
            sim.sleep(min(out.stall_s, sim.max_stall_s / sim.time_factor if sim.time_factor else 0.0))
        return out


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never blocks interpreter exit
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], sim: SimServer) -> None:
        self.sim = sim
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients dropping kept-alive connections is normal; anything else goes to the log
        # (never to stdout, which the CLI reserves for its ready line).
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        log.error("maestro-sim: error serving %s", client_address, exc_info=True)

    def close_all_connections(self) -> None:
        """Shut kept-alive connections so their handler threads end with the server."""
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class SimServer:
    """The simulated LLM service on a background thread.

    >>> with SimServer(time_factor=0) as sim:   # doctest: +SKIP
    ...     base = openai_base_url(sim.url, "strong", seed=1)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        time_factor: float = DEFAULT_TIME_FACTOR,
        *,
        max_stall_s: float = 10.0,
        request_log: str | Path | IO[str] | RequestLog | None = None,
    ) -> None:
        if time_factor < 0:
            raise ValueError("time_factor must be >= 0")
        self.request_log: RequestLog | None = (
            request_log if isinstance(request_log, RequestLog) or request_log is None else RequestLog(request_log)
        )
        """JSONL log of normalised requests and replies (redacted), or None."""
        self.host = host
        self.port = port
        self.time_factor = float(time_factor)
        """Real seconds slept per simulated second; 0 = never sleep (tests)."""
        self.max_stall_s = float(max_stall_s)
        """Cap on one stall's real sleep."""
        self.engine = Engine()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._count_lock = threading.Lock()
        self._requests = 0

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> SimServer:
        """Bind and serve on a daemon thread. Returns self."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name=f"maestro-sim:{self.port}", daemon=True)
        self._thread.start()
        log.info("maestro-sim serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_all_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.request_log is not None:
            self.request_log.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._httpd is None:
            raise RuntimeError("SimServer is not started")
        host = self.host if self.host not in ("0.0.0.0", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def request_count(self) -> int:
        """HTTP requests handled so far (all routes, errors included)."""
        with self._count_lock:
            return self._requests

    # -- used by the handler -------------------------------------------------------------

    def _log_error(self, err: _HttpError, protocol: str, method: str, path: str) -> None:
        if self.request_log is None:
            return
        message = ((err.body or {}).get("error") or {}).get("message", "") if isinstance(err.body, dict) else ""
        try:
            self.request_log.log_error(status=err.status, protocol=protocol, method=method, path=path, message=str(message))
        except OSError:
            log.warning("maestro-sim: cannot write the request log", exc_info=True)

    def _count(self) -> None:
        with self._count_lock:
            self._requests += 1

    def sleep(self, sim_seconds: float) -> None:
        """Sleep ``sim_seconds * time_factor`` real seconds (nothing at all when 0)."""
        if self.time_factor > 0 and sim_seconds > 0:
            time.sleep(sim_seconds * self.time_factor)
