"""The financial analyzer's agents, their instructions and the task text.

Each instruction opens with the role's marker sentence (the simulated service recognises the
role by it). The planner sees every worker's instruction as its description, as mcp-agent's
Orchestrator shows it, and plans by those descriptions.
"""

from __future__ import annotations

import re

__all__ = [
    "ORCHESTRATOR", "PLANNER", "SYNTHESIZER", "DATA_COLLECTOR", "COLLECTOR", "EVALUATOR", "ANALYST", "WRITER",
    "AGENT_NAMES", "PLANNER_MARKER", "SYNTHESIZER_MARKER", "COLLECTOR_MARKER", "EVALUATOR_MARKER", "ANALYST_MARKER",
    "WRITER_MARKER", "REPORT_FILE", "SERVERS", "instructions", "format_question", "parse_company",
]

ORCHESTRATOR = "orchestrator"
PLANNER = "planner"
SYNTHESIZER = "synthesizer"
DATA_COLLECTOR = "data_collector"
"""The evaluator-optimizer workflow the orchestrator hands data collection to."""
COLLECTOR = "collector"
"""The optimizer inside it: the agent with the search and fetch servers."""
EVALUATOR = "collector_evaluator"
ANALYST = "analyst"
WRITER = "report_writer"
AGENT_NAMES = (ORCHESTRATOR, PLANNER, DATA_COLLECTOR, COLLECTOR, EVALUATOR, ANALYST, WRITER, SYNTHESIZER)
"""Every agent of a run (the orchestrator and its planner and synthesizer included)."""

SERVERS = {COLLECTOR: ("search", "fetch"), WRITER: ("files",)}
"""The MCP servers of each agent with tools on (none with tools off)."""

REPORT_FILE = "report.md"
"""Where the report writer saves the report in the run's folder."""

PLANNER_MARKER = "You plan equity research for a financial analysis team."
SYNTHESIZER_MARKER = "You assemble the final answer of a financial analysis."
COLLECTOR_MARKER = "You collect the financial data an analysis needs."
EVALUATOR_MARKER = "You check the data a collector gathered for a financial analysis."
ANALYST_MARKER = "You are the financial analyst of the team."
WRITER_MARKER = "You write the team's financial report."


def instructions(tools_enabled: bool) -> dict[str, str]:
    """Each agent's instruction (the collector's and writer's name their tools only with tools on)."""
    if tools_enabled:
        collect = ("Search the research corpus for the company's latest quarterly results and fetch its quote page "
                   "for the current share price.")
        write = f"Save the report as {REPORT_FILE} with the files tools, then return it."
    else:
        collect = "You have no tools: answer from what you know."
        write = "Return the report."
    return {
        PLANNER: f"{PLANNER_MARKER} Break the objective into steps for the available agents.",
        SYNTHESIZER: f"{SYNTHESIZER_MARKER} Return the team's report as the final answer.",
        COLLECTOR: (f"{COLLECTOR_MARKER} Data collection: {collect} State the latest quarterly revenue, the previous "
                    "quarter's revenue and the current share price, each with its figure."),
        EVALUATOR: (f"{EVALUATOR_MARKER} The data must state the latest quarterly revenue, the previous quarter's "
                    "revenue and the current share price, each with a figure."),
        ANALYST: (f"{ANALYST_MARKER} Analysis: compute the quarter-over-quarter revenue growth in percent from the "
                  "collected revenue figures."),
        WRITER: (f"{WRITER_MARKER} Report writing: state the latest quarterly revenue, the quarter-over-quarter "
                 f"revenue growth and the current share price. {write}"),
    }


def format_question(name: str, ticker: str) -> str:
    """The task text for one company."""
    return (f"Prepare a short financial report on {name} ({ticker}): its latest quarterly revenue, its "
            "quarter-over-quarter revenue growth and its current share price.")


_COMPANY = re.compile(r"report on (?P<name>[A-Z][\w .&'-]*?) \((?P<ticker>[A-Z]{2,6})\)")


def parse_company(text: str) -> tuple[str, str] | None:
    """(name, ticker) of the company a task text asks about, or None."""
    m = _COMPANY.search(text)
    return (m.group("name"), m.group("ticker")) if m else None
