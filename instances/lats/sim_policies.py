"""Simulated-model behaviour for LATS's two LLM roles (expansion and reflection).

Roles are recognised by the marker sentences of their system prompts; the question and
trajectory come from the user message (layouts in ``prompts``); the truth comes from the
QA world. Randomness comes only from ``ctx.rng``; each candidate's prompt names its index,
so the ``width`` candidates of one node are independent draws.

* Expansion: when the trajectory already names the gold, it answers (right with
  probability ``accuracy``, else as ``failure_mix`` draws). Otherwise it guesses an answer
  too early with probability ``lats_p_guess`` (``P_GUESS`` per profile, overridable by the
  profile's ``extra``; for other profiles
  ``0.05 + 0.4 * (1 - accuracy)``), a guess being wrong as ``failure_mix`` draws; or it
  searches: web search (when offered) with probability 0.5, else the local retriever,
  asking the next unresolved hop's one-hop question with probability ``accuracy`` and a
  keyword query otherwise.
* Reflection: scores the candidate from its content. A search that resolves a new hop
  scores ``0.35 + 0.55 * resolved / hops``, one that does not ``0.1 + 0.15 * resolved /
  hops``; an answer naming the gold scores 0.95 and one that does not 0.1 (an empty one 0).
  Gaussian noise with standard deviation ``0.04 + 0.3 * (1 - accuracy)`` blurs every score,
  so weaker models steer the search down worse branches. A wrong answer is judged right
  (score 0.85, solved) with probability ``(1 - accuracy) * (1 - strictness)`` (lenient,
  inaccurate evaluators accept confabulations); a right one is solved when its noisy score
  stays >= 0.8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from maestro.instances.qa_world.lookup import KnownQuestion
from maestro.instances.qa_world.policy_kit import (
    failure_answer,
    hop_question,
    hops_of,
    keyword_query,
    known_question,
    resolved_hops,
)
from maestro.instances.qa_world.scoring import contains_span
from maestro.instances.sim_kit import MarkerPolicy, pad, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimToolCall

from .prompts import EXPAND_MARKER, REFLECT_MARKER, parse_expand_input, parse_reflect_input

__all__ = ["ExpandPolicy", "ReflectPolicy", "POLICIES", "register_sim_policies", "search_score", "P_GUESS"]

P_GUESS: dict[str, float] = {"strong": 0.05, "underspecified": 0.15, "abstaining": 0.1, "confabulating": 0.3}
"""``lats_p_guess`` per simulated profile: how often an expansion answers before the evidence
is in (other profiles: 0.05 + 0.4 x (1 - accuracy)). A profile's ``extra`` overrides it."""

_PADDING = (
    "The observations support this.",
    "Nothing in the trajectory contradicts it.",
    "This follows the chain of facts the question needs.",
    "The sources agree on this point.",
)


def _pad(text: str, rng, verbosity: float) -> str:
    return pad(text, rng, verbosity, _PADDING, cap=20)


def _answer_reply(kq: KnownQuestion | None, ctx: PolicyContext, context: str, right: bool) -> SimReply:
    if right and kq is not None and kq.gold:
        return SimReply(text=_pad(f"Answer: {kq.gold}", ctx.rng, ctx.verbosity))
    text = failure_answer(kq, ctx.failure_mix.draw(ctx.rng), ctx.rng, context)
    return SimReply(text=_pad(f"Answer: {text}", ctx.rng, ctx.verbosity) if text else "")


@dataclass(frozen=True)
class ExpandPolicy(MarkerPolicy):
    """Proposes one candidate action: a search or an answer."""

    name: str = "lats.expand"
    marker: str = EXPAND_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, traj = parse_expand_input(request.last_user)
        kq = known_question(question)
        rng = ctx.rng
        tools = sorted(t.name for t in request.tools)
        if kq is None:
            if tools and not traj:
                return SimReply(tool_calls=(SimToolCall(name=tools[0], arguments={"query": keyword_query(question)}),))
            return _answer_reply(None, ctx, traj, right=False)
        hops = hops_of(kq)
        done = resolved_hops(kq, traj)
        if done >= hops:
            return _answer_reply(kq, ctx, traj, right=rng.random() < ctx.accuracy)
        p_guess = float(ctx.extra.get("lats_p_guess", P_GUESS.get(ctx.profile_name, 0.05 + 0.4 * (1.0 - ctx.accuracy))))
        if not tools or rng.random() < p_guess:
            return _answer_reply(kq, ctx, traj, right=False)
        web = [t for t in tools if "web" in t]
        local = [t for t in tools if "web" not in t] or tools
        pick = web[0] if web and rng.random() < 0.5 else local[0]
        query = hop_question(kq, done) if rng.random() < ctx.accuracy else keyword_query(question)
        return SimReply(tool_calls=(SimToolCall(name=pick, arguments={"query": query}),))


def search_score(kq: KnownQuestion, trajectory_text: str, observation: str) -> float:
    """Noise-free score of a search candidate: progress it makes on the question's hops."""
    hops = hops_of(kq)
    before = resolved_hops(kq, trajectory_text)
    after = resolved_hops(kq, trajectory_text + "\n" + observation)
    if after > before:
        return 0.35 + 0.55 * after / hops
    return 0.1 + 0.15 * before / hops


_ANSWER_STEP = re.compile(r"^answer:\s*(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ReflectPolicy(MarkerPolicy):
    """Scores one candidate (0-10) and says whether an answer is solved."""

    name: str = "lats.reflect"
    marker: str = REFLECT_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, traj, candidate = parse_reflect_input(request.last_user)
        kq = known_question(question)
        rng = ctx.rng
        noise = rng.gauss(0.0, 0.04 + 0.3 * (1.0 - ctx.accuracy))
        m = _ANSWER_STEP.match(candidate.strip())
        solved = False
        if m is not None:
            answer = m.group(1).strip()
            right = bool(answer) and kq is not None and any(contains_span(answer, g) for g in kq.golds())
            if right:
                base = 0.95
            elif answer and rng.random() < (1.0 - ctx.accuracy) * (1.0 - ctx.strictness):
                base, noise, solved = 0.85, 0.0, True  # a confabulation accepted as correct
            else:
                base = 0.1 if answer else 0.0
            score = max(0.0, min(1.0, base + noise))
            solved = solved or (right and score >= 0.8)
            why = "The candidate gives a final answer" + (" that the observations support." if solved
                                                          else " that the observations do not establish.")
        else:
            base = search_score(kq, traj, candidate) if kq is not None else 0.2
            score = max(0.0, min(1.0, base + noise))
            why = ("The search brings up a fact the answer depends on." if base >= 0.35
                   else "The search does not move the trajectory closer to the answer.")
        text = f"Reflection: {why}\nScore: {round(10 * score)}\nSolved: {'yes' if solved else 'no'}"
        return SimReply(text=_pad(text, rng, ctx.verbosity))


POLICIES = (ExpandPolicy(), ReflectPolicy())
"""The two LATS policies, in registration order."""


def register_sim_policies() -> None:
    """Register the policies with the simulated service (idempotent: same names replace)."""
    register_policies(POLICIES)
