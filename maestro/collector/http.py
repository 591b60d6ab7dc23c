"""Real HTTP body bytes between agents and model endpoints.

The hook wraps the transports of ``httpx`` and ``httpx2`` (the latter is what ``openai``
3.x uses; google-genai uses httpx), the layer every supported framework's model client
goes through. For each request it counts the request body and the response body as the
client consumes it (all stream chunks; raw bytes before content decoding, i.e. what
crossed the socket as body), and adds them to:

* the ``HttpLedger`` bound to the current context, if an adapter opened one for the LLM
  call in progress (``bind_ledger``); and
* the process-wide ``HttpTotals`` of the run, always, so bytes of calls no adapter saw are
  still counted at run level.

The hook never raises into the client: accounting errors are logged and ignored.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
import threading
from dataclasses import dataclass, field

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


def _note_response(ledger: HttpLedger | None, response) -> None:
    simulated = response.headers.get("x-maestro-simulated") == "true"
    if simulated:
        with TOTALS.lock:
            TOTALS.simulated_responses += 1
    if ledger is not None:
        ledger.status_codes.append(response.status_code)
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
            _note_response(ledger, response)
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
            _note_response(ledger, response)
            response.stream = async_stream(response.stream, ledger)
        except Exception:
            log.debug("http accounting failed", exc_info=True)
        return response

    sync_cls.handle_request = handle_request
    async_cls.handle_async_request = handle_async_request


def install_http_hooks() -> list[str]:
    """Wrap the httpx/httpx2 transports once per process. Returns the modules hooked."""
    global _INSTALLED
    hooked: list[str] = []
    with _INSTALL_LOCK:
        if _INSTALLED:
            return ["(already installed)"]
        for name in ("httpx", "httpx2"):
            try:
                mod = importlib.import_module(name)
            except ImportError:
                continue
            try:
                _wrap_module(mod)
                hooked.append(name)
            except Exception:
                log.warning("could not hook %s for byte accounting", name, exc_info=True)
        _INSTALLED = True
    return hooked
