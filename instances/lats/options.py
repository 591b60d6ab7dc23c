"""LATS's study-file options (``[instance_options.lats]``), declared once: names, types,
defaults, docs. Framework-free, so a study checks its table without importing LangChain."""

from __future__ import annotations

from maestro.contract import InstanceOption
from maestro.instances._common import client_options

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("width", int, 2, "candidates per expanded node"),
    InstanceOption("max_depth", int, 4, "deepest node (enough for three searches and an answer)"),
    InstanceOption("max_iterations", int, 6, "node expansions"),
    InstanceOption("exploration", float, 0.2, "UCT exploration constant (larger spends few iterations on siblings)"),
    InstanceOption("k", int, 4, "local passages per search"),
    InstanceOption("web_k", int, 3, "web search results per search (tools on)"),
    InstanceOption("recursion_limit", int, None,
                   "LangGraph step limit; unset: 4 * width * max_iterations + 10, more than a full search takes"),
    *client_options(),
)
"""LATS's options (the last three configure the chat-model client)."""
