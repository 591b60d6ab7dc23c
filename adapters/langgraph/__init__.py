"""maestro adapter for LangGraph (and any LangChain runnable).

Wrap a compiled graph (yours or a built-in instance's) in one line::

    from maestro.adapters.langgraph import instrument
    with maestro.trace_run("my-study") as run:
        graph = instrument(my_compiled_graph, run)
        graph.invoke({"question": "..."})

Every invocation of the wrapped graph, through any of its entry points (see
``InstrumentedGraph``), passes a ``MaestroCallbackHandler`` in its config (merged with any
callbacks you pass), so nodes, chat models and tools are recorded without any change to
your graph code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from maestro.adapters.langgraph.extract import BATCH_INDEX
from maestro.adapters.langgraph.handler import MaestroCallbackHandler
from maestro.collector.telemetry import RunTelemetry, current_telemetry

__all__ = ["MaestroCallbackHandler", "InstrumentedGraph", "instrument"]

FRAMEWORK = "langgraph"


def _with_handler(config: dict | None, handler: MaestroCallbackHandler) -> dict:
    """``config`` (a RunnableConfig or None) with ``handler`` among its callbacks."""
    config = dict(config or {})
    callbacks = config.get("callbacks")
    if callbacks is None:
        config["callbacks"] = [handler]
    elif isinstance(callbacks, list):
        config["callbacks"] = [*callbacks, handler] if handler not in callbacks else callbacks
    else:  # a CallbackManager: add ours as an inheritable handler
        manager = callbacks.copy()
        manager.add_handler(handler, inherit=True)
        config["callbacks"] = manager
    return config


def _batch_configs(config: dict | Sequence[dict] | None, n: int, handler: MaestroCallbackHandler) -> list[dict]:
    """One config per input of a ``batch`` call (``config`` is one config for all inputs or
    one per input, as LangChain accepts), each with ``handler`` and its input index in the
    metadata (``maestro.batch.index``), so the spans of different inputs stay apart."""
    configs = list(config) if isinstance(config, Sequence) else [config] * n
    if len(configs) != n:
        raise ValueError(f"batch got {n} inputs but {len(configs)} configs")
    out = []
    for i, c in enumerate(configs):
        c = _with_handler(c, handler)
        c["metadata"] = {**(c.get("metadata") or {}), BATCH_INDEX: i}
        out.append(c)
    return out


class InstrumentedGraph:
    """A graph whose entry points are traced: ``invoke``, ``ainvoke``, ``stream``,
    ``astream`` (any ``stream_mode``, ``subgraphs``), ``batch``, ``abatch``,
    ``batch_as_completed``, ``abatch_as_completed``, ``astream_events``,
    ``stream_events`` and ``astream_log``; each passes the same arguments to the wrapped
    graph with maestro's handler added to the config, and returns what the graph returns.
    ``with_config`` returns a traced graph too. Everything else (``get_graph``,
    ``get_state`` ...) is delegated to the wrapped graph untouched.
    """

    def __init__(self, graph: Any, handler: MaestroCallbackHandler):
        self.graph = graph
        self.handler = handler

    def invoke(self, input: Any, config: dict | None = None, **kwargs: Any) -> Any:
        return self.graph.invoke(input, _with_handler(config, self.handler), **kwargs)

    async def ainvoke(self, input: Any, config: dict | None = None, **kwargs: Any) -> Any:
        return await self.graph.ainvoke(input, _with_handler(config, self.handler), **kwargs)

    def stream(self, input: Any, config: dict | None = None, **kwargs: Any) -> Iterator[Any]:
        return self.graph.stream(input, _with_handler(config, self.handler), **kwargs)

    def astream(self, input: Any, config: dict | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        return self.graph.astream(input, _with_handler(config, self.handler), **kwargs)

    def astream_events(self, input: Any, config: dict | None = None, **kwargs: Any) -> Any:
        """LangChain's event stream (``version="v2"``; LangGraph's ``"v3"`` run stream alike)."""
        return self.graph.astream_events(input, _with_handler(config, self.handler), **kwargs)

    def stream_events(self, input: Any, config: dict | None = None, **kwargs: Any) -> Any:
        return self.graph.stream_events(input, _with_handler(config, self.handler), **kwargs)

    def astream_log(self, input: Any, config: dict | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        return self.graph.astream_log(input, _with_handler(config, self.handler), **kwargs)

    def batch(self, inputs: list[Any], config: dict | Sequence[dict] | None = None, **kwargs: Any) -> list[Any]:
        """One graph invocation per input (see :func:`_batch_configs`)."""
        return self.graph.batch(inputs, _batch_configs(config, len(inputs), self.handler), **kwargs)

    async def abatch(self, inputs: list[Any], config: dict | Sequence[dict] | None = None, **kwargs: Any) -> list[Any]:
        return await self.graph.abatch(inputs, _batch_configs(config, len(inputs), self.handler), **kwargs)

    def batch_as_completed(self, inputs: Sequence[Any], config: dict | Sequence[dict] | None = None,
                           **kwargs: Any) -> Iterator[tuple[int, Any]]:
        return self.graph.batch_as_completed(inputs, _batch_configs(config, len(inputs), self.handler), **kwargs)

    def abatch_as_completed(self, inputs: Sequence[Any], config: dict | Sequence[dict] | None = None,
                            **kwargs: Any) -> AsyncIterator[tuple[int, Any]]:
        return self.graph.abatch_as_completed(inputs, _batch_configs(config, len(inputs), self.handler), **kwargs)

    def with_config(self, config: dict | None = None, **kwargs: Any) -> InstrumentedGraph:
        return InstrumentedGraph(self.graph.with_config(config, **kwargs), self.handler)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.graph, name)


def instrument(
    graph: Any,
    telemetry: RunTelemetry | None = None,
    *,
    provider: str | None = None,
    capture_content: bool | None = None,
) -> InstrumentedGraph:
    """Wrap ``graph`` so its runs are recorded into ``telemetry``.

    Args:
        graph: a compiled LangGraph graph or any LangChain runnable.
        telemetry: the run's telemetry; defaults to the one active in this process
            (``maestro.trace_run`` or the study runner starts it).
        provider: ``gen_ai.provider.name`` to write on LLM spans (default: from LangChain).
        capture_content: override the run's content-capture setting for this graph.
    """
    telemetry = telemetry or current_telemetry()
    if telemetry is None:
        raise RuntimeError(
            "maestro.adapters.langgraph.instrument: no active run telemetry; pass one or call it "
            "inside `with maestro.trace_run(...)`"
        )
    return InstrumentedGraph(graph, MaestroCallbackHandler(telemetry, provider=provider, capture_content=capture_content))
