"""Tree of Thoughts prompts, and the layouts of the messages its three agents exchange.

Every role's system prompt opens with a marker sentence (``*_MARKER``) no other role uses,
so the simulated service's policies tell the roles apart from the system prompt alone. The
user messages have fixed line layouts (``Target:``, ``Numbers:``, ``Steps so far:``,
``Remaining:``); the ``format_*`` and ``parse_*`` helpers here are the single definition of
them for both the graph and the policies.

A step is one line ``a op b = c (left: x y)``: two of the remaining numbers, an operation,
the claimed result and the numbers left afterwards. Fractions are written ``8/3``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .puzzles import format_number, parse_number

__all__ = [
    "PROPOSER_MARKER",
    "EVALUATOR_MARKER",
    "SOLVER_MARKER",
    "PROPOSER_SYSTEM",
    "EVALUATOR_SYSTEM",
    "SOLVER_SYSTEM",
    "VALUES",
    "Step",
    "ProposerInput",
    "format_numbers",
    "parse_numbers",
    "format_proposer_input",
    "parse_proposer_input",
    "format_evaluator_input",
    "parse_evaluator_input",
    "format_solver_input",
    "parse_solver_input",
    "parse_step",
    "parse_proposals",
    "parse_value",
    "extract_answer",
    "compose_expression",
]

PROPOSER_MARKER = "You are the step proposer of a tree-of-thoughts arithmetic team."
"""First sentence of the proposer's system prompt (policies match on it)."""
EVALUATOR_MARKER = "You are the state evaluator of a tree-of-thoughts arithmetic team."
"""First sentence of the evaluator's system prompt."""
SOLVER_MARKER = "You are the solution writer of a tree-of-thoughts arithmetic team."
"""First sentence of the solver's system prompt."""

PROPOSER_SYSTEM = (
    f"{PROPOSER_MARKER} The team must reach a target number by combining the given numbers "
    "with + - * / , each number used exactly once. You receive the steps taken so far and the "
    "numbers that remain. Propose possible next steps: each combines two of the remaining "
    "numbers with one operation. Write one step per line, exactly in the form "
    "'a op b = c (left: x y z)', where c is the exact result (fractions as 8/3) and 'left' lists "
    "the numbers remaining after the step. Write nothing else."
)
"""System prompt of ``proposer``."""

EVALUATOR_SYSTEM = (
    f"{EVALUATOR_MARKER} You receive a target and the numbers that remain after some steps. "
    "Judge whether the remaining numbers can still be combined, each exactly once, with + - * / "
    "to reach the target. You may reason in a few short lines; end with one word on its own "
    "line: sure (you can see how), likely (plausible, within reach) or impossible (too big, too "
    "small or no combination works)."
)
"""System prompt of ``evaluator``."""

SOLVER_SYSTEM = (
    f"{SOLVER_MARKER} You receive the puzzle's numbers and target and the chain of steps the "
    "team found. Write one arithmetic expression that uses each of the original numbers exactly "
    "once, with + - * / and parentheses, following those steps. Start your reply with a line of "
    "the form 'Answer: <expression> = <target>'; you may add one or two sentences after it."
)
"""System prompt of ``solver``."""

VALUES = {"sure": 20.0, "likely": 1.0, "impossible": 0.001}
"""Score of each evaluator verdict (the weights Tree of Thoughts uses for Game of 24)."""


def format_numbers(numbers) -> str:
    """``4 6 8/3``: numbers separated by spaces."""
    return " ".join(format_number(Fraction(x)) for x in numbers)


def parse_numbers(text: str) -> list[Fraction]:
    """Inverse of :func:`format_numbers`; ValueError naming the bad token."""
    return [parse_number(t) for t in text.split()]


@dataclass(frozen=True)
class Step:
    """One parsed step line."""

    a: Fraction
    """Left operand."""
    op: str
    """``+ - * /``."""
    b: Fraction
    """Right operand."""
    claimed: Fraction
    """The result the line claims (maybe wrong: the graph does no arithmetic)."""
    text: str
    """The line, normalised to ``a op b = c (left: ...)`` with the left list recomputed."""


@dataclass(frozen=True)
class ProposerInput:
    """What the proposer's user message says."""

    target: Fraction
    numbers: list[Fraction]
    """The puzzle's original numbers."""
    steps: list[str]
    """Steps taken so far."""
    remaining: list[Fraction]
    n: int
    """How many steps to propose at most."""
    avoid: list[str]
    """Steps proposed earlier from this state whose results were all rejected."""


_REJECTED = "Rejected before (propose other steps)"
"""Label of the proposer's line listing steps whose results were all pruned."""


def _steps_block(steps: list[str]) -> str:
    return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, start=1)) if steps else "(none)"


def format_proposer_input(target, numbers, steps: list[str], remaining, n: int, avoid: Sequence[str] = ()) -> str:
    """The proposer's user message for one state."""
    text = (f"Target: {format_number(Fraction(target))}\nNumbers: {format_numbers(numbers)}\n"
            f"Steps so far:\n{_steps_block(list(steps))}\nRemaining: {format_numbers(remaining)}\n")
    if avoid:
        text += f"{_REJECTED}: " + "; ".join(avoid) + "\n"
    return text + f"\nPropose up to {int(n)} next steps."


_LINE = {k: re.compile(rf"^{re.escape(k)}:[ \t]*(.*)$", re.MULTILINE)
         for k in ("Target", "Numbers", "Remaining", _REJECTED)}
_N = re.compile(r"Propose up to (\d+) next steps")
_STEP_ITEM = re.compile(r"^\s*\d+\.\s*(.*)$")


def _field(text: str, key: str) -> str:
    m = _LINE[key].search(text)
    return m.group(1).strip() if m else ""


def _steps_section(text: str, header: str) -> list[str]:
    start = text.find(header)
    if start < 0:
        return []
    out = []
    for line in text[start + len(header):].splitlines():
        m = _STEP_ITEM.match(line)
        if not m:
            break  # "(none)" or the next field ends the list
        out.append(m.group(1).strip())
    return out


def parse_proposer_input(text: str) -> ProposerInput:
    """The fields of a proposer user message (ValueError when it is not one)."""
    m = _N.search(text)
    avoid = _field(text, _REJECTED)
    return ProposerInput(
        target=parse_number(_field(text, "Target")),
        numbers=parse_numbers(_field(text, "Numbers")),
        steps=_steps_section(text, "Steps so far:\n"),
        remaining=parse_numbers(_field(text, "Remaining")),
        n=int(m.group(1)) if m else 1,
        avoid=[s.strip() for s in avoid.split(";") if s.strip()] if avoid else [],
    )


def format_evaluator_input(target, remaining) -> str:
    """The evaluator's user message for one state."""
    return (f"Target: {format_number(Fraction(target))}\nRemaining: {format_numbers(remaining)}\n\n"
            "Can the remaining numbers reach the target? (sure/likely/impossible)")


def parse_evaluator_input(text: str) -> tuple[Fraction, list[Fraction]]:
    """``(target, remaining)`` from an evaluator user message."""
    return parse_number(_field(text, "Target")), parse_numbers(_field(text, "Remaining"))


def format_solver_input(target, numbers, steps: list[str]) -> str:
    """The solver's user message: the puzzle and the chosen chain of steps."""
    return (f"Target: {format_number(Fraction(target))}\nNumbers: {format_numbers(numbers)}\n"
            f"Steps:\n{_steps_block(list(steps))}\n\nWrite the final expression.")


def parse_solver_input(text: str) -> tuple[Fraction, list[Fraction], list[str]]:
    """``(target, numbers, steps)`` from a solver user message."""
    return parse_number(_field(text, "Target")), parse_numbers(_field(text, "Numbers")), _steps_section(text, "Steps:\n")


_NUM = r"-?\d+(?:/\d+)?"
_STEP = re.compile(rf"^(?:\d+[.)]\s+|[-*•]\s+)?({_NUM})\s+([-+*/×÷x])\s+({_NUM})\s*=\s*({_NUM})")
_OPS = {"×": "*", "x": "*", "÷": "/"}


def _take(pool: list[Fraction], x: Fraction) -> bool:
    if x in pool:
        pool.remove(x)
        return True
    return False


def parse_step(line: str, remaining) -> tuple[Step, list[Fraction]] | None:
    """Parse one proposed step against the remaining numbers.

    Returns the step and the numbers left after it (the *claimed* result replaces the two
    operands), or None when the line is not a step or uses a number that is not available.
    """
    m = _STEP.match(line.strip())
    if not m:
        return None
    try:
        a, b, claimed = (parse_number(m.group(i)) for i in (1, 3, 4))
    except ValueError:
        return None
    op = _OPS.get(m.group(2), m.group(2))
    pool = list(remaining)
    if not (_take(pool, a) and _take(pool, b)):
        return None
    left = sorted([Fraction(x) for x in pool] + [claimed])
    text = f"{format_number(a)} {op} {format_number(b)} = {format_number(claimed)} (left: {format_numbers(left)})"
    return Step(a, op, b, claimed, text), left


def parse_proposals(text: str | None, remaining) -> tuple[list[tuple[Step, list[Fraction]]], int]:
    """``(valid steps with their remaining numbers, number of rejected non-empty lines)``."""
    out, bad = [], 0
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parsed = parse_step(line, remaining)
        if parsed is None:
            bad += 1
        else:
            out.append(parsed)
    return out, bad


_VALUE_WORD = re.compile(r"\b(sure|likely|impossible)\b", re.IGNORECASE)


def parse_value(text: str | None) -> str | None:
    """The evaluator's verdict: the last of ``sure``/``likely``/``impossible`` in the reply."""
    found = _VALUE_WORD.findall(text or "")
    return found[-1].lower() if found else None


_ANSWER_LINE = re.compile(r"^\W*(?:final\s+)?answer\s*[:\-]\s*(.*)$", re.IGNORECASE)


def extract_answer(text: str | None) -> str:
    """The expression in a solver reply: the text after ``Answer:`` (first such line), else
    the first non-empty line; ``= target`` stays (the verifier ignores it)."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for ln in lines:
        m = _ANSWER_LINE.match(ln)
        if m:
            return m.group(1).strip().strip("*_`").strip()
    return lines[0] if lines else ""


def compose_expression(numbers, steps: list[str]) -> str | None:
    """The expression the chain ``steps`` builds from ``numbers``, trusting each step's
    claimed result (so a wrong step yields an expression with another value). None when a
    step uses a number that is not available at that point or is not a step."""
    items: list[tuple[Fraction, str]] = [(Fraction(x), format_number(Fraction(x))) for x in numbers]
    for line in steps:
        parsed = parse_step(line, [v for v, _ in items])
        if parsed is None:
            return None
        step, _ = parsed
        ia = next(i for i, (v, _) in enumerate(items) if v == step.a)
        ea = items.pop(ia)[1]
        ib = next(i for i, (v, _) in enumerate(items) if v == step.b)
        eb = items.pop(ib)[1]
        items.append((step.claimed, f"({ea} {step.op} {eb})"))
    if len(items) != 1:
        return " , ".join(e for _, e in items)  # an unfinished chain: the pieces, unjoined
    expr = items[0][1]
    return expr[1:-1] if expr.startswith("(") and expr.endswith(")") and len(steps) else expr
