"""LATS prompts and the layouts of the messages its agents send the model.

Role marker sentences open each system prompt so simulated policies can tell the roles
apart; ``format_*``/``parse_*`` pairs are the single definition of each message layout.
"""

from __future__ import annotations

import re

from maestro.instances.qa_world.prompt_text import question_line, section

from .tree import SearchNode

__all__ = [
    "EXPAND_MARKER",
    "REFLECT_MARKER",
    "EXPAND_SYSTEM",
    "REFLECT_SYSTEM",
    "render_trajectory",
    "render_step",
    "format_expand_input",
    "format_reflect_input",
    "parse_expand_input",
    "parse_reflect_input",
    "parse_reflection",
    "parse_candidate_answer",
]

EXPAND_MARKER = "You are the action generator of a language agent tree search."
"""First sentence of the expansion prompt (policies match on it)."""
REFLECT_MARKER = "You are the evaluator of a language agent tree search."
"""First sentence of the reflection prompt."""

EXPAND_SYSTEM = (
    f"{EXPAND_MARKER} You receive a question and the actions taken so far with their "
    "observations. Propose the next action: either call one of the search tools with a "
    "focused query, or, when the observations already answer the question, reply with a "
    "line 'Answer: <short answer>' naming the entity. Several candidates are drawn for each "
    "step; make this one a sensible, possibly different, choice."
)
"""System prompt of ``expand``."""

REFLECT_SYSTEM = (
    f"{REFLECT_MARKER} You receive a question, the trajectory so far and one candidate "
    "action with its observation. Reflect briefly on whether the candidate makes progress "
    "towards the answer, then give a line 'Score: <0-10>' and a line 'Solved: yes' only when "
    "the candidate is a final answer that you are confident is correct, else 'Solved: no'."
)
"""System prompt of ``reflect``."""


def render_step(node: SearchNode) -> str:
    """One action with its observation, as the model sees it."""
    if node.action == "answer":
        return f"answer: {node.answer or ''}"
    obs = node.observation.strip() or "(no results)"
    return f"search[{node.tool}]: {node.query}\n   Observation: {obs}"


def render_trajectory(steps: list[SearchNode]) -> str:
    """Numbered steps ('(none)' when empty)."""
    if not steps:
        return "(none)"
    return "\n".join(f"{i}. {render_step(n)}" for i, n in enumerate(steps, start=1))


def format_expand_input(question: str, steps: list[SearchNode], candidate: int, width: int) -> str:
    """The expansion's user message for candidate ``candidate`` of ``width``."""
    return (f"Question: {question}\n\nTrajectory so far:\n{render_trajectory(steps)}\n\n"
            f"Propose candidate {candidate} of {width} for the next action.")


def format_reflect_input(question: str, steps: list[SearchNode], candidate: SearchNode) -> str:
    """The reflection's user message: the trajectory up to the candidate's parent, then it."""
    return (f"Question: {question}\n\nTrajectory so far:\n{render_trajectory(steps)}\n\n"
            f"Candidate:\n{render_step(candidate)}\n\nEvaluate the candidate.")



def parse_expand_input(text: str) -> tuple[str, str]:
    """``(question, trajectory text)`` from an expansion message."""
    return question_line(text), section(text, "Trajectory so far:\n", "\n\nPropose candidate")


def parse_reflect_input(text: str) -> tuple[str, str, str]:
    """``(question, trajectory text, candidate text)`` from a reflection message."""
    return (question_line(text), section(text, "Trajectory so far:\n", "\n\nCandidate:"),
            section(text, "Candidate:\n", "\n\nEvaluate the candidate."))


_SCORE = re.compile(r"score\W*?[:=]\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_SOLVED = re.compile(r"solved\W*?[:=]\s*(yes|no|true|false)", re.IGNORECASE)


def parse_reflection(text: str | None) -> tuple[float, bool]:
    """``(score in 0..1, solved)`` from a reflection; a reply without a score scores 0."""
    t = text or ""
    m = _SCORE.search(t)
    score = min(10.0, max(0.0, float(m.group(1)))) / 10.0 if m else 0.0
    s = _SOLVED.search(t)
    return score, s is not None and s.group(1).lower() in ("yes", "true")


_ANSWER = re.compile(r"^\W*(?:final\s+)?answer\W*?[:\-]\s*(.*)$", re.IGNORECASE)


def parse_candidate_answer(text: str | None) -> str:
    """The answer in an expansion reply without a tool call: the text after 'Answer:' on
    its first such line, else the first line; '' for an empty reply."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for ln in lines:
        m = _ANSWER.match(ln)
        if m:
            ans = m.group(1).strip().strip("*_").strip()
            return ans[:-1].rstrip() if ans.endswith(".") else ans
    return lines[0] if lines else ""
