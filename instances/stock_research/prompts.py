"""Stock Research's agents, prompts and task wording.

The team follows AutoGen's Swarm "Stock Research" example: a ``planner`` that delegates
one agent at a time with handoffs, a ``financial_analyst`` holding ``get_stock_data``, a
``news_analyst`` holding ``get_news`` and a ``writer`` that compiles the report; each
specialist hands back to the planner, and the planner says ``TERMINATE`` when the research
is complete. Prompts are the example's, with the facts the tasks ask for spelt out.

Each system prompt opens with a marker sentence (``*_MARKER``) no other role uses, so a
simulated-model policy recognises the role from the system prompt alone. With tools off the
analysts get a variant of their prompt that names no tool (they have none).

Framework-free: the simulated policies import it.
"""

from __future__ import annotations

import re

__all__ = [
    "PLANNER",
    "FINANCIAL",
    "NEWS",
    "WRITER",
    "AGENT_NAMES",
    "ANALYSTS",
    "HANDOFFS",
    "TERMINATE",
    "PLANNER_MARKER",
    "FINANCIAL_MARKER",
    "NEWS_MARKER",
    "WRITER_MARKER",
    "DESCRIPTIONS",
    "system_prompt",
    "format_question",
    "QUESTION_TEMPLATES",
    "parse_ticker",
    "strip_terminate",
]

PLANNER = "planner"
FINANCIAL = "financial_analyst"
NEWS = "news_analyst"
WRITER = "writer"
AGENT_NAMES = (PLANNER, FINANCIAL, NEWS, WRITER)
"""The four agents; the Swarm starts with the first."""
ANALYSTS = (FINANCIAL, NEWS)
HANDOFFS = {PLANNER: (FINANCIAL, NEWS, WRITER), FINANCIAL: (PLANNER,), NEWS: (PLANNER,), WRITER: (PLANNER,)}
"""Whom each agent can hand off to (AutoGen makes one ``transfer_to_<target>`` tool each)."""

TERMINATE = "TERMINATE"
"""Word the planner says when the research is complete; the team stops on it."""

PLANNER_MARKER = "You are the research planning coordinator of a stock research team."
FINANCIAL_MARKER = "You are the financial analyst of a stock research team."
NEWS_MARKER = "You are the news analyst of a stock research team."
WRITER_MARKER = "You are the financial report writer of a stock research team."

_PLANNER = (
    f"{PLANNER_MARKER} Coordinate market research by delegating to specialized agents:\n"
    "- Financial analyst: for stock data analysis\n"
    "- News analyst: for news gathering and analysis\n"
    "- Writer: for compiling the final report\n"
    "Always send your plan first, then hand off to the appropriate agent. Always hand off to a single agent at a "
    "time. Hand off to the writer once the analysts have reported. "
    f"Use {TERMINATE} when research is complete."
)
_FINANCIAL = {
    True: (f"{FINANCIAL_MARKER} Analyze stock market data using the get_stock_data tool. Report the stock's last "
           "close and its change over the last five trading days in percent. Always hand off back to the planner "
           "when analysis is complete."),
    False: (f"{FINANCIAL_MARKER} Analyze the stock's market data from what you know (you have no data tools). "
            "Report the stock's last close and its change over the last five trading days in percent. Always hand "
            "off back to the planner when analysis is complete."),
}
_NEWS = {
    True: (f"{NEWS_MARKER} Gather and analyze relevant news using the get_news tool. Report the latest headline "
           "with its date and summarize key market insights from the news. Always hand off back to the planner "
           "when analysis is complete."),
    False: (f"{NEWS_MARKER} Analyze relevant news about the company from what you know (you have no news tools). "
            "Report the latest headline with its date and summarize key market insights. Always hand off back to "
            "the planner when analysis is complete."),
}
_WRITER = (
    f"{WRITER_MARKER} Compile the research findings into a clear, concise report: the stock's last close, its "
    "5-day change in percent and the latest headline, taken from what your teammates found. Always hand off back "
    "to the planner when writing is complete."
)

DESCRIPTIONS = {
    PLANNER: "Plans the research and delegates to the analysts and the writer.",
    FINANCIAL: "Analyzes stock prices.",
    NEWS: "Gathers and analyzes news about the company.",
    WRITER: "Writes the final report.",
}
"""Agent descriptions (what agentchat shows other agents)."""


def system_prompt(agent: str, tools_enabled: bool = True) -> str:
    """The system prompt of ``agent``; the analysts' depends on whether they have their tool."""
    if agent == PLANNER:
        return _PLANNER
    if agent == FINANCIAL:
        return _FINANCIAL[bool(tools_enabled)]
    if agent == NEWS:
        return _NEWS[bool(tools_enabled)]
    if agent == WRITER:
        return _WRITER
    raise KeyError(agent)


QUESTION_TEMPLATES = (
    "Write a short report on {ticker}: last close, 5-day change, the latest headline.",
    "Conduct market research for {ticker} stock and write a short report with its last close, its 5-day change "
    "and the latest headline.",
    "How is {ticker} doing? Give me a brief report: the last close, the change over the last 5 trading days and "
    "the most recent headline.",
)
"""Wordings of the bundled questions (``{ticker}`` filled in)."""


def format_question(ticker: str, variant: int = 0) -> str:
    """A question about ``ticker`` in wording ``variant`` (cycled)."""
    return QUESTION_TEMPLATES[variant % len(QUESTION_TEMPLATES)].format(ticker=ticker)


_TICKER_CUE = re.compile(r"\b(?:on|for|about|of|ticker|symbol|is)\s+\$?([A-Z]{2,5})\b")
_DOLLAR_TICKER = re.compile(r"\$([A-Z]{2,5})\b")
_CAPS = re.compile(r"\b[A-Z]{3,5}\b")
_NOT_TICKERS = frozenset({"USD", "EUR", "GBP", "TERMINATE", "CEO", "CFO", "IPO", "ETF", "JSON", "NYSE", "THE", "AND"})


def parse_ticker(text: str) -> str | None:
    """The stock ticker a request is about: the first all-caps word of 2-5 letters after
    "on", "for", "about", "of", "ticker", "symbol" or "is", else the first ``$TICKER``,
    else the first all-caps word of 3-5 letters that is not a common abbreviation."""
    for pattern in (_TICKER_CUE, _DOLLAR_TICKER):
        for m in pattern.finditer(text or ""):
            if m.group(1) not in _NOT_TICKERS:
                return m.group(1)
    for m in _CAPS.finditer(text or ""):
        if m.group(0) not in _NOT_TICKERS:
            return m.group(0)
    return None


def strip_terminate(text: str | None) -> str:
    """``text`` without a closing ``TERMINATE``."""
    t = (text or "").rstrip()
    if t.endswith(TERMINATE):
        t = t[: -len(TERMINATE)].rstrip()
    return t
