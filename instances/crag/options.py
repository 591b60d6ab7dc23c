"""CRAG's study-file options (``[instance_options.crag]``), declared once: names, types,
defaults, docs. Framework-free, so a study checks its table without importing LangChain."""

from __future__ import annotations

from maestro.contract import InstanceOption
from maestro.instances._common import client_options

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("k", int, 4, "local passages per retrieval"),
    InstanceOption("web_k", int, 3, "web search results per search (tools on)"),
    InstanceOption("max_rewrites", int, 2, "query-rewrite correction rounds when tools are off"),
    InstanceOption("min_relevant", int, 2, "relevant documents needed to answer without correction"),
    InstanceOption("recursion_limit", int, 40, "LangGraph step limit; reaching it fails the run"),
    *client_options(),
)
"""CRAG's options (the last three configure the chat-model client)."""
