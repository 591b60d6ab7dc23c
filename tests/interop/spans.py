"""Hand-built received spans for the interop tests (a tiny builder, times in ms)."""

from __future__ import annotations

import json
from typing import Any

from maestro.interop import OtlpSpan

TRACE = "0af7651916cd43dd8448eb211c80319c"


def sid(n: int) -> str:
    """The 16-hex span id of span ``n``."""
    return f"{n:016x}"


def span(n: int, name: str, parent: int | None, start_ms: int, end_ms: int, trace: str = TRACE,
         status: str = "UNSET", resource: dict[str, Any] | None = None, scope: str = "", **attrs: Any) -> OtlpSpan:
    """Span ``n`` named ``name`` under span ``parent`` (None: a root); ``attrs`` with ``__``
    for dots (``gen_ai__agent__name``) or a dict in ``attrs['a']``."""
    flat = dict(attrs.pop("a", {}))
    flat.update({k.replace("__", "."): v for k, v in attrs.items()})
    return OtlpSpan(trace_id=trace, span_id=sid(n), parent_span_id=sid(parent) if parent is not None else None,
                    name=name, kind="INTERNAL", start_ns=start_ms * 1_000_000, end_ns=end_ms * 1_000_000,
                    status_code=status, attributes=flat, resource=resource or {"service.name": "shop"}, scope=scope)


def lg_node(n: int, node: str, step: int, parent: int, start: int, end: int, **attrs: Any) -> OtlpSpan:
    """An OpenInference CHAIN span of LangGraph node ``node`` at superstep ``step``."""
    md = json.dumps({"langgraph_node": node, "langgraph_step": step})
    return span(n, node, parent, start, end, scope="openinference.instrumentation.langchain",
                a={"openinference.span.kind": "CHAIN", "metadata": md, **attrs})


def oi_llm(n: int, parent: int, start: int, end: int, node: str, step: int, prompt: int, completion: int) -> OtlpSpan:
    """An OpenInference LLM span inside LangGraph node ``node``."""
    md = json.dumps({"langgraph_node": node, "langgraph_step": step})
    return span(n, "ChatOpenAI", parent, start, end, scope="openinference.instrumentation.langchain",
                a={"openinference.span.kind": "LLM", "metadata": md, "llm.model_name": "gpt-4o",
                   "llm.provider": "openai", "llm.token_count.prompt": prompt,
                   "llm.token_count.completion": completion, "llm.token_count.total": prompt + completion,
                   "llm.input_messages.0.message.content": "secret question", "input.value": "{}"})
