"""LATS (Language Agent Tree Search) as a LangGraph MAS instance.

Table 2 style row: Cross-domain, LangGraph, Planning (tree search), 3 agents (select,
expand, reflect), 2 tools (local retriever, web search), Datasets in, Open-End out.

Importing this package registers the simulated-model policies (cheap, idempotent); the
LangChain/LangGraph-dependent names (``INSTANCE``, ``build_graph``...) load on first
access. The tree logic (``tree``) is framework-free.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .prompts import EXPAND_MARKER, REFLECT_MARKER
from .sim_policies import register_sim_policies
from .tree import SearchNode, backpropagate, select, uct

__all__ = ["INSTANCE", "LatsInstance", "LATS_INFO", "build_graph", "register_sim_policies", "EXPAND_MARKER",
           "REFLECT_MARKER", "SearchNode", "uct", "select", "backpropagate"]

_LAZY = {"LatsInstance": ".instance", "LATS_INFO": ".instance", "build_graph": ".graph"}


def __getattr__(name: str) -> Any:
    # PEP 562: resolve framework-dependent names on first use.
    if name == "INSTANCE":
        inst = import_module(".instance", __name__).LatsInstance()
        globals()["INSTANCE"] = inst
        return inst
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


register_sim_policies()
