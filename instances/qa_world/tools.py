"""The QA world's two search tools as LangChain tools, shared by the QA architectures
(CRAG, Plan-and-Execute, LATS).

They are ``StructuredTool`` objects so that ``tool.invoke(args_or_tool_call, config=config)``
from a graph node fires LangChain's ``on_tool_start``/``on_tool_end`` callbacks, which is what
tracing hooks into, and so that a chat model can be given them with ``bind_tools``. Both
return a list of ``{"id", "title", "text", "source"}``.

This module imports LangChain; ``maestro.instances.qa_world`` itself does not import it (the
simulated service uses the world without any framework).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.tools import StructuredTool

from .retriever import retrieve, web_search
from .world import World

__all__ = ["RETRIEVER_TOOL_NAME", "WEB_SEARCH_TOOL_NAME", "make_retriever_tool", "make_web_search_tool", "qa_tools"]

RETRIEVER_TOOL_NAME = "local_retriever"
"""Name of the local-corpus search tool."""
WEB_SEARCH_TOOL_NAME = "web_search"
"""Name of the web-search tool."""


def _search_tool(search: Callable[..., list[Any]], name: str, k: int, world: World | None,
                 description: str) -> StructuredTool:
    """A tool ``name`` taking one ``query`` and returning the top ``k`` hits of ``search``."""

    def run(query: str) -> list[dict[str, Any]]:
        return [p.as_doc() for p in search(query, k=k, world=world)]

    return StructuredTool.from_function(func=run, name=name, description=description)


def make_retriever_tool(k: int = 4, *, world: World | None = None) -> StructuredTool:
    """A tool returning the top ``k`` local-corpus passages for a query."""
    return _search_tool(retrieve, RETRIEVER_TOOL_NAME, k, world,
                        f"Search the local knowledge base (BM25) and return the top {k} passages for a query.")


def make_web_search_tool(k: int = 3, *, world: World | None = None) -> StructuredTool:
    """A tool returning the top ``k`` web results for a query (an offline web pool)."""
    return _search_tool(web_search, WEB_SEARCH_TOOL_NAME, k, world,
                        f"Search the web and return the top {k} result snippets for a query.")


def qa_tools(tools_enabled: bool, *, k: int = 4, web_k: int = 3, world: World | None = None) -> list[StructuredTool]:
    """The tools a QA agent gets in one run: the local retriever always, web search only
    when ``tools_enabled`` (with tools off the web tool does not exist in the run at all)."""
    tools = [make_retriever_tool(k=k, world=world)]
    if tools_enabled:
        tools.append(make_web_search_tool(k=web_k, world=world))
    return tools
