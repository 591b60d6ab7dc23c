"""Pure extractors from LangChain/LangGraph callback arguments to schema values.

No state, no telemetry: each function takes what a callback receives and returns plain
values, so each is unit-tested on its own.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from maestro import semconv as sc
from maestro.adapters._common import provider_alias
from maestro.tokens import count_message_tokens, count_tokens

__all__ = [
    "node_of",
    "scope_of",
    "is_graph_node",
    "model_name",
    "provider_name",
    "usage_of",
    "estimate_usage",
    "finish_reasons",
    "response_model",
    "serialised_size",
    "to_jsonable",
    "messages_for_capture",
    "output_text",
    "annotation_attributes",
]



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


def scope_of(metadata: Mapping[str, Any]) -> str:
    """The graph a node runs in: '' for the top-level graph, the checkpoint namespace
    prefix for subgraphs (``parent:<id>`` for nodes of a subgraph run by node ``parent``)."""
    ns = str(metadata.get("langgraph_checkpoint_ns") or metadata.get("checkpoint_ns") or "")
    return ns.rsplit("|", 1)[0] if "|" in ns else ""


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


def estimate_usage(messages: Any, result: Any) -> tuple[int, int, int]:
    """Tokens by maestro's rule (``maestro.tokens``) when the provider reported none."""
    i = count_message_tokens(_message_pairs(messages))
    o = count_tokens(output_text(result))
    return i, o, i + o


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
