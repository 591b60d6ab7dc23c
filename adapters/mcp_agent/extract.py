"""Pure extractors of the mcp-agent adapter: names, sizes, usage and wire bytes read from
mcp-agent's and the ``mcp`` package's objects. No span bookkeeping here (see ``hooks.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from maestro.tokens import END_OF_SEQUENCE_TOKENS, count_message_tokens, count_tokens

__all__ = [
    "START",
    "END",
    "agent_name",
    "payload_text",
    "payload_size",
    "usage_of",
    "estimate_usage",
    "finish_reasons",
    "response_model",
    "jsonrpc_request_size",
    "jsonrpc_response_size",
    "server_name_of",
    "tool_error_text",
    "tool_result_size",
    "tool_arguments",
    "messages_for_capture",
]

START = "__start__"
"""Edge source of a run's input (the caller of the outermost agent)."""
END = "__end__"
"""Edge target of a run's output."""


_GENERATED = re.compile(r"^(?P<prefix>.+)-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
"""A name mcp-agent made up for an unnamed LLM or workflow: ``<ClassName>-<uuid4>``."""


def _given(name: Any) -> str | None:
    return name if isinstance(name, str) and name and not _GENERATED.match(name) else None


def agent_name(llm: Any) -> str:
    """The name an ``AugmentedLLM`` (or workflow: Orchestrator, EvaluatorOptimizerLLM, ...)
    goes by: its own ``name`` (the name the Orchestrator plans with). An unnamed one, whose
    generated ``<ClassName>-<uuid>`` would differ in every run, goes by its agent's name (an
    ``EvaluatorOptimizerLLM``'s optimizer), else by its class name."""
    name = getattr(llm, "name", None)
    given = _given(name) or _given(getattr(getattr(llm, "agent", None), "name", None))
    if given:
        return given
    m = _GENERATED.match(name) if isinstance(name, str) else None
    return m.group("prefix") if m else type(llm).__name__


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", exclude_none=True)
        except Exception:  # a model that cannot dump in JSON mode: its plain dump
            return dump()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def payload_text(value: Any) -> str:
    """What an agent was given or returned, as text: a string as it is, a pydantic model
    (a structured result such as a ``Plan``) or a list of chat messages as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False, default=str)
    except Exception:  # anything unserialisable: its string form
        return str(value)


def payload_size(value: Any) -> int:
    """UTF-8 bytes of :func:`payload_text`."""
    return len(payload_text(value).encode("utf-8"))


def usage_of(response: Any) -> tuple[int, int, int] | None:
    """(input, output, total) tokens of an OpenAI ``ChatCompletion`` (None when it reported none)."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    i = int(getattr(usage, "prompt_tokens", 0) or 0)
    o = int(getattr(usage, "completion_tokens", 0) or 0)
    if i == 0 and o == 0:
        return None
    return i, o, int(getattr(usage, "total_tokens", 0) or (i + o))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) if isinstance(p, Mapping) else str(p) for p in content)
    return "" if content is None else str(content)


def estimate_usage(payload: Mapping[str, Any], response: Any) -> tuple[int, int, int]:
    """Tokens by maestro's rule (``maestro.tokens``) when the provider reported none: input
    from the request's messages and tool declarations, output from the first choice's text
    plus the end-of-sequence token."""
    pairs = []
    for m in payload.get("messages") or ():
        m = _jsonable(m)
        if isinstance(m, Mapping):
            pairs.append((str(m.get("role", "")), _content_text(m.get("content"))))
    i = count_message_tokens(pairs, payload.get("tools") or None)
    text = ""
    choices = getattr(response, "choices", None) or ()
    if choices:
        msg = getattr(choices[0], "message", None)
        text = _content_text(getattr(msg, "content", None))
        for call in getattr(msg, "tool_calls", None) or ():
            fn = getattr(call, "function", None)
            text += f"{getattr(fn, 'name', '')}{getattr(fn, 'arguments', '')}"
    o = count_tokens(text) + END_OF_SEQUENCE_TOKENS
    return i, o, i + o


def finish_reasons(response: Any) -> list[str]:
    """``finish_reason`` of every choice of a ``ChatCompletion`` ([] when none)."""
    return [str(c.finish_reason) for c in getattr(response, "choices", None) or () if getattr(c, "finish_reason", None)]


def response_model(response: Any) -> str | None:
    """The model the provider says answered (``ChatCompletion.model``)."""
    model = getattr(response, "model", None)
    return model if isinstance(model, str) and model else None


def _line_size(message: Any) -> int:
    # What the stdio transports of ``mcp`` write for one JSON-RPC message: the message's
    # JSON (by alias, without nulls) and a newline, UTF-8 encoded.
    return len(message.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8")) + 1


def jsonrpc_request_size(request: Any, request_id: int) -> int:
    """Bytes of the JSON-RPC line a ``ClientSession`` sends for ``request`` (a
    ``ClientRequest``) under ``request_id``, built the way ``mcp`` builds it."""
    from mcp.types import JSONRPCMessage, JSONRPCRequest

    data = request.model_dump(by_alias=True, mode="json", exclude_none=True)
    return _line_size(JSONRPCMessage(JSONRPCRequest(jsonrpc="2.0", id=request_id, **data)))


def jsonrpc_response_size(result: Any, request_id: int) -> int:
    """Bytes of the JSON-RPC response line that carried ``result`` (a pydantic result such
    as ``CallToolResult``) for ``request_id``, as an ``mcp`` server serialises it."""
    from mcp.types import JSONRPCMessage, JSONRPCResponse

    body = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    return _line_size(JSONRPCMessage(JSONRPCResponse(jsonrpc="2.0", id=request_id, result=body)))


def server_name_of(session: Any) -> str | None:
    """The configured name of the MCP server behind a client session (mcp-agent sets
    ``server_config`` on the sessions it opens); None for a bare ``ClientSession``."""
    config = getattr(session, "server_config", None)
    name = getattr(config, "name", None)
    return name if isinstance(name, str) and name else None


def tool_error_text(result: Any, limit: int = 500) -> str:
    """The first line of an ``isError`` tool result's text (at most ``limit`` characters)."""
    texts = [getattr(c, "text", "") for c in getattr(result, "content", None) or ()]
    line = next((t.strip().splitlines()[0] for t in texts if isinstance(t, str) and t.strip()), "tool reported an error")
    return line[:limit]


def tool_result_size(result: Any) -> int:
    """Bytes of a tool result's content as text (used when no JSON-RPC exchange was seen)."""
    return len(payload_text(getattr(result, "content", None) or []).encode("utf-8"))


def tool_arguments(request: Any) -> tuple[str, dict[str, Any]]:
    """(tool name, arguments) of an ``mcp`` ``CallToolRequest``."""
    params = getattr(request, "params", None)
    return str(getattr(params, "name", "") or ""), dict(getattr(params, "arguments", None) or {})


def messages_for_capture(messages: Sequence[Any] | None) -> str:
    """A request's messages as JSON (content capture only)."""
    return payload_text(list(messages or ()))
