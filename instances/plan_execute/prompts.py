"""Plan-and-Execute's prompts and the layouts of the messages its agents send the model.

Each role's system prompt opens with a marker sentence no other role (of any instance)
uses, so the simulated service's policies tell roles apart from the system prompt alone.
The ``format_*``/``parse_*`` pairs are the one definition of each layout, used by the graph
and by the policies.
"""

from __future__ import annotations

import re

from maestro.instances.qa_world.prompt_text import question_line, section

__all__ = [
    "PLANNER_MARKER",
    "EXECUTOR_MARKER",
    "REPLANNER_MARKER",
    "STRICT_VERIFY_SENTENCE",
    "PLANNER_SYSTEM",
    "EXECUTOR_SYSTEM",
    "replanner_system",
    "format_planner_input",
    "format_executor_input",
    "format_replanner_input",
    "parse_planner_input",
    "parse_executor_input",
    "parse_replanner_input",
    "parse_plan",
    "parse_replan",
    "render_plan",
    "VERIFY_PREFIX",
]

PLANNER_MARKER = "You are the planner of a plan-and-execute team."
"""First sentence of the planner's system prompt (policies match on it)."""
EXECUTOR_MARKER = "You are the step executor of a plan-and-execute team."
"""First sentence of the executor's system prompt."""
REPLANNER_MARKER = "You are the replanner of a plan-and-execute team."
"""First sentence of the replanner's system prompt."""
STRICT_VERIFY_SENTENCE = "Never give the final answer until a verification step has confirmed it."
"""Added to the replanner prompt by the ``strict_replanner`` option: a replanner told this
keeps asking for verification (the paper's section 5.2 loop)."""
VERIFY_PREFIX = "Verify that"
"""How the replanner words a verification step (policies recognise earlier rejections by it)."""

PLANNER_SYSTEM = (
    f"{PLANNER_MARKER} Break the user question into a short numbered list of simple steps. "
    "Each step must be answerable with one search and must build on the results of the steps "
    "before it; the last step gives the final answer. Reply with the numbered steps only."
)
"""System prompt of ``planner``."""

EXECUTOR_SYSTEM = (
    f"{EXECUTOR_MARKER} Carry out the current step of the plan. Use the search tools to find "
    "the facts the step needs (think, call a tool, read its result, repeat if needed). When "
    "the step is done, reply without a tool call, starting with 'Result:' and naming the "
    "entity the step asked for."
)
"""System prompt of ``executor`` (a ReAct loop over the search tools)."""

_REPLANNER_BASE = (
    f"{REPLANNER_MARKER} You receive the user question, the original plan and the steps "
    "completed so far with their results. If the results answer the question, reply with a "
    "line 'Answer: <short answer>' naming the entity. Otherwise reply with 'Plan:' followed by "
    "the numbered steps that still need to be done (only those, not the completed ones)."
)


def replanner_system(strict: bool = False) -> str:
    """System prompt of ``replanner`` (``strict`` adds :data:`STRICT_VERIFY_SENTENCE`)."""
    return f"{_REPLANNER_BASE} {STRICT_VERIFY_SENTENCE}" if strict else _REPLANNER_BASE


def render_plan(steps: list[str]) -> str:
    """Numbered steps, one per line ('(none)' when empty)."""
    return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, start=1)) if steps else "(none)"


def _render_done(past: list[tuple[str, str]]) -> str:
    if not past:
        return "(none)"
    return "\n".join(f"{i}. {step}\n   Result: {result or '(no result)'}" for i, (step, result) in enumerate(past, 1))


def format_planner_input(question: str) -> str:
    """The planner's user message."""
    return f"Question: {question}\n\nWrite the plan."


def format_executor_input(question: str, plan: list[str], past: list[tuple[str, str]], step: str) -> str:
    """The executor's first user message: the question, the plan, what is done, the step."""
    return (f"Question: {question}\n\nPlan:\n{render_plan(plan)}\n\nCompleted steps:\n{_render_done(past)}"
            f"\n\nCurrent step: {step}")


def format_replanner_input(question: str, plan: list[str], past: list[tuple[str, str]]) -> str:
    """The replanner's user message."""
    return (f"Question: {question}\n\nOriginal plan:\n{render_plan(plan)}\n\nCompleted steps:\n{_render_done(past)}"
            "\n\nUpdate the plan or give the answer.")


_STEP_LINE = re.compile(r"^Current step:[ \t]*(.*)$", re.MULTILINE)


def parse_planner_input(text: str) -> str:
    """The question in a planner message."""
    return question_line(text)


def parse_executor_input(text: str) -> tuple[str, str, str]:
    """``(question, completed-steps text, current step)`` from an executor message."""
    m = _STEP_LINE.search(text)
    return question_line(text), section(text, "Completed steps:\n", "\n\nCurrent step:"), m.group(1).strip() if m else ""


def parse_replanner_input(text: str) -> tuple[str, str]:
    """``(question, completed-steps text)`` from a replanner message."""
    return question_line(text), section(text, "Completed steps:\n", "\n\nUpdate the plan")


_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(.*\S)\s*$")
_ANSWER = re.compile(r"^\W*(?:final\s+)?answer\W*?[:\-]\s*(.*)$", re.IGNORECASE)


def parse_plan(text: str | None) -> list[str]:
    """Steps of a numbered (or bulleted) list; a reply without a list is one step."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    steps = [m.group(1).strip() for m in (_NUMBERED.match(ln) for ln in lines) if m]
    if steps:
        return steps
    flat = " ".join(ln.strip() for ln in lines if not ln.strip().lower().startswith("plan:"))
    return [flat] if flat else []


def parse_replan(text: str | None) -> tuple[str | None, list[str]]:
    """``(answer, steps)`` of a replanner reply: an ``Answer:`` line wins (its text may be
    '' for an explicit empty answer); otherwise the listed steps. A reply with neither is
    taken as an answer (the model ended the loop in its own words)."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for ln in lines:
        m = _ANSWER.match(ln)
        if m:
            ans = m.group(1).strip().strip("*_").strip()
            return (ans[:-1].rstrip() if ans.endswith(".") else ans), []
    steps = parse_plan(text)
    if any(ln.lower().startswith("plan") for ln in lines) and steps:
        return None, steps
    return " ".join(lines), []
