"""maestro adapter for LangGraph (and any LangChain runnable).

Wrap a compiled graph (yours or a built-in instance's) in one line::

    from maestro.adapters.langgraph import instrument
    with maestro.trace_run("my-study") as run:
        graph = instrument(my_compiled_graph, run)
        graph.invoke({"question": "..."})

Every invocation of the wrapped graph passes a ``MaestroCallbackHandler`` in its config
(merged with any callbacks you pass), so nodes, chat models and tools are recorded
without any change to your graph code.
"""

from __future__ import annotations

from typing import Any

from maestro.adapters.langgraph.handler import MaestroCallbackHandler
from maestro.collector.telemetry import RunTelemetry, current_telemetry

__all__ = ["MaestroCallbackHandler", "InstrumentedGraph", "instrument"]

FRAMEWORK = "langgraph"


def _with_handler(config: dict | None, handler: MaestroCallbackHandler) -> dict:
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


class InstrumentedGraph:
    """A graph whose invoke/ainvoke/stream/astream/batch calls are traced.

    Everything else is delegated to the wrapped graph.
    """

    def __init__(self, graph: Any, handler: MaestroCallbackHandler):
        self.graph = graph
        self.handler = handler

    def invoke(self, input: Any, config: dict | None = None, **kwargs: Any) -> Any:
        return self.graph.invoke(input, _with_handler(config, self.handler), **kwargs)

    async def ainvoke(self, input: Any, config: dict | None = None, **kwargs: Any) -> Any:
        return await self.graph.ainvoke(input, _with_handler(config, self.handler), **kwargs)

    def stream(self, input: Any, config: dict | None = None, **kwargs: Any):
        yield from self.graph.stream(input, _with_handler(config, self.handler), **kwargs)

    async def astream(self, input: Any, config: dict | None = None, **kwargs: Any):
        async for chunk in self.graph.astream(input, _with_handler(config, self.handler), **kwargs):
            yield chunk

    def batch(self, inputs: list[Any], config: dict | None = None, **kwargs: Any) -> list[Any]:
        return self.graph.batch(inputs, _with_handler(config, self.handler), **kwargs)

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
