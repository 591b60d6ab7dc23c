"""Plan-and-Execute as a LangGraph MAS instance (planner, ReAct executor, replanner).

Paper Table 2 style row: Cross-domain, LangGraph, Planning, 3 agents (planner, executor,
replanner), 2 tools (local retriever, web search), Datasets in, Open-End out.

Importing this package registers the simulated-model policies (cheap, idempotent); the
LangChain/LangGraph-dependent names (``INSTANCE``, ``build_graph``...) load on first access,
so the simulated service can import the policies without the frameworks.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .options import OPTIONS
from .prompts import EXECUTOR_MARKER, PLANNER_MARKER, REPLANNER_MARKER
from .sim_policies import register_sim_policies

__all__ = ["INSTANCE", "OPTIONS", "PlanExecuteInstance", "PLAN_EXECUTE_INFO", "build_graph", "register_sim_policies",
           "PLANNER_MARKER", "EXECUTOR_MARKER", "REPLANNER_MARKER"]

__getattr__ = lazy_exports(
    __name__,
    {"PlanExecuteInstance": ".instance", "PLAN_EXECUTE_INFO": ".instance", "build_graph": ".graph"},
    instance=(".instance", "PlanExecuteInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
