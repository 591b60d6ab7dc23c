"""Simulated-model policies for Tree of Thoughts' three roles (simulated behaviour).

Each policy reads the numbers in its request, computes the truth by exact search
(:mod:`.puzzles`) and then errs the way the request's model profile says. All randomness
comes from ``ctx.rng`` (seeded by the service from the run seed, the request and its repeat
count), so one seed reproduces one tree and other seeds grow other trees.

How a profile's knobs become ToT behaviour (:func:`behaviour_for`; ``miss = 1 - accuracy``,
``u, w, e`` = the failure mix's underspecified / wrong / empty shares):

* Proposer: each of the ``n`` step slots is, with probability ``accuracy``, a deliberate
  step: the model weighs up to ``1 + round(6 * accuracy)`` random valid steps (all of them
  at accuracy 1) and keeps the first that still leads to the target (else the last, a
  plausible dead end), so the rarer the good steps (harder puzzles), the more often it
  misses them; otherwise the slot fails as the mix draws: ``wrong`` -> an arithmetic error stated confidently (the claimed
  result is off), ``underspecified`` -> an invalid line (a number that is not available, or
  prose instead of a step), ``empty`` -> the slot is left out. The whole reply is empty with
  probability ``miss * e``.
* Evaluator: says ``sure`` (two numbers that make the target, or the target itself),
  ``likely`` (still solvable) or ``impossible``. A solvable state is rejected with
  probability ``miss * (0.5 + strictness)``; a dead one accepted with probability
  ``miss * (1 - strictness) * 0.5``, as ``sure`` when the profile mostly confabulates
  (``w >= 0.5``), else ``likely``. Empty reply with probability ``miss * e``.
* Solver: composes the expression from the chosen chain of steps (trusting their claimed
  results, so earlier arithmetic errors surface here). It fails with probability
  ``miss / 2`` as the mix draws (vague text, a slipped operator still claiming the target,
  or nothing). Abstainers (``e >= 0.5``) never commit to an expression on this closed-form
  task: the solver's reply is always empty, the paper's empty-output signature. Without a
  complete chain the solver tries the puzzle on its own and succeeds with probability
  ``accuracy / 5``.

Every field can be set per profile through ``Profile.extra`` as ``tot_<field>`` of
:class:`TotBehaviour` (e.g. ``tot_p_solver_abstain``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import TypeVar

from maestro.instances.sim_kit import MarkerPolicy, clamp, pad, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest

from .prompts import (
    EVALUATOR_MARKER,
    PROPOSER_MARKER,
    SOLVER_MARKER,
    compose_expression,
    format_numbers,
    parse_evaluator_input,
    parse_proposer_input,
    parse_solver_input,
)
from .puzzles import Move, format_number, moves, solvable, solve

T = TypeVar("T")

__all__ = [
    "TotBehaviour",
    "behaviour_for",
    "ProposerPolicy",
    "EvaluatorPolicy",
    "SolverPolicy",
    "POLICIES",
    "register_sim_policies",
    "state_truth",
]


@dataclass(frozen=True)
class TotBehaviour:
    """Per-call probabilities of one simulated model on ToT (see the module docstring)."""

    p_useful: float
    """Proposer: a step slot holds a step that keeps the puzzle solvable."""
    p_arith: float
    """Proposer: a step slot holds an arithmetic error (wrong claimed result)."""
    p_invalid: float
    """Proposer: a step slot holds an invalid line (unavailable number or prose)."""
    p_empty: float
    """Proposer and evaluator: the whole reply is empty."""
    p_false_reject: float
    """Evaluator: a solvable state is called impossible."""
    p_false_accept: float
    """Evaluator: a dead state is called likely (or sure, when confident)."""
    confident: bool
    """Claims success when wrong: ``sure`` for dead states, ``= target`` for wrong expressions."""
    p_solver_fail: float
    """Solver: a complete chain is written up wrongly (vague, slipped, or empty)."""
    p_solver_abstain: float
    """Solver: the reply is empty no matter what."""
    p_solo: float
    """Solver: solves the puzzle on its own when the chain is incomplete."""
    lookahead: int = 4
    """Proposer: steps a deliberate slot weighs before settling (more finds rare good steps)."""


_PERFECT = 1_000
"""A lookahead this large means: always find a useful step when one exists (accuracy 1)."""


def behaviour_for(ctx: PolicyContext) -> TotBehaviour:
    """The ToT behaviour of the profile in ``ctx`` (overridable by ``tot_<field>`` extras)."""
    fm = ctx.failure_mix
    total = (fm.underspecified + fm.wrong + fm.empty) or 1.0
    u, w, e = fm.underspecified / total, fm.wrong / total, fm.empty / total
    miss = 1.0 - ctx.accuracy
    base = TotBehaviour(
        p_useful=clamp(ctx.accuracy),
        p_arith=clamp(miss * w),
        p_invalid=clamp(miss * u),
        p_empty=clamp(miss * e),
        p_false_reject=clamp(miss * (0.5 + ctx.strictness)),
        p_false_accept=clamp(miss * (1.0 - ctx.strictness) * 0.5),
        confident=w >= 0.5,
        p_solver_fail=clamp(miss / 2),
        p_solver_abstain=1.0 if e >= 0.5 else 0.0,
        p_solo=clamp(ctx.accuracy / 5),
        lookahead=1 + round(6 * ctx.accuracy) if ctx.accuracy < 1.0 else _PERFECT,
    )
    over = {}
    for f in fields(TotBehaviour):
        key = f"tot_{f.name}"
        if key in ctx.extra:
            v = ctx.extra[key]
            over[f.name] = bool(v) if f.name == "confident" else int(v) if f.name == "lookahead" else clamp(v)
    return TotBehaviour(**{**base.__dict__, **over}) if over else base


def state_truth(target: Fraction, remaining: list[Fraction]) -> str:
    """What a perfect evaluator says about ``remaining``: sure, likely or impossible."""
    if len(remaining) == 1:
        return "sure" if remaining[0] == target else "impossible"
    if not solvable(remaining, target):
        return "impossible"
    return "sure" if len(remaining) == 2 else "likely"


def _parsed(parse: Callable[[str], T], request: SimRequest) -> T | None:
    """``parse`` of the request's last user message; None when it does not parse (the
    policy then replies with nothing, as a model would to a garbled prompt)."""
    try:
        return parse(request.last_user)
    except ValueError:
        return None


def _wrong_claim(move: Move, rng) -> Fraction:
    """A confidently wrong result for ``move``: off by a little, or another operation's."""
    others = [r for r in (move.a + move.b, move.a * move.b, move.a - move.b) if r != move.result]
    if others and rng.random() < 0.5:
        return rng.choice(others)
    return move.result + rng.choice((-2, -1, 1, 2))


@dataclass(frozen=True)
class ProposerPolicy(MarkerPolicy):
    """Proposes up to ``n`` next steps from the remaining numbers."""

    name: str = "tot.proposer"
    marker: str = PROPOSER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        rng, beh = ctx.rng, behaviour_for(ctx)
        inp = _parsed(parse_proposer_input, request)
        if inp is None or rng.random() < beh.p_empty or len(inp.remaining) < 2:
            return SimReply(text="")
        avoid = set(inp.avoid)
        valid = [m for m in moves(inp.remaining) if m.text() not in avoid]
        useful = [m for m in valid if solvable(m.left, inp.target)]
        # Plausible dead ends: non-negative results (models rarely go negative unprompted).
        dead = [m for m in valid if m not in useful and m.result >= 0] or [m for m in valid if m not in useful]
        lines: list[str] = []
        for _ in range(max(1, inp.n)):
            r = rng.random()
            if r < beh.p_useful:
                m = self._considered(useful, dead, beh.lookahead, rng)
                if m is None:
                    continue
                lines.append(m.text())
            elif r < beh.p_useful + beh.p_arith and valid:
                m = rng.choice(valid)
                claim = _wrong_claim(m, rng)
                rest = list(m.left)
                rest.remove(m.result)
                left = sorted(rest + [claim])
                lines.append(f"{format_number(m.a)} {m.op} {format_number(m.b)} = {format_number(claim)} "
                             f"(left: {format_numbers(left)})")
            elif r < beh.p_useful + beh.p_arith + beh.p_invalid:
                lines.append(self._invalid(inp.remaining, inp.numbers, rng))
            # else: the slot is left out (an abstained step)
        return SimReply(text="\n".join(lines))

    @staticmethod
    def _considered(useful: list[Move], dead: list[Move], lookahead: int, rng) -> Move | None:
        """A deliberate step: the model weighs up to ``lookahead`` steps in turn and keeps the
        first that still leads to the target, else the last one weighed (a plausible dead end).
        Rare useful steps (hard puzzles) are found less often. Chosen steps leave the pools."""
        pool = useful + dead
        if not pool:
            return None
        if not useful:
            pick = rng.choice(dead)
        elif lookahead >= _PERFECT:
            pick = rng.choice(useful)
        else:
            for _ in range(max(1, lookahead)):
                pick = rng.choice(pool)
                if pick in useful:
                    break
        (useful if pick in useful else dead).remove(pick)
        return pick

    @staticmethod
    def _invalid(remaining: list[Fraction], numbers: list[Fraction], rng) -> str:
        """A line the graph cannot use: a number that is not available, or prose."""
        a = rng.choice(remaining)
        gone = [x for x in numbers if x not in remaining] or [Fraction(rng.randint(14, 20))]
        b = rng.choice(gone)
        if rng.random() < 0.5:
            return f"{format_number(a)} + {format_number(b)} = {format_number(a + b)} (left: {format_number(a + b)})"
        return f"Combine {format_number(a)} with the larger numbers to get closer to the target."


@dataclass(frozen=True)
class EvaluatorPolicy(MarkerPolicy):
    """Values one state: sure / likely / impossible."""

    name: str = "tot.evaluator"
    marker: str = EVALUATOR_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        rng, beh = ctx.rng, behaviour_for(ctx)
        parsed = _parsed(parse_evaluator_input, request)
        if parsed is None:
            return SimReply(text="")
        target, remaining = parsed
        if rng.random() < beh.p_empty or not remaining:
            return SimReply(text="")
        truth = state_truth(target, remaining)
        if truth != "impossible":
            word = "impossible" if rng.random() < beh.p_false_reject else truth
        else:
            word = ("sure" if beh.confident else "likely") if rng.random() < beh.p_false_accept else "impossible"
        if ctx.verbosity >= 1.3:
            why = (f"{format_numbers(remaining)}: trying the combinations of these numbers against "
                   f"{format_number(target)}.")
            return SimReply(text=f"{why}\n{word}")
        return SimReply(text=word)


_SLIP = {"+": "-", "-": "+", "*": "+", "/": "*"}

_PADDING = (
    "Each step uses two of the remaining numbers.",
    "Every original number appears exactly once.",
    "The chain of steps was checked by the evaluator.",
    "Parentheses follow the order of the steps.",
)


@dataclass(frozen=True)
class SolverPolicy(MarkerPolicy):
    """Writes the final expression from the chosen chain of steps."""

    name: str = "tot.solver"
    marker: str = SOLVER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        rng, beh = ctx.rng, behaviour_for(ctx)
        parsed = _parsed(parse_solver_input, request)
        if parsed is None:
            return SimReply(text="")
        target, numbers, steps = parsed
        if rng.random() < beh.p_solver_abstain:
            return SimReply(text="")
        t = format_number(target)
        expr = compose_expression(numbers, steps) if steps else None
        complete = expr is not None and "," not in expr
        if not complete:
            solo = solve(numbers, target)
            if solo is not None and rng.random() < beh.p_solo:
                return SimReply(text=self._render(f"Answer: {solo} = {t}", rng, ctx.verbosity))
            return self._fail(numbers, expr, t, beh, ctx, rng)
        if rng.random() < beh.p_solver_fail:
            return self._fail(numbers, expr, t, beh, ctx, rng)
        claimed = steps[-1].split("=")[1].split("(")[0].strip() if steps else t
        shown = t if beh.confident else claimed
        return SimReply(text=self._render(f"Answer: {expr} = {shown}", rng, ctx.verbosity))

    def _fail(self, numbers, expr: str | None, t: str, beh: TotBehaviour, ctx: PolicyContext, rng) -> SimReply:
        mode = ctx.failure_mix.draw(rng)
        if mode == "empty":
            return SimReply(text="")
        if mode == "wrong":
            if expr is None or "," in expr:
                expr = " + ".join(format_number(x) for x in numbers)  # a confident guess
            else:
                ops = [i for i, c in enumerate(expr) if c in _SLIP and expr[i - 1: i] == " "]
                if ops:
                    i = rng.choice(ops)
                    expr = expr[:i] + _SLIP[expr[i]] + expr[i + 1:]
            return SimReply(text=self._render(f"Answer: {expr} = {t}", rng, ctx.verbosity))
        return SimReply(text=self._render(f"Answer: combine {format_numbers(numbers)} step by step to reach {t}",
                                          rng, ctx.verbosity))

    @staticmethod
    def _render(line: str, rng, verbosity: float) -> str:
        return pad(line, rng, verbosity, _PADDING, cap=8)


POLICIES = (ProposerPolicy(), EvaluatorPolicy(), SolverPolicy())
"""The three ToT policies, in registration order."""


def register_sim_policies() -> None:
    """Register ToT's policies with the simulated service (idempotent: same names replace)."""
    register_policies(POLICIES)
