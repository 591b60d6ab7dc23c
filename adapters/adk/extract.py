"""Pure functions that turn Google ADK objects into maestro span attributes.

Nothing here touches telemetry or keeps state: every function takes ADK / google-genai
objects (or plain values) and returns numbers, strings or dicts. They are unit-tested on
hand-built objects (``tests/adapters/adk/test_extract.py``) and never raise on odd input:
missing fields give ``None``/0/'' rather than errors, because they run inside callbacks
that must not break the user's agents.
"""

from __future__ import annotations

import json
import os
from typing import Any

from maestro.adapters._common import provider_alias
from maestro.tokens import END_OF_SEQUENCE_TOKENS, count_message_tokens, count_tokens

__all__ = [
    "TRANSFER_TOOL",
    "usage_of",
    "estimate_usage",
    "provider_name",
    "model_name",
    "content_text",
    "content_bytes",
    "json_bytes",
    "function_calls",
    "transfer_target",
    "is_output_event",
    "finish_reasons",
    "max_output_tokens",
    "messages_for_capture",
    "system_text",
    "genai_call",
    "genai_provider",
    "genai_request_text",
    "genai_usage",
    "estimate_genai_usage",
]

TRANSFER_TOOL = "transfer_to_agent"
"""Name of ADK's built-in hand-over function (recorded as a message edge, not a tool span)."""

_PROVIDER_BY_CLASS = {
    # ADK model classes whose provider is known from the class alone.
    "google.adk.models.google_llm.Gemini": "gcp.gemini",
    "google.adk.models.anthropic_llm.Claude": "gcp.vertex_ai",
    "google.adk.models.gemma_llm.Gemma": "gcp.gemini",
}



def _get(obj: Any, name: str, default: Any = None) -> Any:
    try:
        value = getattr(obj, name)
    except Exception:
        return default
    return default if value is None else value


def usage_of(usage: Any) -> tuple[int, int, int] | None:
    """``(input, output, total)`` tokens from a ``GenerateContentResponseUsageMetadata``.

    Output counts the candidates' tokens plus thinking tokens (both are billed as output).
    None when the provider reported nothing usable (no object, or both counts unset or 0).
    """
    if usage is None:
        return None
    prompt = _get(usage, "prompt_token_count")
    cand = _get(usage, "candidates_token_count")
    if not prompt and not cand:  # absent, or an all-zero placeholder: not a real count
        return None
    i = int(prompt or 0) + int(_get(usage, "tool_use_prompt_token_count", 0) or 0)
    o = int(cand or 0) + int(_get(usage, "thoughts_token_count", 0) or 0)
    return i, o, i + o


def content_text(content: Any) -> str:
    """The text parts of a ``types.Content`` joined with newlines (thoughts excluded)."""
    parts = _get(content, "parts", []) or []
    return "\n".join(p.text for p in parts if _get(p, "text") and not _get(p, "thought"))


def function_calls(content: Any) -> list[tuple[str, dict[str, Any], str]]:
    """``(name, args, id)`` of every function call in a ``types.Content``."""
    out = []
    for p in _get(content, "parts", []) or []:
        fc = _get(p, "function_call")
        if fc is not None and _get(fc, "name"):
            out.append((fc.name, dict(_get(fc, "args", {}) or {}), str(_get(fc, "id", "") or "")))
    return out


def json_bytes(value: Any) -> int:
    """UTF-8 bytes of ``value`` as sorted-key JSON (its ``str`` when not JSON-able)."""
    try:
        return len(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode())
    except Exception:
        return len(str(value).encode())


def content_bytes(content: Any) -> int:
    """Bytes an agent put on the conversation: UTF-8 text, plus the JSON of function calls
    and function responses. Binary parts count their raw data length."""
    total = 0
    for p in _get(content, "parts", []) or []:
        text = _get(p, "text")
        if text and not _get(p, "thought"):
            total += len(text.encode())
        fc = _get(p, "function_call")
        if fc is not None:
            total += json_bytes({"name": _get(fc, "name", ""), "args": _get(fc, "args", {})})
        fr = _get(p, "function_response")
        if fr is not None:
            total += json_bytes({"name": _get(fr, "name", ""), "response": _get(fr, "response", {})})
        blob = _get(p, "inline_data")
        if blob is not None:
            total += len(_get(blob, "data", b"") or b"")
    return total


def transfer_target(event: Any) -> str | None:
    """The agent an event hands control to (``event.actions.transfer_to_agent``), if any."""
    target = _get(_get(event, "actions"), "transfer_to_agent")
    return str(target) if target else None


def is_output_event(event: Any) -> bool:
    """True for a complete (non-partial) event that carries what its agent said: text or
    function calls, not only function responses (those are tool output)."""
    if _get(event, "partial"):
        return False
    content = _get(event, "content")
    if content is None:
        return False
    for p in _get(content, "parts", []) or []:
        if (_get(p, "text") and not _get(p, "thought")) or _get(p, "function_call") is not None:
            return True
    return False


def provider_name(model: Any, model_string: str | None = None, override: str | None = None) -> str:
    """``gen_ai.provider.name`` for a model call.

    ADK guesses the provider from the model string (a custom ``BaseLlm`` shows up as
    ``gcp.gemini``). maestro takes, in order: ``override`` (the endpoint's provider, e.g.
    ``maestro.sim``); a ``provider_name``/``provider`` string attribute of the model object;
    the ADK class (``Gemini`` -> ``gcp.gemini``, or ``gcp.vertex_ai`` in Vertex mode);
    LiteLLM's ``<provider>/<model>`` prefix; else ``unknown``.
    """
    if override:
        return override
    for attr in ("provider_name", "provider"):
        value = _get(model, attr)
        if isinstance(value, str) and value:
            return value
    if model is None or isinstance(model, str):
        return "unknown"
    cls = f"{type(model).__module__}.{type(model).__qualname__}"
    found = None
    for klass in type(model).__mro__:
        found = _PROVIDER_BY_CLASS.get(f"{klass.__module__}.{klass.__qualname__}")
        if found:
            break
    if found == "gcp.gemini" and os.environ.get("GOOGLE_GENAI_USE_VERTEXAI", "").lower() in ("1", "true"):
        return "gcp.vertex_ai"
    if found:
        return found
    if cls.endswith(".LiteLlm"):
        prefix = (model_string or _get(model, "model", "") or "").split("/", 1)[0]
        return provider_alias(prefix) if prefix else "unknown"
    return "unknown"


def model_name(llm_request: Any, model: Any = None) -> str:
    """The model a request asks for: ``llm_request.model``, else the model object's name."""
    name = _get(llm_request, "model")
    if name:
        return str(name)
    if isinstance(model, str) and model:
        return model
    return str(_get(model, "model", "") or "unknown")


def system_text(llm_request: Any) -> str:
    """The request's system instruction as plain text."""
    si = _get(_get(llm_request, "config"), "system_instruction")
    if si is None:
        return ""
    if isinstance(si, str):
        return si
    if isinstance(si, list):
        return "\n".join(x if isinstance(x, str) else content_text(x) for x in si)
    return content_text(si)


def _role(content: Any) -> str:
    role = _get(content, "role", "user")
    return "assistant" if role == "model" else str(role)


def _message_text(content: Any) -> str:
    """Everything a message carries, as the text a token count sees (text, calls, responses)."""
    pieces = []
    for p in _get(content, "parts", []) or []:
        text = _get(p, "text")
        if text and not _get(p, "thought"):
            pieces.append(text)
        fc = _get(p, "function_call")
        if fc is not None:
            pieces.append(json.dumps(_get(fc, "args", {}) or {}, sort_keys=True, default=str))
        fr = _get(p, "function_response")
        if fr is not None:
            pieces.append(json.dumps(_get(fr, "response", {}) or {}, sort_keys=True, default=str))
    return "\n".join(pieces)


def _tool_declarations(llm_request: Any) -> list[dict[str, Any]]:
    decls = []
    for tool in _get(_get(llm_request, "config"), "tools", []) or []:
        for fd in _get(tool, "function_declarations", []) or []:
            try:
                decls.append(fd.model_dump(mode="json", exclude_none=True))
            except Exception:
                decls.append({"name": str(_get(fd, "name", ""))})
    return decls


def estimate_usage(llm_request: Any, response_content: Any) -> tuple[int, int, int]:
    """``(input, output, total)`` by maestro's token rule, for providers that report none.

    Input: the system instruction and every request message (role + text/calls/responses)
    plus the tool declarations; output: the reply's text and function-call arguments plus
    the end-of-sequence token.
    """
    messages = []
    system = system_text(llm_request)
    if system:
        messages.append(("system", system))
    for c in _get(llm_request, "contents", []) or []:
        messages.append((_role(c), _message_text(c)))
    i = count_message_tokens(messages, _tool_declarations(llm_request) or None)
    o = count_tokens(content_text(response_content)) + END_OF_SEQUENCE_TOKENS
    for _, args, _ in function_calls(response_content):
        o += count_tokens(json.dumps(args, sort_keys=True, default=str))
    return i, o, i + o


def finish_reasons(llm_response: Any) -> list[str]:
    """``[reason]`` in lower case (``stop``, ``max_tokens`` ...), or [] when absent."""
    reason = _get(llm_response, "finish_reason")
    if reason is None:
        return []
    name = getattr(reason, "name", None) or str(reason)
    return [name.lower()]


def max_output_tokens(llm_request: Any) -> int | None:
    """The request's output-token cap, if set."""
    value = _get(_get(llm_request, "config"), "max_output_tokens")
    return int(value) if value else None


def messages_for_capture(llm_request: Any) -> str:
    """The request's messages as JSON (only used when content capture is on)."""
    msgs = [{"role": _role(c), "content": _message_text(c)} for c in _get(llm_request, "contents", []) or []]
    return json.dumps(msgs, ensure_ascii=False)


_GENAI_METHODS = ("predict", "embedContent", "batchEmbedContents")
"""google-genai REST methods whose calls no ADK model callback sees: Vertex ``:predict``
(image generation, text embeddings) and the Gemini API's embeddings."""


def genai_call(path: str, request: Any) -> tuple[str, str] | None:
    """``(operation, model)`` of a google-genai request to record as an LLM call of its own:
    ``generate_content`` for image generation (``:predict`` with prompts), ``embeddings``
    for ``:embedContent``, ``:batchEmbedContents`` and ``:predict`` with contents (Vertex
    text embeddings). None for every other request (ADK's model calls among them)."""
    head, _, method = str(path).partition("?")[0].rpartition(":")
    if method not in _GENAI_METHODS:
        return None
    model = head.rsplit("models/", 1)[-1] or "unknown"
    if method != "predict":
        return "embeddings", model
    instances = request.get("instances") if isinstance(request, dict) else None
    embeds = any(isinstance(i, dict) and "content" in i for i in instances or [])
    return ("embeddings" if embeds else "generate_content"), model


def genai_provider(vertexai: bool, override: str | None = None) -> str:
    """``gen_ai.provider.name`` of a google-genai call: ``override``, else by the client's mode."""
    return override or ("gcp.vertex_ai" if vertexai else "gcp.gemini")


def genai_request_text(request: Any) -> str:
    """The text a google-genai request sends (prompts and contents, any depth), one piece a line."""
    pieces: list[str] = []

    def walk(value: Any, key: str | None = None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in ("text", "prompt", "content"):
            pieces.append(value)

    walk(request)
    return "\n".join(pieces)


def genai_usage(body: Any) -> tuple[int, int, int] | None:
    """Tokens a ``:predict`` reply reports (Vertex text embeddings: each prediction's
    ``statistics.token_count``) as ``(input, 0, input)``; None when it reports none (image
    generation, the Gemini API's embeddings)."""
    if not isinstance(body, str) or "token_count" not in body:
        return None
    try:
        predictions = json.loads(body).get("predictions") or []
        tokens = sum(int(p["embeddings"]["statistics"]["token_count"]) for p in predictions)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return (tokens, 0, tokens) if tokens else None


def estimate_genai_usage(text: str) -> tuple[int, int, int]:
    """``(input, 0, input)`` by maestro's token rule for a call whose reply is not text
    (embeddings, images): the request's text in, no tokens out."""
    n = count_tokens(text)
    return n, 0, n
