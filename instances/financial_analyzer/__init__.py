"""Financial Analyzer (mcp-agent's MCP financial analyzer use case) as an mcp-agent MAS instance.

Paper Table 2: Finance, mcp-agent, Planning, 5 agents (an orchestrator with a full plan; a
data collector in an evaluator-optimizer loop with its evaluator; an analyst; a report
writer), 5 tools on three MCP servers of ours started per run over stdio (search over an
offline corpus of fictional companies, fetch from the run's loopback research site, a
filesystem confined to the run's folder), Open-End out, suite F. With tools off no server
runs and the collector answers from what it knows.

Importing this package registers the simulated-model policies (cheap, idempotent). The
mcp-agent-dependent names (``INSTANCE``, ``FinancialAnalyzerInstance``,
``FinancialAnalyzerApp``, ``build_orchestrator``, ``app_settings``) load on first access, so
the simulated service and the MCP servers import the package without importing mcp-agent.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .corpus import documents, facts, load_corpus, pages, tickers
from .options import OPTIONS
from .prompts import AGENT_NAMES, format_question, parse_company
from .report import format_report, read_growth, read_price, read_revenue
from .sim_policies import register_sim_policies
from .tasks import judge, load_tasks

__all__ = [
    "INSTANCE",
    "OPTIONS",
    "FinancialAnalyzerInstance",
    "FinancialAnalyzerApp",
    "FINANCIAL_ANALYZER_INFO",
    "CALL_LOG",
    "build_orchestrator",
    "app_settings",
    "register_sim_policies",
    "load_tasks",
    "judge",
    "documents",
    "facts",
    "load_corpus",
    "pages",
    "tickers",
    "AGENT_NAMES",
    "format_question",
    "parse_company",
    "format_report",
    "read_growth",
    "read_price",
    "read_revenue",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "FinancialAnalyzerInstance": ".instance",
        "FinancialAnalyzerApp": ".instance",
        "FINANCIAL_ANALYZER_INFO": ".instance",
        "CALL_LOG": ".instance",
        "build_orchestrator": ".instance",
        "app_settings": ".instance",
    },
    instance=(".instance", "FinancialAnalyzerInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
