"""Simulated-model behaviour for LATS's two LLM roles (expansion and reflection).

Roles are recognised by the marker sentences of their system prompts; the question and
trajectory come from the user message (layouts in ``prompts``). Both roles reason through
the QA world's knowledge model (``maestro.instances.qa_world.knowledge``,
docs/simulation.md): they read facts from the observations in the trajectory, recall the
facts their profile knows and slip with the reliability of one reasoning step; they never
see the gold answer. Randomness comes only from ``ctx.rng``; each candidate's prompt names
its index, so the ``width`` candidates of one node are independent draws.

* Expansion: walks the hops over the trajectory and memory. A walk the observations
  support answers (``Answer: X``); one that leans on memory answers too when the model
  does not follow the prompt's "answer once the observations give it" (else it searches
  for the first hop no observation gives). Lacking a fact, it searches (web search, when offered, or the local
  retriever, by a coin flip) with the lacking hop's one-hop question when it follows the
  instruction, a keyword query otherwise; but a model that does not notice the gap
  (``1 - calibration``) and does not follow the instruction to gather evidence first
  (``1 - instruction_following``) answers at once, as a model lacking a fact does
  (confabulates, hedges or abstains). Without tools it answers that way too.
* Reflection: scores the candidate by what it can check. A search scores
  ``0.35 + 0.55 * read / hops`` when it brings a new hop's evidence (``read`` = hops the
  trajectory plus the observation support), ``0.1 + 0.15 * read / hops`` otherwise. An
  answer naming the entity its own walk reaches scores 0.95 (solved when it stays >= 0.8
  after noise), one naming another 0.1, an empty one 0. When its walk lacks a fact it
  cannot check the answer: noticing that (``calibration``) it scores it 0.1, otherwise it
  accepts it (0.85, solved): an evaluator that does not know what it lacks accepts
  confabulations. Gaussian noise with standard deviation ``0.04 + 0.3 * (1 - r)`` (``r``
  the step reliability) blurs every score, so weaker models steer the search worse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from maestro.instances.qa_world.knowledge import (
    effective_reasoning,
    hop_query,
    lacking_answer,
    resolve_chain,
    speculation_factor,
)
from maestro.instances.qa_world.lookup import KnownQuestion
from maestro.instances.qa_world.policy_kit import keyword_query, known_question
from maestro.instances.qa_world.scoring import contains_span
from maestro.instances.sim_kit import MarkerPolicy, pad, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimToolCall

from .prompts import EXPAND_MARKER, REFLECT_MARKER, parse_expand_input, parse_reflect_input

__all__ = ["ExpandPolicy", "ReflectPolicy", "POLICIES", "register_sim_policies", "search_score"]

_PADDING = (
    "The observations support this.",
    "Nothing in the trajectory contradicts it.",
    "This follows the chain of facts the question needs.",
    "The sources agree on this point.",
)
_SPECULATION = (
    "Note: the observations do not state every step; part of this is inferred.",
    "Note: this rests on background knowledge rather than on an observation.",
    "Note: several candidates could fit; this one seems most plausible.",
)


def _answer(text: str, ctx: PolicyContext, speculation: float) -> SimReply:
    line = f"Answer: {text}"
    if speculation > 1.0:
        return SimReply(text=pad(line, ctx.rng, ctx.verbosity * speculation, _SPECULATION, cap=20))
    return SimReply(text=pad(line, ctx.rng, ctx.verbosity, _PADDING, cap=20))


def _lacking(kq: KnownQuestion | None, ctx: PolicyContext, context: str, speculation: float) -> SimReply:
    mode, text = lacking_answer(kq, ctx, context)
    return SimReply(text=text) if mode == "abstain" else _answer(text, ctx, speculation)


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
        if kq is None or kq.question is None:
            if tools and not traj:
                return SimReply(tool_calls=(SimToolCall(name=tools[0], arguments={"query": keyword_query(question)}),))
            return _lacking(kq, ctx, traj, 2.0)
        chain = resolve_chain(kq, traj, ctx)
        # The prompt asks for an answer only once the observations give it: a walk that
        # leans on memory searches first when the model follows the instruction.
        if chain.complete and (chain.grounded or not tools or rng.random() >= ctx.instruction_following):
            return _answer(chain.answer or "", ctx, speculation_factor(chain))
        if not chain.complete:
            unaware = rng.random() >= ctx.calibration
            hasty = rng.random() >= ctx.instruction_following
            if not tools or (unaware and hasty):
                return _lacking(kq, ctx, traj, speculation_factor(chain))
            target = chain
        else:
            target = resolve_chain(kq, traj, ctx, memory=False)  # the first hop no observation gives
        web = [t for t in tools if "web" in t]
        local = [t for t in tools if "web" not in t] or tools
        pick = web[0] if web and rng.random() < 0.5 else local[0]
        query = hop_query(kq, target) if rng.random() < ctx.instruction_following else keyword_query(question)
        return SimReply(tool_calls=(SimToolCall(name=pick, arguments={"query": query}),))


def search_score(kq: KnownQuestion, trajectory_text: str, observation: str, ctx: PolicyContext) -> float:
    """Noise-free score of a search candidate: the evidence it adds along the model's walk."""
    hops = kq.question.hops if kq.question is not None else 1
    before = resolve_chain(kq, trajectory_text, ctx, memory=False).lacking
    after = resolve_chain(kq, trajectory_text + "\n" + observation, ctx, memory=False).lacking
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
        noise = rng.gauss(0.0, 0.04 + 0.3 * (1.0 - effective_reasoning(ctx, request.text)))
        m = _ANSWER_STEP.match(candidate.strip())
        solved = False
        if m is not None:
            answer = m.group(1).strip().splitlines()[0] if m.group(1).strip() else ""
            chain = resolve_chain(kq, traj, ctx) if kq is not None else None
            if not answer:
                base = 0.0
            elif chain is not None and chain.complete:
                base = 0.95 if contains_span(answer, chain.answer or "") else 0.1
            elif rng.random() < ctx.calibration:
                base = 0.1  # it cannot check the answer and knows it
            else:
                base, noise, solved = 0.85, 0.0, True  # accepted without being able to check it
            score = max(0.0, min(1.0, base + noise))
            solved = solved or (base >= 0.95 and score >= 0.8)
            why = "The candidate gives a final answer" + (" that the observations support." if solved
                                                          else " that the observations do not establish.")
        else:
            base = search_score(kq, traj, candidate, ctx) if kq is not None else 0.2
            score = max(0.0, min(1.0, base + noise))
            why = ("The search brings up a fact the answer depends on." if base >= 0.35
                   else "The search does not move the trajectory closer to the answer.")
        text = f"Reflection: {why}\nScore: {round(10 * score)}\nSolved: {'yes' if solved else 'no'}"
        return SimReply(text=pad(text, rng, ctx.verbosity, _PADDING, cap=20))


POLICIES = (ExpandPolicy(), ReflectPolicy())
"""The two LATS policies, in registration order."""


def register_sim_policies() -> None:
    """Register the policies with the simulated service (idempotent: same names replace)."""
    register_policies(POLICIES)
