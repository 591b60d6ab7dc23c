"""Pure extractors from LangChain/LangGraph callback arguments to schema values.

No state, no telemetry: each function takes what a callback receives and returns plain
values, so each is unit-tested on its own.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from maestro import semconv as sc
from maestro.adapters._common import provider_alias
from maestro.tokens import END_OF_SEQUENCE_TOKENS, count_message_tokens, count_tokens

__all__ = [
    "BATCH_INDEX",
    "PATH_SEPARATOR",
    "node_of",
    "node_path",
    "batch_attributes",
    "is_graph_node",
    "model_name",
    "provider_name",
    "usage_of",
    "tool_schemas",
    "estimate_usage",
    "exception_attributes",
    "finish_reasons",
    "response_model",
    "serialised_size",
    "to_jsonable",
    "messages_for_capture",
    "output_text",
    "annotation_attributes",
]

BATCH_INDEX = "maestro.batch.index"
"""Config metadata key, and span attribute, numbering the inputs of one ``batch`` call (0-based)."""

PATH_SEPARATOR = "/"
"""Joins a subgraph's node to the node that runs the subgraph: ``outer/agent/tools``."""


def is_graph_node(metadata: Mapping[str, Any] | None, tags: Sequence[str] | None) -> bool:
    """True for a LangGraph node execution (not a routing function or inner runnable).

    Real nodes carry a ``graph:step:N`` tag; routing functions carry ``seq:step:N`` and
    inherit the parent node's ``langgraph_node`` metadata, so metadata alone is not enough.
    """
    if not metadata or "langgraph_node" not in metadata:
        return False
    return any(t.startswith("graph:step:") for t in (tags or ()))


def node_of(metadata: Mapping[str, Any]) -> tuple[str, int | None]:
    """(node name, superstep) from a node's callback metadata."""
    step = metadata.get("langgraph_step")
    return str(metadata["langgraph_node"]), int(step) if step is not None else None


def node_path(container: str | None, node: str) -> str:
    """A node's identity: its name under the path of the node running its (sub)graph
    (``container``; None for the top-level graph), so nodes of different graphs never merge."""
    return f"{container}{PATH_SEPARATOR}{node}" if container else node


def batch_attributes(metadata: Mapping[str, Any] | None) -> dict[str, int]:
    """``{maestro.batch.index: i}`` for a callback of input ``i`` of a ``batch`` call, else {}."""
    index = (metadata or {}).get(BATCH_INDEX)
    return {BATCH_INDEX: index} if isinstance(index, int) else {}


def model_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any], metadata: Mapping[str, Any] | None) -> str | None:
    """Requested model from invocation params, LangSmith metadata or the serialised model."""
    params = kwargs.get("invocation_params") or {}
    for key in ("model", "model_name", "model_id"):
        if params.get(key):
            return str(params[key])
    if metadata and metadata.get("ls_model_name"):
        return str(metadata["ls_model_name"])
    if serialized:
        kw = serialized.get("kwargs") or {}
        for key in ("model", "model_name"):
            if kw.get(key):
                return str(kw[key])
    return None


def provider_name(metadata: Mapping[str, Any] | None, default: str | None = None) -> str | None:
    """``gen_ai.provider.name`` from LangSmith's ``ls_provider`` metadata."""
    if default:
        return default
    raw = (metadata or {}).get("ls_provider")
    return provider_alias(raw) if raw else None


def _first_generation(result: Any):
    gens = getattr(result, "generations", None) or []
    if gens and gens[0]:
        return gens[0][0]
    return None


def usage_of(result: Any) -> tuple[int, int, int] | None:
    """(input, output, total) tokens reported by the provider, or None when absent.

    LangChain puts usage at ``generations[0][0].message.usage_metadata`` whether or not
    the call streamed (``llm_output`` is None when streaming).
    """
    gen = _first_generation(result)
    msg = getattr(gen, "message", None)
    usage = getattr(msg, "usage_metadata", None)
    if usage:
        i, o = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
        if i or o:
            return i, o, int(usage.get("total_tokens") or i + o)
    llm_output = getattr(result, "llm_output", None) or {}
    tu = llm_output.get("token_usage") or {}
    if tu.get("prompt_tokens") or tu.get("completion_tokens"):
        i, o = int(tu.get("prompt_tokens") or 0), int(tu.get("completion_tokens") or 0)
        return i, o, int(tu.get("total_tokens") or i + o)
    return None


def output_text(result: Any) -> str:
    """Text of all generations (tool-call arguments included), for estimation/capture."""
    parts: list[str] = []
    for gens in getattr(result, "generations", None) or []:
        for g in gens:
            msg = getattr(g, "message", None)
            content = getattr(msg, "content", None) if msg is not None else getattr(g, "text", "")
            if isinstance(content, list):
                content = " ".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
            parts.append(str(content or ""))
            for call in getattr(msg, "tool_calls", None) or []:
                parts.append(json.dumps(call.get("args", {}), default=str))
    return "\n".join(parts)


def _message_pairs(messages: Any) -> list[tuple[str, str]]:
    pairs = []
    for batch in messages or []:
        for m in batch:
            content = getattr(m, "content", m)
            if isinstance(content, list):
                content = " ".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
            pairs.append((str(getattr(m, "type", "user")), str(content)))
    return pairs


def tool_schemas(kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tools a chat-model call declares (``invocation_params["tools"]``, as bound with
    ``bind_tools``) in the protocol-neutral shape maestro's token rule counts: name,
    description, parameters (OpenAI ``function`` and Anthropic ``input_schema`` shapes)."""
    out = []
    for tool in (kwargs.get("invocation_params") or {}).get("tools") or ():
        if not isinstance(tool, Mapping):
            continue
        fn = tool.get("function")
        if not isinstance(fn, Mapping):
            fn = tool
        if not fn.get("name"):
            continue  # a provider built-in (e.g. web search) declares no schema
        params = fn.get("parameters") or fn.get("input_schema") or {"type": "object", "properties": {}}
        out.append({"name": str(fn["name"]), "description": str(fn.get("description") or ""), "parameters": params})
    return out


def estimate_usage(messages: Any, result: Any, tools: Sequence[Mapping[str, Any]] = ()) -> tuple[int, int, int]:
    """Tokens by maestro's rule (``maestro.tokens``) when the provider reported none (e.g. a
    streamed ChatOpenAI call without ``stream_usage``): input from every prompt message, the
    system prompt included, plus the declared ``tools``; output from the generations' text
    and tool-call arguments plus the end-of-sequence token."""
    i = count_message_tokens(_message_pairs(messages), tools or None)
    o = count_tokens(output_text(result)) + END_OF_SEQUENCE_TOKENS
    return i, o, i + o


def exception_attributes(error: BaseException) -> dict[str, str]:
    """Attributes of a span's OTel ``exception`` event, one line each: the exception type,
    the first line of its message and where it was raised (``file.py:12 in node``)."""
    attrs = {"exception.type": type(error).__qualname__,
             "exception.message": (str(error).strip().splitlines() or [""])[0][:500]}
    tb = error.__traceback__
    if tb is not None:
        while tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code
        attrs["exception.stacktrace"] = f"{os.path.basename(code.co_filename)}:{tb.tb_lineno} in {code.co_name}"
    return attrs


def finish_reasons(result: Any) -> list[str]:
    """Finish reasons of all generations that report one."""
    reasons = []
    for gens in getattr(result, "generations", None) or []:
        for g in gens:
            info = getattr(g, "generation_info", None) or {}
            msg = getattr(g, "message", None)
            meta = getattr(msg, "response_metadata", None) or {}
            r = info.get("finish_reason") or meta.get("finish_reason")
            if r:
                reasons.append(str(r))
    return reasons


def response_model(result: Any) -> str | None:
    """Model the provider says answered."""
    gen = _first_generation(result)
    msg = getattr(gen, "message", None)
    meta = getattr(msg, "response_metadata", None) or {}
    return meta.get("model_name") or meta.get("model") or None


def to_jsonable(obj: Any) -> Any:
    """A JSON-serialisable view of LangChain/pydantic/dataclass objects."""
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "page_content"):  # langchain Document
        return {"page_content": obj.page_content, "metadata": to_jsonable(getattr(obj, "metadata", {}))}
    if hasattr(obj, "model_dump"):
        try:
            return to_jsonable(obj.model_dump())
        except Exception:
            return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    return str(obj)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "page_content"):  # langchain Document
        return {"page_content": obj.page_content, "metadata": getattr(obj, "metadata", {})}
    if hasattr(obj, "model_dump"):
        try:
            return obj.model_dump()
        except Exception:
            return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    return str(obj)


def serialised_size(obj: Any) -> int:
    """Bytes of ``obj`` serialised as compact UTF-8 JSON: the size of an in-process message.

    Uses the C JSON encoder with a fallback for framework objects: this runs at every
    agent hand-over, so it must stay cheap.
    """
    try:
        text = json.dumps(obj, default=_json_default, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):  # e.g. non-string dict keys, circular references
        text = json.dumps(to_jsonable(obj), separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode())


def messages_for_capture(messages: Any) -> str:
    """Prompt messages as GenAI-convention JSON (only used with content capture on)."""
    return json.dumps([{"role": r, "content": c} for r, c in _message_pairs(messages)], ensure_ascii=False)


_PROTECTED = frozenset((*sc.RUN_IDENTITY_ATTRIBUTES, sc.MAESTRO_SPAN_TYPE))
_SCALARS = (str, int, float, bool)


def annotation_attributes(data: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes of a ``maestro.span_attributes`` event that may go on a span:
    ``maestro.*`` keys other than the run identity and span type, with scalar values or
    lists of scalars (lists of one type, as OTel requires). Everything else is dropped."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key.startswith("maestro.") or key in _PROTECTED:
            continue
        if isinstance(value, _SCALARS):
            out[key] = value
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, _SCALARS) for v in value) \
                and len({type(v) for v in value}) == 1:
            out[key] = list(value)
    return out
