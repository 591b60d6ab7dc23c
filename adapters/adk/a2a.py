"""ADK agents over A2A (a2a-sdk 0.3): both ends of a traced hand-over between processes.

**Caller side** (the run's process): :func:`install_a2a_hook` (called by the plugin) wraps
the HTTP client of every ADK ``RemoteA2aAgent`` the first time it is used. For a request
made inside a traced agent turn or tool call (the plugin's ``direct_call_scope``) to the
origin of a remote agent's card, the wrapper

* adds :func:`maestro.collector.remote.propagation_headers` (``traceparent`` naming that
  turn or tool span, the run identity, the URL of this process's span sink), so the remote
  agent's spans land in the same run and trace, under that span;
* records the hand-over both ways as ``message`` spans (``is_in_process_call`` false) whose
  bytes are the real HTTP bodies: ``caller -> remote`` with the JSON-RPC request body,
  ``remote -> caller`` with the response body as it came off the socket; a request that
  fails (the message, or the agent-card fetch before it) records the first edge only, with
  the bytes that went out and the failure's category and reason;
* takes the A2A exchange (the card fetch included) back out of the process's HTTP totals:
  those count model traffic (``llm_request_bytes``); agent messages count in ``a2a_bytes``.

**Remote side**: :func:`a2a_app` serves one ADK agent over A2A JSON-RPC with a
:class:`TracedAdkExecutor`: each request whose headers name a run is traced with the ADK
plugin into a :class:`~maestro.collector.remote.RemoteTelemetry`, whose spans are posted to
the run's sink before the answer is sent. ``python -m maestro.adapters.adk.a2a --agent
module:factory --name NAME`` runs such a server: ``factory(name, config)`` returns the ADK
agent, ``config`` is a JSON object read from stdin (model endpoint and key: never on the
command line), and the server prints ``READY <url>`` once it listens (port 0: a free port).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

import httpx

from maestro import semconv as sc
from maestro.adapters import _common as common
from maestro.collector.http import TOTALS
from maestro.collector.remote import (
    REMOTE_PROCESS,
    SPANS_LOST,
    RemoteRun,
    RemoteTelemetry,
    SpanSink,
    note_lost,
    propagation_headers,
)

__all__ = ["install_a2a_hook", "TracedAdkExecutor", "a2a_app", "agent_card", "serve", "main", "A2A_URL"]

log = logging.getLogger(__name__)

A2A_URL = "maestro.a2a.url"
"""On A2A message spans: the URL the hand-over was posted to."""
A2A_STATUS = "maestro.a2a.http_status"
"""On A2A message spans: the HTTP status of the response."""

_REMOTE_MODULE = "google.adk.a2a.agent._remote_a2a_agent"
_PATCHED = "__maestro_a2a_patched__"


def _origin(url: Any) -> tuple[str, str, int | None]:
    parts = urlsplit(str(url))
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _untotal(request_bytes: int, response_bytes: int) -> None:
    with TOTALS.lock:
        TOTALS.request_bytes -= request_bytes
        TOTALS.response_bytes -= response_bytes
        TOTALS.requests -= 1


class _A2aTransport(httpx.AsyncBaseTransport):
    """Wraps a ``RemoteA2aAgent``'s transport: headers, message spans, totals (module docstring)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, scope: Callable[[], Any]):
        self.inner = inner
        self.scope = scope
        self.names: dict[tuple[str, str, int | None], str] = {}
        """Origin of a remote agent's card -> the agent's name."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = self.names.get(_origin(request.url))
        if name is None:
            return await self.inner.handle_async_request(request)
        scope = self.scope()
        t = parent = caller = None
        if scope is not None:
            plugin, parent, caller = scope
            t = plugin.t
            try:
                request.headers.update(propagation_headers(t, parent, SpanSink.shared().register(t)))
            except Exception:  # never break the hand-over
                log.exception("maestro a2a: could not add the run's headers")
        sent = len(await request.aread())
        t0 = time.time_ns()
        try:
            response = await self.inner.handle_async_request(request)
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            await response.aclose()
        except BaseException as e:
            _untotal(sent, 0)
            if t is not None:
                t.record_message(caller, name, sent, parent=parent, in_process=False, at_ns=t0, attributes={
                    A2A_URL: str(request.url),
                    **common.failure_attributes(sc.AgentFailureCategory.SYSTEM, common.error_text(e))})
            raise
        _untotal(sent, len(raw))
        if t is not None and request.method == "POST":  # the card fetch (GET) is no hand-over
            attrs = {A2A_URL: str(request.url), A2A_STATUS: response.status_code}
            t.record_message(caller, name, sent, parent=parent, in_process=False, at_ns=t0, attributes=attrs)
            t.record_message(name, caller, len(raw), parent=parent, in_process=False, attributes=dict(attrs))
            if SPANS_LOST.encode() in raw:
                _note_lost(t, raw)
        return httpx.Response(response.status_code, headers=response.headers, content=raw,
                              extensions=response.extensions, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _note_lost(telemetry: Any, raw: bytes) -> None:
    """The remote could not export its spans: count them for the run (its answer says how many)."""
    try:
        meta = json.loads(raw).get("result", {}).get("metadata") or {}
        note_lost(telemetry, str(meta.get(REMOTE_PROCESS, "remote")), int(meta.get(SPANS_LOST, 0)))
    except (ValueError, TypeError, AttributeError):
        log.warning("maestro a2a: a remote agent lost spans, and its answer does not say how many")


def _wrap(agent: Any, client: httpx.AsyncClient, scope: Callable[[], Any]) -> None:
    transport = client._transport
    if not isinstance(transport, _A2aTransport):
        transport = _A2aTransport(transport, scope)
        client._transport = transport
    source = getattr(agent, "_agent_card_source", None)
    card = getattr(agent, "_agent_card", None)
    url = source or getattr(card, "url", None)
    if url:
        transport.names[_origin(url)] = agent.name


def install_a2a_hook(scope: Callable[[], Any]) -> None:
    """Wrap the HTTP client of every ``RemoteA2aAgent`` when it is first set up (patches the
    class once per process). A no-op until ADK's A2A module is imported: an app using it
    has imported it by the time it is instrumented, and the plugin calls this each time."""
    mod = sys.modules.get(_REMOTE_MODULE)
    cls = getattr(mod, "RemoteA2aAgent", None)
    if cls is None or getattr(cls, _PATCHED, False):
        return
    original = cls._ensure_httpx_client

    async def _ensure_httpx_client(self: Any) -> httpx.AsyncClient:
        client = await original(self)
        try:
            _wrap(self, client, scope)
        except Exception:  # instrumentation must never break the agent
            log.exception("maestro a2a: could not wrap the A2A client of %s", getattr(self, "name", "?"))
        return client

    cls._ensure_httpx_client = _ensure_httpx_client
    setattr(cls, _PATCHED, True)


# --- remote side ---------------------------------------------------------------------------------


class TracedAdkExecutor:
    """An a2a-sdk ``AgentExecutor`` (by duck type: a2a-sdk is imported only when serving)
    running one ADK agent per request, traced into the caller's run when the request carries
    its headers (untraced otherwise)."""

    def __init__(self, agent: Any, process: str, provider: str | None = None, flush_timeout_s: float = 10.0):
        self.agent = agent
        self.process = process
        self.provider = provider
        self.flush_timeout_s = flush_timeout_s

    async def execute(self, context: Any, event_queue: Any) -> None:
        from a2a.utils import new_agent_text_message

        from maestro.adapters.adk import instrument

        call = context.call_context
        headers = (call.state.get("headers") if call is not None else None) or {}
        remote = RemoteRun.from_headers(headers)
        text = context.get_user_input()
        if remote is None:
            from google.adk.runners import InMemoryRunner
            from google.genai import types

            runner = InMemoryRunner(agent=self.agent, app_name=self.agent.name)
            session = await runner.session_service.create_session(app_name=self.agent.name, user_id="a2a")
            answer = ""
            async for event in runner.run_async(user_id="a2a", session_id=session.id,
                                                new_message=types.Content(role="user", parts=[types.Part(text=text)])):
                if event.is_final_response() and event.content and event.content.parts:
                    answer = "".join(p.text or "" for p in event.content.parts)
        else:
            telemetry = RemoteTelemetry(remote, self.process)
            error = None
            try:
                app = instrument(self.agent, cast(Any, telemetry), provider=self.provider or "")
                answer = (await app.run_async(text)).text
            except BaseException as e:
                error = common.error_text(e)
                raise
            finally:
                # Before the answer goes out: the caller's run has every span when it returns.
                await asyncio.to_thread(telemetry.flush, self.flush_timeout_s, error)
        message = new_agent_text_message(answer, context_id=context.context_id, task_id=context.task_id)
        if remote is not None and telemetry.lost:  # the run must count what it will never receive
            message.metadata = {SPANS_LOST: telemetry.lost, REMOTE_PROCESS: self.process}
        await event_queue.enqueue_event(message)

    async def cancel(self, context: Any, event_queue: Any) -> None:
        raise RuntimeError("cancelling a remote ADK agent is not supported")


def agent_card(agent: Any, url: str) -> Any:
    """A minimal A2A agent card for ``agent`` served at ``url`` (JSON-RPC, no streaming: one
    response body per hand-over)."""
    from a2a.types import AgentCapabilities, AgentCard, AgentSkill

    desc = str(getattr(agent, "description", "") or agent.name)
    return AgentCard(name=agent.name, description=desc, url=url, version="1.0",
                     capabilities=AgentCapabilities(streaming=False), default_input_modes=["text/plain"],
                     default_output_modes=["text/plain"],
                     skills=[AgentSkill(id=agent.name, name=agent.name, description=desc, tags=["maestro"])])


def a2a_app(agent: Any, url: str, process: str, provider: str | None = None) -> Any:
    """The Starlette ASGI app serving ``agent`` over A2A JSON-RPC at ``url``."""
    from a2a.server.agent_execution import AgentExecutor
    from a2a.server.apps import A2AStarletteApplication
    from a2a.server.request_handlers import DefaultRequestHandler
    from a2a.server.tasks import InMemoryTaskStore

    executor = type("MaestroAdkExecutor", (TracedAdkExecutor, AgentExecutor), {})(agent, process, provider)
    handler = DefaultRequestHandler(agent_executor=executor,
                                    task_store=InMemoryTaskStore())
    return A2AStarletteApplication(agent_card=agent_card(agent, url), http_handler=handler).build()


def _factory(ref: str) -> Callable[[str, dict[str, Any]], Any]:
    module, _, attr = ref.partition(":")
    if not attr:
        raise ValueError(f"--agent {ref!r}: expected module:factory")
    return cast(Callable[[str, dict[str, Any]], Any], getattr(importlib.import_module(module), attr))


def serve(factory: str, name: str, config: dict[str, Any], host: str = "127.0.0.1", port: int = 0,
          advertise: str | None = None, ready: Callable[[str], None] | None = None) -> None:
    """Build agent ``name`` with ``factory`` (``module:function``) and serve it until killed;
    ``ready(url)`` is called once the socket listens."""
    import uvicorn

    agent = _factory(factory)(name, config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    url = f"http://{advertise or host}:{sock.getsockname()[1]}"
    app = a2a_app(agent, url, f"{name}@{socket.gethostname()}:{os.getpid()}", config.get("provider"))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    if ready is not None:
        ready(url)  # connections queue in the listening socket until the loop serves them
    asyncio.run(server.serve(sockets=[sock]))


def main(argv: list[str] | None = None) -> None:
    """Command line: serve one ADK agent over A2A (module docstring)."""
    p = argparse.ArgumentParser(prog="python -m maestro.adapters.adk.a2a", description=main.__doc__)
    p.add_argument("--agent", required=True, help="module:factory; factory(name, config) returns the ADK agent")
    p.add_argument("--name", required=True, help="the agent's name")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: a free port")
    p.add_argument("--advertise", default=None, help="host name callers reach this server by (default: --host)")
    args = p.parse_args(argv)
    raw = sys.stdin.read() if not sys.stdin.isatty() else ""
    config = json.loads(raw) if raw.strip() else {}
    logging.basicConfig(level=logging.WARNING)
    serve(args.agent, args.name, config, args.host, args.port, args.advertise,
          ready=lambda url: print(f"READY {url}", flush=True))


if __name__ == "__main__":
    main()
