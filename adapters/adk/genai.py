"""Model calls that no ADK plugin callback sees: image generation and embeddings that a tool
(or an agent's own code) makes through google-genai, such as ``client.models.generate_images``
(Vertex ``:predict``) or ``client.models.embed_content`` (``:batchEmbedContents``,
``:embedContent``, Vertex ``:predict``).

``install_genai_hook(scope)`` wraps google-genai's ``BaseApiClient.request`` and
``async_request`` once per process. A request is recorded only when it is one of those calls
(:func:`extract.genai_call`) and ``scope()`` places it inside a traced agent turn (the
plugin's :func:`~maestro.adapters.adk.plugin.direct_call_scope`); every other request,
ADK's own model calls included, passes straight through. A recorded call is an LLM span
(``span_type = llm``) named ``{operation} {model}`` (operation ``embeddings`` or
``generate_content``) under the tool call or agent turn that made it, with the call's HTTP
body bytes and attempts (its own ledger) and tokens: the reported ones when the reply has
them (Vertex embeddings' ``statistics.token_count``), else estimated from the request's text
and flagged ``maestro.usage.estimated``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import SpanKind

from maestro import semconv as sc
from maestro.adapters import _common as common
from maestro.adapters.adk import extract
from maestro.collector.http import HttpLedger, bind_ledger, current_ledger
from maestro.collector.telemetry import RunTelemetry, SpanHandle

__all__ = ["install_genai_hook"]

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_INSTALLED = False


@dataclass
class _Call:
    """One recorded google-genai call in progress."""

    telemetry: RunTelemetry
    handle: SpanHandle
    ledger: HttpLedger
    previous_ledger: HttpLedger | None
    text: str
    """The request's text (for a token estimate)."""


def _open(scope: Callable[[], Any], client: Any, path: str, request: Any) -> _Call | None:
    """Open the call's span when it is one to record and ``scope()`` places it; else None."""
    try:
        kind = extract.genai_call(path, request)
        if kind is None:
            return None
        where = scope()
        if where is None:
            return None
        plugin, parent, agent = where
        operation, model = kind
        text = extract.genai_request_text(request)
        attrs = common.llm_attributes(model, extract.genai_provider(bool(getattr(client, "vertexai", False)),
                                                                     plugin.provider), agent)
        attrs[sc.GEN_AI_OPERATION_NAME] = operation
        if plugin.capture:
            attrs[sc.GEN_AI_INPUT_MESSAGES] = json.dumps([{"role": "user", "content": text}], ensure_ascii=False)
        previous = current_ledger()
        handle = plugin.t.start_span(f"{operation} {model}", attrs, parent, SpanKind.CLIENT)
        ledger = HttpLedger()
        bind_ledger(ledger)
        return _Call(plugin.t, handle, ledger, previous, text)
    except Exception:  # instrumentation must never break the user's tool
        log.exception("maestro adk: recording a google-genai call failed")
        return None


def _close(call: _Call, response: Any = None, error: BaseException | None = None) -> None:
    """End the call's span: bytes, attempts and tokens, or the error."""
    try:
        bind_ledger(call.previous_ledger)
        if error is not None:
            common.end_failed(call.telemetry, call.handle, error, sc.AgentFailureCategory.UPSTREAM,
                              common.ledger_attributes(call.ledger))
            return
        attrs = common.llm_end_attributes(call.ledger, extract.genai_usage(getattr(response, "body", None)),
                                          lambda: extract.estimate_genai_usage(call.text))
        call.telemetry.end_span(call.handle, attrs)
    except Exception:
        log.exception("maestro adk: recording a google-genai call failed")


def install_genai_hook(scope: Callable[[], Any]) -> bool:
    """Wrap google-genai's request methods once per process (see the module docstring).
    ``scope()`` returns ``(plugin, parent span, agent)`` for a call to record, else None.
    Returns False when google-genai's layout is not what this was written against (then
    nothing is changed and a warning is logged)."""
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return True
        try:
            from google.genai._api_client import BaseApiClient

            orig_request, orig_async = BaseApiClient.request, BaseApiClient.async_request
        except Exception:  # pragma: no cover - google-genai is a dependency of ADK
            log.warning("maestro adk: google-genai's BaseApiClient not found; image generation and embeddings "
                        "calls are not traced")
            return False

        def request(self, http_method, path, request_dict, http_options=None):
            call = _open(scope, self, path, request_dict)
            if call is None:
                return orig_request(self, http_method, path, request_dict, http_options)
            try:
                response = orig_request(self, http_method, path, request_dict, http_options)
            except BaseException as e:
                _close(call, error=e)
                raise
            _close(call, response)
            return response

        async def async_request(self, http_method, path, request_dict, http_options=None):
            call = _open(scope, self, path, request_dict)
            if call is None:
                return await orig_async(self, http_method, path, request_dict, http_options)
            try:
                response = await orig_async(self, http_method, path, request_dict, http_options)
            except BaseException as e:
                _close(call, error=e)
                raise
            _close(call, response)
            return response

        # Patched on the class, so every client (ADK's own included) goes through them.
        BaseApiClient.request = request  # type: ignore[method-assign]
        BaseApiClient.async_request = async_request  # type: ignore[method-assign]
        _INSTALLED = True
        return True
