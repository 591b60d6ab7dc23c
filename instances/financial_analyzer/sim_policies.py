"""Simulated-model behaviour for the financial analyzer's roles.

Each policy recognises its role by the marker sentence of the agent's instruction (the
system prompt mcp-agent sends) and reads only the request: the objective and plan progress
mcp-agent puts in the prompt, the tools offered (MCP tools appear as ``<server>_<tool>``),
tool results, and teammates' results pasted into the task prompt. None reads the corpus or
the task's facts: a simulated model knows what its context shows. Randomness comes only
from ``ctx.rng``, drawn in the order the docstrings give.

* **Planner** (mcp-agent's full-plan prompt, answered as the ``Plan`` JSON it asks for):
  finds the agents by their descriptions and reads the progress: what the steps so far
  produced (collected figures, a growth figure, a report). With nothing done it plans
  either the whole job (collect, analyse, write: three steps) or, a cautious planner, the
  collection alone (probability ``CAUTIOUS``, drawn once); later it plans what is missing,
  and declares the objective complete once a report is among the results (or after
  ``MAX_STEPS`` steps, so every run ends).
* **Collector** (the optimizer of the evaluator-optimizer loop): searches the corpus for
  the company (when a search tool is offered and no result is in context), then fetches
  the quote page a result links to (probability ``0.5 + accuracy / 2``; otherwise it
  answers without the price), then states the figures. Each figure is read right with
  probability ``accuracy``; otherwise it fails as the failure mix draws: ``wrong`` (the
  neighbouring figure: the earlier release's revenue, the previous close), or, for
  ``underspecified`` and ``empty``, not stated. Without tools it answers from what it
  knows, which for a fictional company is the failure mix: invented figures (``wrong``) or
  none.
* **Evaluator**: rates the collector's current response by the figures it states (3:
  EXCELLENT, 2: GOOD, 1: FAIR, 0: POOR), asks for the missing ones, and with probability
  ``(1 - accuracy) / 2`` overlooks one stated figure (rating it one lower).
* **Analyst**: computes the growth from the revenue figures in its context (the last ones
  stated): right with probability ``accuracy``, else ``wrong`` divides by the latest
  quarter instead of the earlier one and the other failures state no figure.
* **Report writer**: copies the figures from its context into the report; with a files tool
  offered and no result of it yet, it first saves the report (``write_file``).
* **Synthesizer**: returns the last report in the plan's results (or composes one from the
  figures it finds).

Length follows the profile's ``verbosity`` (filler sentences).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from maestro.instances.sim_kit import MarkerPolicy, clamp, pad, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimToolCall

from .prompts import (
    ANALYST_MARKER,
    COLLECTOR_MARKER,
    EVALUATOR_MARKER,
    PLANNER_MARKER,
    REPORT_FILE,
    SYNTHESIZER_MARKER,
    WRITER_MARKER,
    parse_company,
)
from .report import (
    REPORT_HEADING,
    format_data,
    format_growth,
    format_report,
    read_growth,
    read_previous_revenue,
    read_price,
    read_quote,
    read_releases,
    read_revenue,
    report_block,
)

__all__ = ["PlannerPolicy", "CollectorPolicy", "EvaluatorPolicy", "AnalystPolicy", "WriterPolicy",
           "SynthesizerPolicy", "POLICIES", "register_sim_policies", "CAUTIOUS", "MAX_STEPS"]

CAUTIOUS = 0.5
"""Chance that the planner first plans the data collection alone."""
MAX_STEPS = 6
"""Steps after which the planner declares the objective complete whatever the results."""

_PADDING = (
    "Figures are in US dollars.", "The quarter follows the calendar year.", "Sources are the company's releases.",
    "No restatements were found.", "The share price is the latest close on the exchange.",
)


def _pad(text: str, ctx: PolicyContext) -> str:
    return pad(text, ctx.rng, ctx.verbosity, _PADDING, cap=5)


def _company(request: SimRequest) -> tuple[str, str]:
    return parse_company(request.text) or ("the company", "N/A")


def _tool(request: SimRequest, suffix: str) -> str | None:
    """The offered tool whose name ends with ``suffix`` (MCP tools are ``<server>_<tool>``)."""
    return next((t.name for t in request.tools if t.name == suffix or t.name.endswith("_" + suffix)), None)


def _results(request: SimRequest, tool: str | None) -> list[str]:
    """Texts of the results of calls of ``tool`` in the conversation."""
    if tool is None:
        return []
    called = {c.id for m in request.messages for c in m.tool_calls if c.name == tool}
    return [m.content for m in request.messages if m.role == "tool" and m.tool_call_id in called]


# -- planner ---------------------------------------------------------------------------
_AGENT = re.compile(r"Agent Name: (?P<name>\S+)\nDescription: (?P<desc>[^\n]*)")


def _agents(prompt: str) -> dict[str, str]:
    """Role -> agent name, recognised by the agents' descriptions."""
    roles = {}
    for m in _AGENT.finditer(prompt):
        desc = m.group("desc").lower()
        # The role label each worker's instruction carries ("Analysis: ..."), not a word of its prose.
        for role, word in (("collect", "data collection:"), ("analyse", "analysis:"), ("write", "report writing:")):
            if word in desc and role not in roles:
                roles[role] = m.group("name")
    return roles


@dataclass(frozen=True)
class PlannerPolicy(MarkerPolicy):
    """The orchestrator's planner (see the module docstring)."""

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        prompt = request.last_user
        progress = prompt.split("Progress So Far", 1)[-1].split("Plan Current Status", 1)[0]
        steps_done = progress.count("Step Subtasks:")
        if REPORT_HEADING in progress or steps_done >= MAX_STEPS:
            return SimReply(text=json.dumps({"steps": [], "is_complete": True}))
        roles = _agents(prompt)
        name, ticker = _company(request)
        has_data = read_revenue(progress) is not None and read_previous_revenue(progress) is not None
        has_growth = read_growth(progress) is not None
        steps = []
        if not has_data and "collect" in roles:
            steps.append(("Collect the data", roles["collect"],
                          f"Collect {name} ({ticker}): latest quarterly revenue, previous quarter revenue and the "
                          "current share price"))
        cautious = steps_done == 0 and ctx.rng.random() < CAUTIOUS
        if not cautious:
            if not has_growth and "analyse" in roles:
                steps.append(("Analyse the figures", roles["analyse"],
                              f"Compute {name}'s quarter-over-quarter revenue growth from the collected revenue"))
            if "write" in roles:
                steps.append(("Write the report", roles["write"], f"Write the financial report on {name} ({ticker})"))
        plan = {"steps": [{"description": d, "tasks": [{"description": t, "agent": a}]} for d, a, t in steps],
                "is_complete": not steps}
        return SimReply(text=json.dumps(plan))


# -- collector ---------------------------------------------------------------------------
def _misread(ctx: PolicyContext, right: float | None, neighbour: float | None) -> float | None:
    """``right`` with probability ``accuracy``; else ``neighbour`` (wrong) or nothing."""
    if right is None or ctx.rng.random() < ctx.accuracy:
        return right
    return neighbour if ctx.failure_mix.draw(ctx.rng) == "wrong" else None


@dataclass(frozen=True)
class CollectorPolicy(MarkerPolicy):
    """The data collector (see the module docstring)."""

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        name, ticker = _company(request)
        search, fetch = _tool(request, "search"), _tool(request, "fetch")
        if search is None and fetch is None:
            return SimReply(text=_pad(self._from_memory(name, ticker, ctx), ctx))
        found = "\n".join(_results(request, search))
        if search is not None and not found:
            return SimReply(tool_calls=(SimToolCall(search, {"query": f"{name} {ticker} quarterly revenue share price"}),))
        pages = "\n".join(_results(request, fetch))
        quote_url = next(iter(re.findall(r"https?://[^\s\"']+/quote/" + re.escape(ticker), found)), None)
        if fetch is not None and quote_url and not pages and ctx.rng.random() < clamp(0.5 + ctx.accuracy / 2):
            return SimReply(tool_calls=(SimToolCall(fetch, {"url": quote_url}),))
        releases = read_releases(found)
        latest, earlier = (releases + [None, None])[:2]
        revenue = _misread(ctx, latest[1] if latest else None, earlier[1] if earlier else None)
        previous = _misread(ctx, latest[2] if latest else None, earlier[2] if earlier else None)
        last, previous_close = read_quote(pages)
        price = _misread(ctx, last, previous_close)
        return SimReply(text=_pad(format_data(name, ticker, revenue, previous, price), ctx))

    @staticmethod
    def _from_memory(name: str, ticker: str, ctx: PolicyContext) -> str:
        # A fictional company is unknown to the model: it invents or admits it has nothing.
        if ctx.failure_mix.draw(ctx.rng) == "wrong":
            revenue = round(ctx.rng.uniform(100, 900), 1)
            return format_data(name, ticker, revenue, round(revenue * ctx.rng.uniform(0.9, 1.1), 1),
                               round(ctx.rng.uniform(10, 250), 2))
        return f"I could not find reliable figures for {name} ({ticker})."


# -- evaluator ---------------------------------------------------------------------------
_LABELS = ("latest quarterly revenue", "previous quarter revenue", "current share price")


@dataclass(frozen=True)
class EvaluatorPolicy(MarkerPolicy):
    """The collector's evaluator (see the module docstring)."""

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        response = request.last_user.split("Current Response", 1)[-1]
        stated = [read_revenue(response) is not None, read_previous_revenue(response) is not None,
                  read_price(response) is not None]
        if any(stated) and ctx.rng.random() < (1 - ctx.accuracy) / 2:
            stated[stated.index(True)] = False  # overlooked
        missing = [label for label, ok in zip(_LABELS, stated) if not ok]
        rating = 3 - len(missing)
        feedback = "All required figures are stated." if not missing else \
            "Missing: " + ", ".join(missing) + ". State each with its figure."
        return SimReply(text=json.dumps({"rating": rating, "feedback": feedback, "needs_improvement": bool(missing),
                                         "focus_areas": missing}))


# -- analyst -----------------------------------------------------------------------------
@dataclass(frozen=True)
class AnalystPolicy(MarkerPolicy):
    """The analyst (see the module docstring)."""

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        text = request.text
        revenue, previous = read_revenue(text, last=True), read_previous_revenue(text, last=True)
        if revenue is None or previous is None or previous == 0:
            return SimReply(text="The collected data do not state both quarters' revenue, so the growth cannot be "
                                 "computed.")
        if ctx.rng.random() < ctx.accuracy:
            growth = (revenue - previous) / previous * 100
        elif ctx.failure_mix.draw(ctx.rng) == "wrong":
            growth = (revenue - previous) / revenue * 100  # the wrong base
        else:
            return SimReply(text=_pad("Revenue moved between the two quarters; the trend deserves attention.", ctx))
        return SimReply(text=_pad(format_growth(growth, revenue, previous), ctx))


# -- writer and synthesizer -------------------------------------------------------------
def _report_from(text: str, name: str, ticker: str) -> str:
    return format_report(name, ticker, read_revenue(text, last=True), read_growth(text, last=True),
                         read_price(text, last=True))


@dataclass(frozen=True)
class WriterPolicy(MarkerPolicy):
    """The report writer (see the module docstring)."""

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        name, ticker = _company(request)
        report = _report_from(request.text, name, ticker)
        write = _tool(request, "write_file")
        if write is not None and not _results(request, write):
            return SimReply(tool_calls=(SimToolCall(write, {"path": REPORT_FILE, "content": report}),))
        return SimReply(text=_pad(report, ctx))


@dataclass(frozen=True)
class SynthesizerPolicy(MarkerPolicy):
    """The orchestrator's synthesizer (see the module docstring)."""

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        block = report_block(request.text)
        if block is None:
            name, ticker = _company(request)
            block = _report_from(request.text, name, ticker)
        return SimReply(text=_pad(block, ctx))


POLICIES = (
    PlannerPolicy("financial_analyzer.planner", PLANNER_MARKER),
    CollectorPolicy("financial_analyzer.collector", COLLECTOR_MARKER),
    EvaluatorPolicy("financial_analyzer.evaluator", EVALUATOR_MARKER),
    AnalystPolicy("financial_analyzer.analyst", ANALYST_MARKER),
    WriterPolicy("financial_analyzer.writer", WRITER_MARKER),
    SynthesizerPolicy("financial_analyzer.synthesizer", SYNTHESIZER_MARKER),
)
"""Every role's policy."""


def register_sim_policies() -> None:
    """Register the financial analyzer's policies with the simulated service (idempotent)."""
    register_policies(POLICIES)
