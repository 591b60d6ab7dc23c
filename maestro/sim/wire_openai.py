"""OpenAI chat-completions and embeddings wire format: parse into SimRequest, render outcomes."""

from __future__ import annotations

import json
import time
from typing import Any

from maestro.sim.embeddings import DEFAULT_DIMS, embed_text, encode_base64
from maestro.sim.engine import BadRequest, SimOutcome
from maestro.sim.policy import SimMessage, SimRequest, SimTool, SimToolCall
from maestro.sim.synth import split_for_stream
from maestro.tokens import count_tokens

__all__ = [
    "BadRequest",
    "parse_chat",
    "render_chat",
    "stream_chat",
    "render_embeddings",
    "error_body",
    "MAX_N",
]

MAX_N = 16
"""Largest ``n`` accepted (keeps a single request cheap)."""

_ROLE_MAP = {"developer": "system", "function": "tool"}


def error_body(message: str, type_: str = "invalid_request_error", code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _content_text(content: Any) -> str:
    """String content, or the text parts of list-of-parts content joined with newlines."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, dict) and isinstance(part.get("refusal"), str):
                texts.append(part["refusal"])
        return "\n".join(texts)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    raise BadRequest(f"unsupported message content of type {type(content).__name__}")


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if raw in (None, ""):
        return {}
    try:
        val = json.loads(raw)
    except (TypeError, ValueError):
        return {"_raw": str(raw)}  # keep what the client sent rather than rejecting the request
    return val if isinstance(val, dict) else {"value": val}


def _int_field(body: dict[str, Any], name: str, lo: int, hi: int | None = None) -> int | None:
    v = body.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise BadRequest(f"'{name}' must be an integer {rng}, got {v!r}")
    return v


def parse_chat(body: Any) -> SimRequest:
    """Normalise a ``/v1/chat/completions`` body. Raises :class:`BadRequest`."""
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    raw_msgs = body.get("messages")
    if not isinstance(raw_msgs, list) or not raw_msgs:
        raise BadRequest("'messages' must be a non-empty array")
    messages: list[SimMessage] = []
    call_names: dict[str, str] = {}  # tool_call_id -> function name, to name tool results
    for i, m in enumerate(raw_msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise BadRequest(f"messages[{i}] must be an object with a string 'role'")
        given: str = m["role"]
        role = _ROLE_MAP.get(given, given)
        calls: list[SimToolCall] = []
        for tc in m.get("tool_calls") or []:
            fn = (tc or {}).get("function") or {}
            if not isinstance(fn.get("name"), str):
                raise BadRequest(f"messages[{i}].tool_calls entries need function.name")
            call = SimToolCall(name=fn["name"], arguments=_arguments(fn.get("arguments")), id=str(tc.get("id") or ""))
            calls.append(call)
            if call.id:
                call_names[call.id] = call.name
        fc = m.get("function_call")  # legacy single function call
        if isinstance(fc, dict) and isinstance(fc.get("name"), str):
            calls.append(SimToolCall(name=fc["name"], arguments=_arguments(fc.get("arguments"))))
        tcid = m.get("tool_call_id")
        name = m.get("name")
        if role == "tool" and not name and tcid in call_names:
            name = call_names[tcid]
        messages.append(
            SimMessage(
                role=role,
                content=_content_text(m.get("content")),
                tool_calls=tuple(calls),
                tool_call_id=str(tcid) if tcid is not None else None,
                name=str(name) if name else None,
            )
        )
    tools: list[SimTool] = []
    for t in body.get("tools") or []:
        if not isinstance(t, dict) or t.get("type", "function") != "function":
            continue  # non-function tools (e.g. provider built-ins) are accepted and ignored
        fn = t.get("function") or {}
        if not isinstance(fn.get("name"), str):
            raise BadRequest("every function tool needs function.name")
        tools.append(
            SimTool(
                name=fn["name"],
                description=str(fn.get("description") or ""),
                parameters=fn.get("parameters") or {"type": "object", "properties": {}},
            )
        )
    for f in body.get("functions") or []:  # legacy 'functions'
        if isinstance(f, dict) and isinstance(f.get("name"), str):
            tools.append(SimTool(f["name"], str(f.get("description") or ""), f.get("parameters") or {"type": "object", "properties": {}}))
    tool_choice = _tool_choice(body.get("tool_choice", body.get("function_call")))
    schema = _response_schema(body.get("response_format"))
    max_tokens = _int_field(body, "max_completion_tokens", 0)
    if max_tokens is None:
        max_tokens = _int_field(body, "max_tokens", 0)
    n = _int_field(body, "n", 1, MAX_N) or 1
    return SimRequest(
        protocol="openai",
        model=str(body.get("model") or ""),
        messages=tuple(messages),
        tools=tuple(tools),
        tool_choice=tool_choice,
        response_schema=schema,
        max_tokens=max_tokens,
        n=n,
        stream=bool(body.get("stream")),
    )


def _tool_choice(tc: Any) -> str | None:
    if tc is None:
        return None
    if isinstance(tc, str):
        if tc not in ("auto", "none", "required"):
            raise BadRequest(f"tool_choice must be 'auto', 'none', 'required' or an object, got {tc!r}")
        return tc
    if isinstance(tc, dict):
        fn = tc.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            return fn["name"]
        if isinstance(tc.get("name"), str):  # legacy function_call={"name": ...}
            return tc["name"]
        if tc.get("type") == "allowed_tools":
            mode = (tc.get("allowed_tools") or {}).get("mode", "auto")
            return "required" if mode == "required" else "auto"
    raise BadRequest(f"unsupported tool_choice {tc!r}")


def _response_schema(rf: Any) -> dict[str, Any] | None:
    if rf is None:
        return None
    if not isinstance(rf, dict):
        raise BadRequest("response_format must be an object")
    kind = rf.get("type")
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        js = rf.get("json_schema") or {}
        schema = js.get("schema")
        return schema if isinstance(schema, dict) and schema else {"type": "object"}
    raise BadRequest(f"unsupported response_format type {kind!r}")


def _fingerprint(out: SimOutcome) -> str:
    return f"maestro-sim/{out.profile.name}/{out.policy_name}"


def _usage(out: SimOutcome) -> dict[str, int]:
    return {"prompt_tokens": out.prompt_tokens, "completion_tokens": out.completion_tokens, "total_tokens": out.total_tokens}


def _wire_calls(calls: tuple[SimToolCall, ...]) -> list[dict[str, Any]]:
    return [
        {"id": tc.id, "type": "function", "function": {"name": tc.name, "arguments": json.dumps(tc.arguments, ensure_ascii=False)}}
        for tc in calls
    ]


def render_chat(out: SimOutcome) -> dict[str, Any]:
    """A ``chat.completion`` object."""
    choices = []
    for c in out.choices:
        msg: dict[str, Any] = {"role": "assistant", "content": c.text if (c.text or not c.tool_calls) else None, "refusal": None}
        if msg["content"] is None and not c.tool_calls:
            msg["content"] = ""
        if c.tool_calls:
            msg["tool_calls"] = _wire_calls(c.tool_calls)
        choices.append({"index": c.index, "message": msg, "logprobs": None, "finish_reason": c.finish_reason})
    return {
        "id": "chatcmpl-" + out.response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": out.request.model,
        "system_fingerprint": _fingerprint(out),
        "choices": choices,
        "usage": _usage(out),
    }


def stream_chat(out: SimOutcome, include_usage: bool) -> list[tuple[dict[str, Any], bool]]:
    """The SSE chunks of a streamed reply as ``(chunk, carries_content)`` pairs.

    The server spreads the generation delay over the content-carrying chunks. Content is cut
    into at most 8 pieces per choice so streaming stays cheap.
    """
    created = int(time.time())
    head = {
        "id": "chatcmpl-" + out.response_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": out.request.model,
        "system_fingerprint": _fingerprint(out),
    }

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        d = {**head, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if include_usage:
            d["usage"] = None  # as OpenAI does: null on every chunk but the last
        return d

    events: list[tuple[dict[str, Any], bool]] = []
    for c in out.choices:
        events.append((chunk(c.index, {"role": "assistant", "content": "", "refusal": None}), False))
        for piece in split_for_stream(c.text or ""):
            events.append((chunk(c.index, {"content": piece}), True))
        for k, tc in enumerate(c.tool_calls):
            events.append(
                (
                    chunk(c.index, {"tool_calls": [{"index": k, "id": tc.id, "type": "function", "function": {"name": tc.name, "arguments": ""}}]}),
                    False,
                )
            )
            args = json.dumps(tc.arguments, ensure_ascii=False)
            half = len(args) // 2
            for piece in (args[:half], args[half:]):
                if piece:
                    events.append((chunk(c.index, {"tool_calls": [{"index": k, "function": {"arguments": piece}}]}), True))
        events.append((chunk(c.index, {}, c.finish_reason), False))
    if include_usage:
        events.append(({**head, "choices": [], "usage": _usage(out)}, False))
    return events


def render_embeddings(body: Any) -> dict[str, Any]:
    """A ``/v1/embeddings`` response (deterministic hashed vectors, usage by the rule)."""
    if not isinstance(body, dict) or "input" not in body:
        raise BadRequest("'input' is required")
    raw = body["input"]
    if isinstance(raw, str):
        items: list[Any] = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        items = [raw]  # one pre-tokenised input
    elif isinstance(raw, list):
        items = raw
    else:
        raise BadRequest("'input' must be a string, an array of strings or token arrays")
    if not items:
        raise BadRequest("'input' must not be empty")
    dims = _int_field(body, "dimensions", 1, 8192) or DEFAULT_DIMS
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise BadRequest(f"unsupported encoding_format {fmt!r}")
    data = []
    total = 0
    for i, item in enumerate(items):
        if isinstance(item, str):
            text, ntok = item, count_tokens(item)
        elif isinstance(item, list) and all(isinstance(x, int) for x in item):
            text, ntok = " ".join(map(str, item)), len(item)
        else:
            raise BadRequest(f"input[{i}] must be a string or an array of token ids")
        total += ntok
        vec = embed_text(text, dims)
        data.append({"object": "embedding", "index": i, "embedding": encode_base64(vec) if fmt == "base64" else vec})
    return {
        "object": "list",
        "data": data,
        "model": str(body.get("model") or ""),
        "usage": {"prompt_tokens": total, "total_tokens": total},
    }
