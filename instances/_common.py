"""Pieces every instance package repeats: lazy exports, the model client's settings, a
LangGraph run under a step limit, an answer turned into a ``TaskResult``, and task files
(JSONL read line by line, a seeded sample).

Framework-free at import time (the LangChain and LangGraph imports sit inside the
functions that need them), so an instance's ``__init__`` can use it while the simulated
service imports only the instance's policies.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar

from maestro.contract import InstanceOption, RunContext, Task, TaskResult, resolve_options

T = TypeVar("T")

__all__ = ["lazy_exports", "client_options", "client_settings", "make_chat_openai", "adk_gemini_model",
           "invoke_graph", "answer_result", "message_text", "tasks_from_jsonl", "seeded_sample"]


def lazy_exports(package: str, names: dict[str, str], instance: tuple[str, str]) -> Callable[[str], Any]:
    """A PEP 562 module ``__getattr__`` for ``package`` that loads framework-dependent names
    on first access and caches them in the package's globals.

    ``names`` maps an exported name to the submodule defining it (``".graph"``);
    ``instance`` is ``(submodule, class name)``: ``INSTANCE`` is one object of that class.
    Use as ``__getattr__ = lazy_exports(__name__, {...}, (".instance", "CragInstance"))``.
    """
    def __getattr__(name: str) -> Any:
        if name == "INSTANCE":
            value: Any = getattr(import_module(instance[0], package), instance[1])()
        elif name in names:
            value = getattr(import_module(names[name], package), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        vars(sys.modules[package])[name] = value  # later lookups skip __getattr__
        return value

    return __getattr__


def client_options(retries_option: str = "max_retries") -> tuple[InstanceOption, ...]:
    """The chat-model client's options, declared once for every instance that uses
    :func:`client_settings` (retries under the name ``retries_option``)."""
    return (
        InstanceOption("temperature", float, 0.0, "sampling temperature of every model call"),
        InstanceOption(retries_option, int, 3, "client retries per model call"),
        InstanceOption("request_timeout_s", float, 120.0, "per model call timeout in seconds, capped by the run's"),
    )


def client_settings(ctx: RunContext, retries_option: str = "max_retries") -> dict[str, Any]:
    """Keyword arguments an OpenAI-compatible client needs for the run's endpoint: base URL,
    key, model, ``max_tokens`` and, from ``ctx.options``, the options of
    :func:`client_options` (``temperature``, retries, ``request_timeout_s`` capped by the
    run's timeout). Other names in ``ctx.options`` belong to the instance and are skipped."""
    declared = client_options(retries_option)
    names = {o.name for o in declared}
    opts = resolve_options(declared, {k: v for k, v in ctx.options.items() if k in names})
    return dict(
        model=ctx.endpoint.model,
        base_url=ctx.endpoint.base_url,
        api_key=ctx.endpoint.api_key,
        max_tokens=ctx.max_tokens,
        temperature=opts["temperature"],
        max_retries=opts[retries_option],
        timeout=min(float(ctx.timeout_s), opts["request_timeout_s"]),
    )


def make_chat_openai(ctx: RunContext, retries_option: str = "max_retries") -> Any:
    """The run's LangChain chat model: ``ChatOpenAI`` against ``ctx.endpoint`` (settings as
    in :func:`client_settings`)."""
    from langchain_openai import ChatOpenAI

    # A custom base_url turns streamed usage off unless asked for explicitly.
    return ChatOpenAI(stream_usage=True, **client_settings(ctx, retries_option))


def adk_gemini_model(ctx: RunContext, attempts: int, instance: str) -> Any:
    """An ADK ``Gemini`` model for ``ctx.endpoint`` (the simulated service's Gemini base URL or
    Google's API: same code path) with google-genai's HTTP retries (``attempts`` per call).
    A ValueError naming ``instance`` when the endpoint speaks no Gemini REST."""
    import os

    from google.adk.models import Gemini
    from google.genai import types

    ep = ctx.endpoint
    if not ep.gemini_base_url:
        raise ValueError(f"instance {instance!r} (ADK, Gemini REST) needs a sim/* or gemini/* backend, not {ep.spec!r}")
    os.environ.setdefault("NO_GCE_CHECK", "true")  # google-auth must never probe a metadata server
    retry = types.HttpRetryOptions(attempts=attempts, initial_delay=0.05, max_delay=1.0) if attempts > 1 else None
    return Gemini(model=ep.model, base_url=ep.gemini_base_url, client_kwargs={"api_key": ep.api_key},
                  retry_options=retry)


def invoke_graph(app: Any, inputs: Mapping[str, Any], limit: int) -> tuple[dict[str, Any], TaskResult | None]:
    """Invoke a compiled LangGraph ``app`` synchronously with ``recursion_limit=limit``.

    Returns ``(state, None)``, or ``({}, failure)`` when the step limit is reached (a
    failure naming the limit). Model and HTTP errors propagate: the runner records them.
    Synchronous on purpose: ChatOpenAI caches its async client per event loop.
    """
    from langgraph.errors import GraphRecursionError

    try:
        state = app.invoke(inputs, config={"recursion_limit": limit})
    except GraphRecursionError as e:
        return {}, TaskResult(answer=None, outcome="failure", reason=f"recursion limit {limit} reached: {e}")
    return state or {}, None


def answer_result(answer: str | None, empty_reason: str) -> TaskResult:
    """``success`` with ``answer``, or a ``failure`` with answer ``''`` and ``empty_reason``
    when there is no answer text."""
    if not answer:
        return TaskResult(answer="", outcome="failure", reason=empty_reason)
    return TaskResult(answer=answer, outcome="success")


def message_text(msg: Any) -> str:
    """A chat reply's text, whether its content is a string or a list of parts (string parts,
    or dict parts whose ``text`` is taken as a string); ``msg`` itself when it has no
    ``content``."""
    content = getattr(msg, "content", msg)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content if isinstance(p, (str, dict)))
    return "" if content is None else str(content)


def tasks_from_jsonl(path: str, instance: str, fields: str, make: Callable[[str, dict[str, Any]], Task]) -> list[Task]:
    """Tasks from a JSONL file: ``make(task_id, row)`` for each JSON object a line (the id is
    the row's ``id``, else ``line-<n>``). A bad line is a ValueError naming the file, the line
    and the expected ``fields``, never echoing the line (a task may hold secrets)."""
    tasks = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            tasks.append(make(str(row.get("id") or f"line-{i}"), row))
        except (KeyError, ValueError, TypeError) as e:
            why = f"missing {e}" if isinstance(e, KeyError) else \
                "not JSON" if isinstance(e, json.JSONDecodeError) else str(e)
            raise ValueError(f"{path}:{i}: bad {instance} task ({why}); fields: {fields}") from None
    return tasks


def seeded_sample(items: Sequence[T], n: int | None, seed: int) -> list[T]:
    """``n`` of ``items`` drawn with ``seed``, kept in their order (all of them when ``n`` is
    None or not smaller)."""
    if n is None or n >= len(items):
        return list(items)
    return [items[i] for i in sorted(random.Random(seed).sample(range(len(items)), n))]
