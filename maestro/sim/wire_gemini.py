"""Gemini REST (``generateContent``) wire format: parse into SimRequest, render outcomes.

Field names are accepted in camelCase and snake_case alike: the Gemini API's JSON parser
accepts both, and google-genai itself sends e.g. ``parameters_json_schema`` in snake_case.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from typing import Any

from maestro.sim.embeddings import DEFAULT_DIMS, embed_text
from maestro.sim.engine import BadRequest, SimOutcome
from maestro.sim.policy import SimMessage, SimRequest, SimTool, SimToolCall
from maestro.sim.synth import split_for_stream
from maestro.tokens import count_tokens

__all__ = [
    "parse_generate",
    "render_generate",
    "stream_generate",
    "normalize_schema",
    "error_body",
    "render_embed_content",
    "render_batch_embed",
    "render_predict",
    "GEMINI_FINISH",
]

GEMINI_FINISH = {"stop": "STOP", "tool_calls": "STOP", "length": "MAX_TOKENS", "content_filter": "SAFETY"}
"""OpenAI finish reasons (the engine's vocabulary) to Gemini's."""

_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 413: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def error_body(code: int, message: str) -> dict[str, Any]:
    """Google's error shape."""
    return {"error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _get(d: Any, camel: str, default: Any = None) -> Any:
    """``d[camel]`` or ``d[snake_case(camel)]``."""
    if not isinstance(d, dict):
        return default
    if camel in d:
        return d[camel]
    return d.get(_snake(camel), default)


_SCHEMA_DROP = {"propertyOrdering", "property_ordering", "nullable"}
_SCHEMA_KEYS = {"any_of": "anyOf", "min_items": "minItems", "max_items": "maxItems", "min_length": "minLength",
                "max_length": "maxLength"}


def normalize_schema(schema: Any) -> Any:
    """Gemini ``Schema`` to JSON schema: lower-case types, ``nullable`` to a null type,
    ordering hints dropped; plain JSON schemas pass through unchanged."""
    if isinstance(schema, list):
        return [normalize_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for k, v in schema.items():
        if k in _SCHEMA_DROP:
            continue
        key = _SCHEMA_KEYS.get(str(k), str(k))
        if key == "type" and isinstance(v, str):
            out[key] = v.lower()
        elif key == "properties" and isinstance(v, dict):
            out[key] = {pk: normalize_schema(pv) for pk, pv in v.items()}
        elif key in ("items", "anyOf"):
            out[key] = normalize_schema(v)
        else:
            out[key] = v
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _parts_text(parts: Any) -> str:
    texts = []
    for p in parts or []:
        if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought"):
            texts.append(p["text"])
    return "\n".join(texts)


def _system(si: Any) -> str:
    if si is None:
        return ""
    if isinstance(si, str):
        return si
    if isinstance(si, dict):
        return _parts_text(si.get("parts"))
    if isinstance(si, list):
        return "\n".join(_system(x) for x in si)
    raise BadRequest("systemInstruction must be a Content object")


def _messages(contents: Any, system: str) -> list[SimMessage]:
    if isinstance(contents, dict):
        contents = [contents]
    if not isinstance(contents, list) or not contents:
        raise BadRequest("'contents' must be a non-empty array")
    msgs: list[SimMessage] = [SimMessage("system", system)] if system else []
    call_ids: dict[str, str] = {}  # function name -> id of its latest call (to pair responses without ids)
    for i, c in enumerate(contents):
        if isinstance(c, str):
            msgs.append(SimMessage("user", c))
            continue
        if not isinstance(c, dict):
            raise BadRequest(f"contents[{i}] must be an object")
        role = c.get("role") or "user"
        parts = c.get("parts") or []
        if not isinstance(parts, list):
            raise BadRequest(f"contents[{i}].parts must be an array")
        text = _parts_text(parts)
        if role == "model":
            calls = []
            for p in parts:
                fc = _get(p, "functionCall")
                if isinstance(fc, dict) and isinstance(fc.get("name"), str):
                    call = SimToolCall(fc["name"], fc.get("args") or {}, str(fc.get("id") or ""))
                    calls.append(call)
                    if call.id:
                        call_ids[call.name] = call.id
            msgs.append(SimMessage("assistant", text, tuple(calls)))
            continue
        for p in parts:
            fr = _get(p, "functionResponse")
            if isinstance(fr, dict) and isinstance(fr.get("name"), str):
                resp = fr.get("response")
                content = resp if isinstance(resp, str) else json.dumps(resp, sort_keys=True, ensure_ascii=False)
                cid = fr.get("id") or call_ids.get(fr["name"])
                msgs.append(SimMessage("tool", content, tool_call_id=str(cid) if cid else None, name=fr["name"]))
        has_response = any(isinstance(_get(p, "functionResponse"), dict) for p in parts)
        if text or not has_response:
            msgs.append(SimMessage("tool" if role in ("function", "tool") else "user", text))
    return msgs


def parse_generate(body: Any, model: str) -> SimRequest:
    """Normalise a ``:generateContent`` body (``model`` comes from the URL). Raises BadRequest."""
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    messages = _messages(body.get("contents"), _system(_get(body, "systemInstruction")))
    tools: list[SimTool] = []
    for t in body.get("tools") or []:
        # Model-side tools ({"googleSearch": {}}, codeExecution, urlContext, ...) are
        # accepted and ignored: the simulated model never "uses" them.
        for fd in _get(t, "functionDeclarations") or []:
            if not isinstance(fd, dict) or not isinstance(fd.get("name"), str):
                raise BadRequest("every function declaration needs a string 'name'")
            params = _get(fd, "parametersJsonSchema")
            if params is None:
                params = normalize_schema(fd.get("parameters"))
            tools.append(SimTool(fd["name"], str(fd.get("description") or ""), params or {"type": "object", "properties": {}}))
    fcc = _get(_get(body, "toolConfig") or {}, "functionCallingConfig") or {}
    mode = str(fcc.get("mode") or "").upper()
    allowed = _get(fcc, "allowedFunctionNames") or []
    tool_choice: str | None
    if mode == "ANY":
        tool_choice = allowed[0] if len(allowed) == 1 else "required"
    elif mode == "NONE":
        tool_choice = "none"
    elif mode in ("AUTO", "VALIDATED"):
        tool_choice = "auto"
    else:
        tool_choice = None
    gc = _get(body, "generationConfig") or {}
    schema = _get(gc, "responseJsonSchema")
    if schema is None and _get(gc, "responseSchema") is not None:
        schema = normalize_schema(_get(gc, "responseSchema"))
    if schema is None and _get(gc, "responseMimeType") == "application/json":
        schema = {"type": "object"}
    max_tokens = _get(gc, "maxOutputTokens")
    n = _get(gc, "candidateCount") or 1
    for name, v, lo in (("maxOutputTokens", max_tokens, 0), ("candidateCount", n, 1)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < lo):
            raise BadRequest(f"generationConfig.{name} must be an integer >= {lo}, got {v!r}")
    if n > 16:
        raise BadRequest("generationConfig.candidateCount must be at most 16")
    return SimRequest(
        protocol="gemini",
        model=model,
        messages=tuple(messages),
        tools=tuple(tools),
        tool_choice=tool_choice,
        response_schema=schema,
        max_tokens=max_tokens,
        n=n,
        stream=False,
    )


def _usage(out: SimOutcome) -> dict[str, int]:
    return {
        "promptTokenCount": out.prompt_tokens,
        "candidatesTokenCount": out.completion_tokens,
        "totalTokenCount": out.total_tokens,
    }


def _call_parts(calls: tuple[SimToolCall, ...]) -> list[dict[str, Any]]:
    return [{"functionCall": {"name": tc.name, "args": tc.arguments, "id": tc.id}} for tc in calls]


def render_generate(out: SimOutcome) -> dict[str, Any]:
    """A ``GenerateContentResponse``."""
    cands = []
    for c in out.choices:
        parts: list[dict[str, Any]] = []
        if c.text or not c.tool_calls:
            parts.append({"text": c.text or ""})
        parts.extend(_call_parts(c.tool_calls))
        cands.append(
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": GEMINI_FINISH.get(c.finish_reason, "STOP"),
                "index": c.index,
            }
        )
    return {
        "candidates": cands,
        "usageMetadata": _usage(out),
        "modelVersion": out.request.model,
        "responseId": out.response_id,
    }


def stream_generate(out: SimOutcome) -> list[tuple[dict[str, Any], bool]]:
    """The chunks of ``:streamGenerateContent`` as ``(chunk, carries_content)`` pairs.

    Each candidate's text comes in at most 8 pieces; its function calls and finishReason
    ride on its last chunk; usageMetadata on the very last chunk.
    """
    head = {"modelVersion": out.request.model, "responseId": out.response_id}
    events: list[tuple[dict[str, Any], bool]] = []
    for c in out.choices:
        pieces = split_for_stream(c.text or "") or [""]
        for k, piece in enumerate(pieces):
            last = k == len(pieces) - 1
            parts: list[dict[str, Any]] = [{"text": piece}] if (piece or not c.tool_calls) else []
            cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": c.index}
            if last:
                parts.extend(_call_parts(c.tool_calls))
                cand["finishReason"] = GEMINI_FINISH.get(c.finish_reason, "STOP")
            events.append(({"candidates": [cand], **head}, bool(piece) or (last and bool(c.tool_calls))))
    if events:
        events[-1][0]["usageMetadata"] = _usage(out)
    return events


# --- embeddings and :predict ---------------------------------------------------------------


def _embed_one(req: Any) -> tuple[list[float], int]:
    if not isinstance(req, dict):
        raise BadRequest("each embed request must be an object")
    content = req.get("content")
    text = _parts_text(content.get("parts")) if isinstance(content, dict) else str(content or "")
    dims = _get(req, "outputDimensionality") or DEFAULT_DIMS
    return embed_text(text, dims), count_tokens(text)


def render_embed_content(body: Any) -> dict[str, Any]:
    """``:embedContent``."""
    vec, _ = _embed_one(body)
    return {"embedding": {"values": vec}}


def render_batch_embed(body: Any) -> dict[str, Any]:
    """``:batchEmbedContents``."""
    reqs = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(reqs, list) or not reqs:
        raise BadRequest("'requests' must be a non-empty array")
    return {"embeddings": [{"values": _embed_one(r)[0]} for r in reqs]}


def _png_1x1() -> bytes:
    """A valid 1x1 transparent PNG, built here rather than pasted as opaque bytes."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)  # width, height, 8-bit RGBA
    idat = zlib.compress(b"\x00" + b"\x00\x00\x00\x00")  # filter byte + one transparent pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


_PNG_1X1 = base64.b64encode(_png_1x1()).decode("ascii")


def render_predict(body: Any) -> dict[str, Any]:
    """Vertex ``:predict``: image generation (instances with ``prompt``) returns tiny PNGs,
    text embedding (instances with ``content``) returns hashed vectors."""
    inst = body.get("instances") if isinstance(body, dict) else None
    if not isinstance(inst, list) or not inst:
        raise BadRequest("'instances' must be a non-empty array")
    params = body.get("parameters") or {}
    preds: list[dict[str, Any]] = []
    for x in inst:
        if isinstance(x, dict) and "content" in x:
            text = str(x.get("content") or "")
            dims = _get(params, "outputDimensionality") or DEFAULT_DIMS
            preds.append({"embeddings": {"values": embed_text(text, dims), "statistics": {"token_count": count_tokens(text), "truncated": False}}})
        else:
            n = _get(params, "sampleCount") or 1
            preds.extend({"bytesBase64Encoded": _PNG_1X1, "mimeType": "image/png"} for _ in range(int(n)))
    return {"predictions": preds}
