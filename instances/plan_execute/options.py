"""Plan-and-Execute's study-file options (``[instance_options.plan_execute]``), declared
once: names, types, defaults, docs. Framework-free, so a study checks its table without
importing LangChain."""

from __future__ import annotations

from maestro.contract import InstanceOption
from maestro.instances._common import client_options

__all__ = ["OPTIONS", "DEFAULT_RECURSION_LIMIT"]

DEFAULT_RECURSION_LIMIT = 100_000
"""LangGraph supersteps allowed per run: far more than the run's time cap lets a loop take."""

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("k", int, 4, "local passages per search"),
    InstanceOption("web_k", int, 3, "web search results per search (tools on)"),
    InstanceOption("max_tool_rounds", int, 3, "tool rounds per executed step"),
    InstanceOption("max_replans", int, None,
                   "plan revisions before the last result is taken as the answer; unset: no cap (as in the paper)"),
    InstanceOption("strict_replanner", bool, False,
                   "tell the replanner to demand a verification step before it answers"),
    InstanceOption("recursion_limit", int, DEFAULT_RECURSION_LIMIT,
                   "LangGraph step limit, high so that a loop meets the run's time cap first"),
    *client_options(),
)
"""Plan-and-Execute's options (the last three configure the chat-model client)."""
