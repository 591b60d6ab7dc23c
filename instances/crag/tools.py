"""CRAG's two tools: the local retriever and the offline web search, as LangChain tools.

They are the QA world's shared tools (``maestro.instances.qa_world.tools``), re-exported
here under CRAG's names. Both return a list of ``{"id", "title", "text", "source"}``.
"""

from __future__ import annotations

from maestro.instances.qa_world.tools import (
    RETRIEVER_TOOL_NAME,
    WEB_SEARCH_TOOL_NAME,
    make_retriever_tool,
    make_web_search_tool,
)

__all__ = ["RETRIEVER_TOOL_NAME", "WEB_SEARCH_TOOL_NAME", "make_retriever_tool", "make_web_search_tool"]
