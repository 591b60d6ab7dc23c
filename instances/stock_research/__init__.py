"""Stock Research (AutoGen AgentChat Swarm example) as an AutoGen MAS instance.

Paper Table 2: Finance, AutoGen, Coordination, 4 agents (planner, financial_analyst,
news_analyst, writer) in a Swarm with handoffs, 2 tools (``get_stock_data``, ``get_news``
over a bundled, seeded, fictional market data set), Open-End out, suite F. The planner
delegates to one agent at a time; each specialist hands back; the planner ends the research
with ``TERMINATE``. With tools off the analysts have no tools and answer from what they know.

Importing this package registers the simulated-model policies (cheap, idempotent). The
AutoGen-dependent names (``INSTANCE``, ``StockResearchInstance``, ``build_team``,
``make_model_client``, ``final_report``) load on first access, so the simulated service can
import the policies without importing AutoGen.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .market import facts, generate_market, load_market
from .options import OPTIONS
from .prompts import AGENT_NAMES, TERMINATE, format_question, parse_ticker, system_prompt
from .report import format_report, headline_named, read_facts
from .sim_policies import register_sim_policies
from .tasks import judge, load_tasks
from .tools import get_news, get_stock_data

__all__ = [
    "INSTANCE",
    "OPTIONS",
    "StockResearchInstance",
    "STOCK_RESEARCH_INFO",
    "build_team",
    "make_model_client",
    "final_report",
    "register_sim_policies",
    "load_tasks",
    "judge",
    "get_stock_data",
    "get_news",
    "facts",
    "generate_market",
    "load_market",
    "AGENT_NAMES",
    "TERMINATE",
    "format_question",
    "parse_ticker",
    "system_prompt",
    "format_report",
    "headline_named",
    "read_facts",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "StockResearchInstance": ".instance",
        "STOCK_RESEARCH_INFO": ".instance",
        "build_team": ".instance",
        "make_model_client": ".instance",
        "final_report": ".instance",
    },
    instance=(".instance", "StockResearchInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
