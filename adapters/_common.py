"""What the three framework adapters share: guarded callbacks and the span attributes
whose rules do not depend on the framework (``maestro.adapters._common``).

Each adapter keeps its framework-specific extraction (model names, usage objects, message
shapes) in its own ``extract.py``; this module only turns the extracted values into
maestro's span attributes, so LLM, tool and failed spans read the same whichever adapter
wrote them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from opentelemetry.trace import SpanKind

from maestro import semconv as sc
from maestro.collector.http import HttpLedger, bind_ledger
from maestro.collector.telemetry import RunTelemetry, SpanHandle

__all__ = [
    "PROVIDER_ALIASES",
    "guarded",
    "guarded_async",
    "error_text",
    "failure_attributes",
    "end_failed",
    "agent_attributes",
    "llm_attributes",
    "tool_attributes",
    "tool_end_attributes",
    "start_llm_span",
    "ledger_attributes",
    "llm_end_attributes",
    "provider_alias",
]

PROVIDER_ALIASES = {
    # A framework's or router's spelling of a provider -> OTel GenAI ``gen_ai.provider.name``.
    # LangChain ``ls_provider`` values:
    "google_genai": "gcp.gemini",
    "google_vertexai": "gcp.vertex_ai",
    # LiteLLM ``<provider>/<model>`` prefixes:
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "mistral": "mistral_ai",
    "xai": "x_ai",
    # both:
    "openai": "openai",
    "azure": "azure.ai.openai",
    "anthropic": "anthropic",
    "groq": "groq",
    "ollama": "ollama",
    "deepseek": "deepseek",
    "cohere": "cohere",
}


def provider_alias(raw: str) -> str:
    """The OTel provider name for a framework's provider spelling; unknown ones unchanged."""
    return PROVIDER_ALIASES.get(raw, raw)


def guarded(label: str, logger: logging.Logger) -> Callable[[Callable], Callable]:
    """Decorator for a synchronous callback: an exception is logged (``"<label> <function>
    failed"``) and the callback returns None, so instrumentation never breaks user code."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception:  # instrumentation must never break the user's agents
                logger.exception("%s %s failed", label, fn.__name__)
                return None

        return wrapper

    return decorate


def guarded_async(label: str, logger: logging.Logger) -> Callable[[Callable], Callable]:
    """As :func:`guarded`, for a synchronous body exposed as an awaited callback (ADK's
    plugin hooks): the coroutine always returns None, so it never alters the framework's flow."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        async def wrapper(*args, **kwargs):
            try:
                fn(*args, **kwargs)
            except Exception:  # instrumentation must never break the user's agents
                logger.exception("%s %s failed", label, fn.__name__)
            return None

        return wrapper

    return decorate


def error_text(error: BaseException) -> str:
    """A span's error description: ``"<ExceptionType>: <message>"``."""
    return f"{type(error).__name__}: {error}"


def failure_attributes(category: sc.AgentFailureCategory, reason: str) -> dict[str, Any]:
    """``agent.failure.category`` and ``agent.failure.reason`` of a failed span."""
    return {sc.AGENT_FAILURE_CATEGORY: category.value, sc.AGENT_FAILURE_REASON: reason}


def end_failed(telemetry: RunTelemetry, handle: SpanHandle, error: BaseException, category: sc.AgentFailureCategory,
               attrs: dict[str, Any] | None = None) -> None:
    """End ``handle`` as failed by ``error``: ``attrs`` plus the failure category and the
    exception type as reason, error text ``"<type>: <message>"``."""
    attrs = dict(attrs or {})
    attrs.update(failure_attributes(category, type(error).__name__))
    telemetry.end_span(handle, attrs, error=error_text(error))


def agent_attributes(name: str) -> dict[str, Any]:
    """Start attributes of an ``invoke_agent <name>`` span."""
    return {
        sc.GEN_AI_OPERATION_NAME: sc.Operation.INVOKE_AGENT.value,
        sc.MAESTRO_SPAN_TYPE: sc.SpanType.AGENT.value,
        sc.GEN_AI_AGENT_NAME: name,
    }


def llm_attributes(model: str, provider: str | None, agent: str | None) -> dict[str, Any]:
    """Start attributes of a ``chat <model>`` span (provider and agent only when known)."""
    attrs: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.Operation.CHAT.value,
        sc.MAESTRO_SPAN_TYPE: sc.SpanType.LLM.value,
        sc.GEN_AI_REQUEST_MODEL: model,
    }
    if provider:
        attrs[sc.GEN_AI_PROVIDER_NAME] = provider
    if agent:
        attrs[sc.GEN_AI_AGENT_NAME] = agent
    attrs[sc.COMMUNICATION_IS_IN_PROCESS_CALL] = False
    return attrs


def tool_attributes(name: str, call_id: str, input_bytes: int, agent: str | None) -> dict[str, Any]:
    """Start attributes of an ``execute_tool <name>`` span (agent only when known)."""
    attrs: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.Operation.EXECUTE_TOOL.value,
        sc.MAESTRO_SPAN_TYPE: sc.SpanType.TOOL.value,
        sc.GEN_AI_TOOL_NAME: name,
        sc.GEN_AI_TOOL_TYPE: "function",
        sc.GEN_AI_TOOL_CALL_ID: call_id,
    }
    if agent:
        attrs[sc.GEN_AI_AGENT_NAME] = agent
    attrs[sc.COMMUNICATION_IS_IN_PROCESS_CALL] = True
    attrs[sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES] = input_bytes
    return attrs


def tool_end_attributes(handle: SpanHandle, output_bytes: int) -> dict[str, Any]:
    """End attributes of a tool span: output bytes, and input + output as the total."""
    return {
        sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: output_bytes,
        sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES:
            handle.attributes.get(sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES, 0) + output_bytes,
    }


def start_llm_span(telemetry: RunTelemetry, model: str, attrs: dict[str, Any],
                   parent: SpanHandle | None) -> tuple[SpanHandle, HttpLedger]:
    """Open the ``chat <model>`` CLIENT span and bind a fresh HTTP ledger to the current
    context, so the client's transport counts the call's bytes and attempts into it (the
    caller must start the call in this context and unbind when it ends)."""
    handle = telemetry.start_span(f"chat {model}", attrs, parent, SpanKind.CLIENT)
    ledger = HttpLedger()
    bind_ledger(ledger)
    return handle, ledger


def ledger_attributes(ledger: HttpLedger) -> dict[str, Any]:
    """HTTP body bytes (request, response, total), attempts and status codes of one LLM call,
    flagged ``maestro.bytes.observed = false`` when no HTTP request of it was seen."""
    return {
        sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES: ledger.request_bytes,
        sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: ledger.response_bytes,
        sc.COMMUNICATION_TOTAL_MESSAGE_SIZE_BYTES: ledger.request_bytes + ledger.response_bytes,
        sc.MAESTRO_HTTP_ATTEMPTS: ledger.attempts,
        sc.MAESTRO_HTTP_STATUS_CODES: list(ledger.status_codes),
        # What the endpoint says it is beats what the client library assumes.
        **({sc.GEN_AI_PROVIDER_NAME: ledger.provider} if ledger.provider else {}),
        # No request seen: the bytes are unknown, not zero.
        **({sc.MAESTRO_BYTES_OBSERVED: False} if ledger.attempts == 0 else {}),
    }


def llm_end_attributes(ledger: HttpLedger, usage: tuple[int, int, int] | None,
                       estimate: Callable[[], tuple[int, int, int]],
                       finish_reasons: list[str] | None = None,
                       response_model: str | None = None) -> dict[str, Any]:
    """End attributes of a completed LLM span.

    The ledger's HTTP figures; the provider's (input, output, total) ``usage``, or, when it
    reported none, ``estimate()`` flagged ``maestro.usage.estimated=true``; the finish
    reasons and the response model when present.
    """
    attrs = ledger_attributes(ledger)
    if usage is None:
        usage = estimate()
        attrs[sc.MAESTRO_USAGE_ESTIMATED] = True
    attrs[sc.GEN_AI_USAGE_INPUT_TOKENS], attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS], attrs[sc.GEN_AI_USAGE_TOTAL_TOKENS] = usage
    if finish_reasons:
        attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = finish_reasons
    if response_model:
        attrs[sc.GEN_AI_RESPONSE_MODEL] = response_model
    return attrs
