"""Real HTTP body bytes between agents and model endpoints.

The hooks wrap every HTTP client the supported frameworks' model clients use: the
transports of ``httpx`` and ``httpx2`` (``openai`` 3.x uses httpx2; google-genai uses httpx,
or ``aiohttp`` for async calls when aiohttp is installed), ``aiohttp``'s
``ClientSession._request`` and ``requests``' ``Session.send`` (google-auth). For each
request they count the request body and the response body (all stream chunks; bytes as
they crossed the socket as body: httpx before content decoding; aiohttp's StreamReader
after de-chunking, which is the same for the uncompressed bodies model APIs send), and add
them to:

* the ``HttpLedger`` bound to the current context, if an adapter opened one for the LLM
  call in progress (``bind_ledger``); and
* the process-wide ``HttpTotals`` of the run, always, so bytes of calls no adapter saw are
  still counted at run level.

The hook never raises into the client: accounting errors are logged and ignored.
"""

from __future__ import annotations

import contextvars
import importlib
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from maestro.semconv import SIM_PROVIDER

__all__ = ["HttpLedger", "HttpTotals", "install_http_hooks", "bind_ledger", "current_ledger", "TOTALS"]

log = logging.getLogger(__name__)


@dataclass
class HttpLedger:
    """Bytes and attempts of one logical LLM call (all its HTTP requests)."""

    request_bytes: int = 0
    """Request body bytes, summed over attempts."""
    response_bytes: int = 0
    """Response body bytes consumed by the client, summed over attempts."""
    attempts: int = 0
    """HTTP requests made (1 + retries)."""
    status_codes: list[int] = field(default_factory=list)
    """Status of each attempt in order."""
    provider: str | None = None
    """``gen_ai.provider.name`` the endpoint declared about itself (maestro's simulated
    service says ``maestro.sim`` in its ``X-Maestro-Simulated`` header); None when it said nothing."""


@dataclass
class HttpTotals:
    """Process-wide totals (a worker process runs one run at a time)."""

    request_bytes: int = 0
    response_bytes: int = 0
    requests: int = 0
    simulated_responses: int = 0
    """Responses that came from maestro's simulated service."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        with self.lock:
            self.request_bytes = self.response_bytes = self.requests = self.simulated_responses = 0


TOTALS = HttpTotals()
"""Totals for the current process; the runner resets them at the start of each run."""

_LEDGER: contextvars.ContextVar[HttpLedger | None] = contextvars.ContextVar("maestro_http_ledger", default=None)
_INSTALLED = False
_INSTALL_LOCK = threading.Lock()


def bind_ledger(ledger: HttpLedger | None) -> None:
    """Make ``ledger`` receive the bytes of HTTP calls made from the current context.

    Adapters call this from their LLM-start callback. LangChain runs handlers with
    ``run_inline`` in the caller's context, so the binding is seen by the model client's
    HTTP call that follows; it is rebound (or cleared) by the next LLM call.
    """
    _LEDGER.set(ledger)


def current_ledger() -> HttpLedger | None:
    """The ledger bound to the current context, if any."""
    return _LEDGER.get()


def _request_size(request) -> int:
    try:
        return len(request.content)
    except Exception:  # streaming upload: trust the header
        try:
            return int(request.headers.get("content-length", 0))
        except Exception:
            return 0


def _add_request(ledger: HttpLedger | None, nbytes: int) -> None:
    with TOTALS.lock:
        TOTALS.request_bytes += nbytes
        TOTALS.requests += 1
    if ledger is not None:
        ledger.request_bytes += nbytes
        ledger.attempts += 1


def _add_response(ledger: HttpLedger | None, nbytes: int) -> None:
    with TOTALS.lock:
        TOTALS.response_bytes += nbytes
    if ledger is not None:
        ledger.response_bytes += nbytes


class _CountingStream:
    """Wraps a transport's response stream; counts bytes as the client reads them."""

    def __init__(self, inner, ledger: HttpLedger | None):
        self._inner = inner
        self._ledger = ledger

    def __iter__(self):
        for chunk in self._inner:
            _add_response(self._ledger, len(chunk))
            yield chunk

    async def __aiter__(self):
        async for chunk in self._inner:
            _add_response(self._ledger, len(chunk))
            yield chunk

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    async def aclose(self) -> None:
        aclose = getattr(self._inner, "aclose", None)
        if aclose is not None:
            await aclose()


def _note_response(ledger: HttpLedger | None, status: int, headers) -> None:
    simulated = headers.get("x-maestro-simulated") == "true"
    if simulated:
        with TOTALS.lock:
            TOTALS.simulated_responses += 1
    if ledger is not None:
        ledger.status_codes.append(status)
        if simulated:
            ledger.provider = SIM_PROVIDER


def _wrap_module(mod) -> None:
    sync_cls, async_cls = mod.HTTPTransport, mod.AsyncHTTPTransport
    orig_sync, orig_async = sync_cls.handle_request, async_cls.handle_async_request
    # The client checks the stream's base type, so subclass the module's own ones.
    sync_stream = type("CountingSyncByteStream", (_CountingStream, mod.SyncByteStream), {})
    async_stream = type("CountingAsyncByteStream", (_CountingStream, mod.AsyncByteStream), {})

    def handle_request(self, request):
        ledger = _LEDGER.get()
        try:
            _add_request(ledger, _request_size(request))
        except Exception:  # never break the client
            log.debug("http accounting failed", exc_info=True)
        response = orig_sync(self, request)
        try:
            _note_response(ledger, response.status_code, response.headers)
            response.stream = sync_stream(response.stream, ledger)
        except Exception:
            log.debug("http accounting failed", exc_info=True)
        return response

    async def handle_async_request(self, request):
        ledger = _LEDGER.get()
        try:
            _add_request(ledger, _request_size(request))
        except Exception:
            log.debug("http accounting failed", exc_info=True)
        response = await orig_async(self, request)
        try:
            _note_response(ledger, response.status_code, response.headers)
            response.stream = async_stream(response.stream, ledger)
        except Exception:
            log.debug("http accounting failed", exc_info=True)
        return response

    sync_cls.handle_request = handle_request
    async_cls.handle_async_request = handle_async_request


def _body_size(data: Any = None, json_body: Any = None) -> int:
    """Bytes of a request body given as aiohttp/requests arguments (what goes on the wire
    for bytes, text and JSON; 0 for a streamed body of unknown length)."""
    if json_body is not None:
        return len(json.dumps(json_body).encode())
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data)
    if isinstance(data, str):
        return len(data.encode())
    return 0


# aiohttp: a response's body arrives in its StreamReader (slotted: no attribute of ours can
# go on it), possibly after the request call returned. Readers still being fed, by id, with
# the ledger their bytes belong to; bounded so an abandoned response cannot grow it.
_AIOHTTP_PENDING: dict[int, tuple[Any, HttpLedger | None]] = {}
_AIOHTTP_PENDING_MAX = 1024


def _wrap_aiohttp(mod) -> None:
    orig_request = mod.ClientSession._request
    orig_feed_eof = mod.StreamReader.feed_eof

    async def _request(self, method, str_or_url, **kwargs):
        ledger = _LEDGER.get()
        try:
            _add_request(ledger, _body_size(kwargs.get("data"), kwargs.get("json")))
        except Exception:
            log.debug("http accounting failed", exc_info=True)
        response = await orig_request(self, method, str_or_url, **kwargs)
        try:
            _note_response(ledger, response.status, response.headers)
            reader = response.content
            if reader.is_eof():
                _add_response(ledger, reader.total_bytes)
            else:
                if len(_AIOHTTP_PENDING) >= _AIOHTTP_PENDING_MAX:
                    _AIOHTTP_PENDING.pop(next(iter(_AIOHTTP_PENDING)))
                _AIOHTTP_PENDING[id(reader)] = (reader, ledger)
        except Exception:
            log.debug("http accounting failed", exc_info=True)
        return response

    def feed_eof(self) -> None:
        orig_feed_eof(self)
        entry = _AIOHTTP_PENDING.pop(id(self), None)
        if entry is not None and entry[0] is self:
            _add_response(entry[1], self.total_bytes)

    mod.ClientSession._request = _request
    mod.StreamReader.feed_eof = feed_eof


def _wrap_requests(mod) -> None:
    orig_send = mod.Session.send

    def send(self, request, **kwargs):
        ledger = _LEDGER.get()
        try:
            _add_request(ledger, _body_size(request.body))
        except Exception:
            log.debug("http accounting failed", exc_info=True)
        response = orig_send(self, request, **kwargs)
        try:
            _note_response(ledger, response.status_code, response.headers)
            if kwargs.get("stream"):
                raw_read = response.raw.read

                def read(*args, **kw):
                    chunk = raw_read(*args, **kw)
                    _add_response(ledger, len(chunk or b""))
                    return chunk

                response.raw.read = read
            else:  # Session.send has read the body already
                _add_response(ledger, len(response.content or b""))
        except Exception:
            log.debug("http accounting failed", exc_info=True)
        return response

    mod.Session.send = send


_HOOKS = {"httpx": _wrap_module, "httpx2": _wrap_module, "aiohttp": _wrap_aiohttp, "requests": _wrap_requests}
"""HTTP client module -> its hook: every client the frameworks use (google-genai sends async
calls through aiohttp when it is installed, google-auth through requests)."""


def install_http_hooks() -> list[str]:
    """Hook every installed HTTP client of :data:`_HOOKS` once per process. Returns the
    modules hooked."""
    global _INSTALLED
    hooked: list[str] = []
    with _INSTALL_LOCK:
        if _INSTALLED:
            return ["(already installed)"]
        for name, hook in _HOOKS.items():
            try:
                mod = importlib.import_module(name)
            except ImportError:
                continue
            try:
                hook(mod)
                hooked.append(name)
            except Exception:
                log.warning("could not hook %s for byte accounting", name, exc_info=True)
        _INSTALLED = True
    return hooked
