"""Travel Planning (AutoGen AgentChat example) as an AutoGen MAS instance.

Paper Table 2: Travel, AutoGen, Coordination, 4 agents (planner_agent, local_agent,
language_agent, travel_summary_agent) in a RoundRobinGroupChat, 0 tools, Artifacts in,
Open-End out, suite F. The speaking order is fixed, so the call graph is identical across
repeats (Jaccard and LCS 1.0, as the paper reports).

Importing this package registers the simulated-model policies (cheap, idempotent). The
AutoGen-dependent names (``INSTANCE``, ``TravelPlanningInstance``, ``build_team``,
``make_model_client``) load on first access, so the simulated service can import the
policies without importing AutoGen.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .prompts import AGENT_NAMES, SYSTEM_PROMPTS, TERMINATE, format_request, parse_request, strip_terminate
from .sim_policies import register_sim_policies
from .tasks import judge, load_tasks

__all__ = [
    "INSTANCE",
    "TravelPlanningInstance",
    "TRAVEL_PLANNING_INFO",
    "build_team",
    "make_model_client",
    "register_sim_policies",
    "load_tasks",
    "judge",
    "AGENT_NAMES",
    "SYSTEM_PROMPTS",
    "TERMINATE",
    "format_request",
    "parse_request",
    "strip_terminate",
]

_LAZY = {"TravelPlanningInstance", "TRAVEL_PLANNING_INFO", "build_team", "make_model_client"}


def __getattr__(name: str) -> Any:
    # PEP 562: resolve AutoGen-dependent names on first use.
    if name == "INSTANCE":
        inst = import_module(".instance", __name__).TravelPlanningInstance()
        globals()["INSTANCE"] = inst
        return inst
    if name in _LAZY:
        value = getattr(import_module(".instance", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


register_sim_policies()
