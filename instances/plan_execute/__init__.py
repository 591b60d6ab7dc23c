"""Plan-and-Execute as a LangGraph MAS instance (planner, ReAct executor, replanner).

Paper Table 2 style row: Cross-domain, LangGraph, Planning, 3 agents (planner, executor,
replanner), 2 tools (local retriever, web search), Datasets in, Open-End out.

Importing this package registers the simulated-model policies (cheap, idempotent); the
LangChain/LangGraph-dependent names (``INSTANCE``, ``build_graph``...) load on first access,
so the simulated service can import the policies without the frameworks.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .prompts import EXECUTOR_MARKER, PLANNER_MARKER, REPLANNER_MARKER
from .sim_policies import register_sim_policies

__all__ = ["INSTANCE", "PlanExecuteInstance", "PLAN_EXECUTE_INFO", "build_graph", "register_sim_policies",
           "PLANNER_MARKER", "EXECUTOR_MARKER", "REPLANNER_MARKER"]

_LAZY = {"PlanExecuteInstance": ".instance", "PLAN_EXECUTE_INFO": ".instance", "build_graph": ".graph"}


def __getattr__(name: str) -> Any:
    # PEP 562: resolve framework-dependent names on first use.
    if name == "INSTANCE":
        inst = import_module(".instance", __name__).PlanExecuteInstance()
        globals()["INSTANCE"] = inst
        return inst
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


register_sim_policies()
