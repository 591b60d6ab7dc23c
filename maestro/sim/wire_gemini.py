"""Gemini REST (``generateContent``) wire format: parse into SimRequest, render outcomes.

Field names are accepted in camelCase and snake_case alike: the Gemini API's JSON parser
accepts both, and google-genai itself sends e.g. ``parameters_json_schema`` in snake_case.
"""

from __future__ import annotations

import base64
import io
import json
import random
import re
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
    "render_scene_png",
    "scene_elements",
    "predict_seconds",
    "IMAGE_SIZE",
    "IMAGE_GRID",
    "IMAGE_COLOURS",
    "IMAGE_SHAPES",
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


# --- :predict image generation: a small scene drawn from the prompt --------------------------
#
# The simulated image model reads its prompt the way a text-to-image model does: each
# "<count> <colour> <shape>" phrase (``two red circles``, ``a blue square``, ``triangles``)
# asks for elements to draw, ``on a <colour> background`` sets the background. What the
# prompt leaves open is drawn by the seeded rng (a shape without a colour gets a random
# colour, a plural without a count two or three elements), and the profile's reliability
# makes it miss: each element is, with probability ``(1 - accuracy) / 2``, either drawn in
# another colour (the profile's "wrong" share of its failure mix) or left out. Elements sit
# in the cells of a 3x3 grid, so they never overlap, on a 192x192 PNG (Pillow).

IMAGE_SIZE = 192
"""Width and height of every simulated image, in pixels."""
IMAGE_GRID = 3
"""Elements are drawn one per cell of an ``IMAGE_GRID`` x ``IMAGE_GRID`` grid (at most 9)."""
IMAGE_COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 38, 38), "orange": (245, 140, 20), "yellow": (245, 210, 30), "green": (40, 160, 70),
    "blue": (40, 90, 220), "purple": (140, 60, 190), "pink": (240, 120, 180), "brown": (130, 80, 40),
    "black": (20, 20, 20), "white": (255, 255, 255), "grey": (128, 128, 128), "gray": (128, 128, 128),
}
"""Colour words the image model knows, and the RGB it paints them in."""
IMAGE_SHAPES = ("circle", "square", "triangle")
"""Shape words the image model draws."""

_COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9}
_COLOUR_RE = "|".join(IMAGE_COLOURS)
_SHAPE_RE = "|".join(IMAGE_SHAPES)
_BACKGROUND_RE = re.compile(rf"\b(?:on\s+(?:an?\s+|the\s+)?(?:plain\s+|flat\s+|solid\s+)?)?({_COLOUR_RE})\s+background\b")
_ELEMENT_RE = re.compile(
    rf"\b(?:(\d+|{'|'.join(_COUNT_WORDS)})\s+)?(?:(?:small|large|big|bold|bright|flat|simple|solid)\s+)*"
    rf"(?:({_COLOUR_RE})\s+)?({_SHAPE_RE})(s|es)?\b")


def scene_elements(prompt: str) -> tuple[str, list[tuple[int | None, str | None, str, bool]]]:
    """What a prompt asks to draw: ``(background colour, [(count, colour, shape, plural)])``
    (count and colour None when the prompt leaves them open; background ``white`` by
    default)."""
    text = (prompt or "").lower()
    bg = "white"
    m = _BACKGROUND_RE.search(text)
    if m:
        bg = m.group(1)
        text = text[:m.start()] + " " + text[m.end():]
    out: list[tuple[int | None, str | None, str, bool]] = []
    for em in _ELEMENT_RE.finditer(text):
        count_word, colour, shape, plural = em.groups()
        count = None
        if count_word:
            count = int(count_word) if count_word.isdigit() else _COUNT_WORDS[count_word]
        out.append((count, colour, shape, bool(plural)))
    return bg, out


def _draw_shape(draw: Any, shape: str, cell: int, colour: tuple[int, int, int]) -> None:
    side = IMAGE_SIZE // IMAGE_GRID
    x0, y0 = (cell % IMAGE_GRID) * side, (cell // IMAGE_GRID) * side
    pad = side // 7
    box = (x0 + pad, y0 + pad, x0 + side - pad - 1, y0 + side - pad - 1)
    if shape == "circle":
        draw.ellipse(box, fill=colour)
    elif shape == "square":
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([((box[0] + box[2]) // 2, box[1]), (box[0], box[3]), (box[2], box[3])], fill=colour)


def render_scene_png(prompt: str, rng: Any, accuracy: float = 1.0, failure_mix: Any = None) -> bytes:
    """A PNG of what ``prompt`` asks for (see the section comment above), drawn with ``rng``
    in this order: per element (in prompt order) its count when left open, its colour when
    left open, its reliability draw (and failure mode, and wrong colour); then the cells."""
    from PIL import Image, ImageDraw  # only image generation needs Pillow

    bg_name, asked = scene_elements(prompt)
    bg = IMAGE_COLOURS[bg_name]
    others = [c for c in IMAGE_COLOURS if IMAGE_COLOURS[c] != bg and c != "gray"]
    p_miss = max(0.0, min(1.0, (1.0 - accuracy) / 2.0))
    drawn: list[tuple[str, tuple[int, int, int]]] = []
    for count, colour, shape, plural in asked:
        n = count if count is not None else (rng.randint(2, 3) if plural else 1)
        for _ in range(n):
            name = colour or rng.choice(others)
            if rng.random() < p_miss:
                mode = failure_mix.draw(rng) if failure_mix is not None else "empty"
                if mode != "wrong":
                    continue  # the element is left out
                name = rng.choice([c for c in others if IMAGE_COLOURS[c] != IMAGE_COLOURS.get(name)])
            drawn.append((shape, IMAGE_COLOURS[name]))
    drawn = drawn[: IMAGE_GRID * IMAGE_GRID]
    cells = rng.sample(range(IMAGE_GRID * IMAGE_GRID), len(drawn))
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), bg)
    draw = ImageDraw.Draw(image)
    for (shape, rgb), cell in zip(drawn, cells, strict=True):
        _draw_shape(draw, shape, cell, rgb)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def predict_seconds(body: Any, ttft_s: float) -> float:
    """Unscaled time the image model takes for ``body``: the profile's time to first token
    plus one second per image asked for (0 for embeddings)."""
    inst = body.get("instances") if isinstance(body, dict) else None
    if not isinstance(inst, list) or all(isinstance(x, dict) and "content" in x for x in inst):
        return 0.0
    n = _get(body.get("parameters") or {}, "sampleCount") or 1
    return ttft_s + float(n) * len(inst)


def render_predict(body: Any, profile: Any = None, seed: int = 0) -> dict[str, Any]:
    """Vertex ``:predict``: image generation (instances with ``prompt``) returns PNGs drawn
    from the prompt (:func:`render_scene_png`, with the rng of ``seed`` and ``profile``'s
    accuracy and failure mix; a perfect model when ``profile`` is None); text embedding
    (instances with ``content``) returns hashed vectors."""
    inst = body.get("instances") if isinstance(body, dict) else None
    if not isinstance(inst, list) or not inst:
        raise BadRequest("'instances' must be a non-empty array")
    params = body.get("parameters") or {}
    rng = random.Random(seed)
    accuracy = float(getattr(profile, "accuracy", 1.0))
    mix = getattr(profile, "failure_mix", None)
    preds: list[dict[str, Any]] = []
    for x in inst:
        if isinstance(x, dict) and "content" in x:
            text = str(x.get("content") or "")
            dims = _get(params, "outputDimensionality") or DEFAULT_DIMS
            preds.append({"embeddings": {"values": embed_text(text, dims), "statistics": {"token_count": count_tokens(text), "truncated": False}}})
            continue
        prompt = x.get("prompt") if isinstance(x, dict) else None
        if not isinstance(prompt, str):
            raise BadRequest("each image instance needs a string 'prompt'")
        n = _get(params, "sampleCount") or 1
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 8:
            raise BadRequest(f"parameters.sampleCount must be an integer from 1 to 8, got {n!r}")
        for _ in range(n):
            png = render_scene_png(prompt, rng, accuracy, mix)
            preds.append({"bytesBase64Encoded": base64.b64encode(png).decode("ascii"), "mimeType": "image/png"})
    return {"predictions": preds}
