"""LATS (Language Agent Tree Search) as a LangGraph MAS instance.

Table 2 style row: Cross-domain, LangGraph, Planning (tree search), 3 agents (select,
expand, reflect), 2 tools (local retriever, web search), Datasets in, Open-End out.

Importing this package registers the simulated-model policies (cheap, idempotent); the
LangChain/LangGraph-dependent names (``INSTANCE``, ``build_graph``...) load on first
access. The tree logic (``tree``) is framework-free.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .options import OPTIONS
from .prompts import EXPAND_MARKER, REFLECT_MARKER
from .sim_policies import register_sim_policies
from .tree import SearchNode, backpropagate, select, uct

__all__ = ["INSTANCE", "OPTIONS", "LatsInstance", "LATS_INFO", "build_graph", "register_sim_policies", "EXPAND_MARKER",
           "REFLECT_MARKER", "SearchNode", "uct", "select", "backpropagate"]

__getattr__ = lazy_exports(
    __name__,
    {"LatsInstance": ".instance", "LATS_INFO": ".instance", "build_graph": ".graph"},
    instance=(".instance", "LatsInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
