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

from maestro.instances._common import lazy_exports

from .options import OPTIONS
from .prompts import AGENT_NAMES, SYSTEM_PROMPTS, TERMINATE, format_request, parse_request, strip_terminate
from .sim_policies import register_sim_policies
from .tasks import judge, load_tasks

__all__ = [
    "INSTANCE",
    "OPTIONS",
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

__getattr__ = lazy_exports(
    __name__,
    {
        "TravelPlanningInstance": ".instance",
        "TRAVEL_PLANNING_INFO": ".instance",
        "build_team": ".instance",
        "make_model_client": ".instance",
    },
    instance=(".instance", "TravelPlanningInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
