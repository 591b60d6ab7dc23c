"""Simulated-model behaviour for Plan-and-Execute's three roles.

Each policy recognises its role by the marker sentence of the role's system prompt, reads
the question and material from the user message (layouts in ``prompts``), and reasons
through the QA world's knowledge model (``maestro.instances.qa_world.knowledge``,
docs/simulation.md): it reads facts from the passages in its context, recalls the facts its
profile knows, and slips with the reliability of one reasoning step, which falls as the
history grows. It never sees the gold answer. Randomness comes only from ``ctx.rng``.

* Planner: when it follows the instruction (``instruction_following``), one step per hop
  (the first hop's one-hop question, then "the entity found in step i") and a final
  answering step; otherwise a single lazy step ("Search for ...").
* Executor (ReAct): works on the first hop the completed steps do not support with
  evidence. Before any tool result it calls a tool (web search, when offered, or the local
  retriever, by a coin flip) with that hop's one-hop question when it follows the
  instruction, a keyword query otherwise (a second search rephrases the first, with the
  other tool when there is one). It then reports what it concluded for that hop,
  ``Result: X (the answer to: ...)``, quoting the passage it read (``Evidence: ...``); a
  fact it only recalls it reports without a quote. Lacking the fact after a search it tries
  the other tool, then either says ``Result: not found`` (it notices: ``calibration``) or
  states a confabulated entity as if found.
* Replanner: checks the executor's work by the completed steps alone: facts they quote
  as evidence, and results they state without a source (claims). It doubts an unsupported
  claim when it notices the missing source (``calibration``, decided once per model,
  question and claim: ``knowledge.doubts_claim``) and asks for a verification step. When
  no tool can reach the evidence (web-only facts with web search off), verification brings
  nothing new, the same claim comes back and meets the same doubt: the paper's replanner
  loop (section 5.2), which runs until the run's time cap although the claim may be right.
  Every hop supported: it answers. A hop nobody answered yet: a new plan of the remaining
  hops, until the completed steps reach ``2 * hops + 2``; then it answers from what it
  knows itself, or as a model lacking a fact does (abstains, hedges or confabulates). With
  the strict prompt it asks for one verification step before any answer, when it follows
  the instruction.

Answers it could not ground carry speculation sentences (longer replies); ``verbosity``
scales all justification text.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from maestro.instances.qa_world.knowledge import (
    Chain,
    claim_key,
    doubts_claim,
    empty_chain,
    hop_query,
    lacking_answer,
    resolve_chain,
    speculation_factor,
)
from maestro.instances.qa_world.lookup import KnownQuestion
from maestro.instances.qa_world.policy_kit import keyword_query, known_question
from maestro.instances.sim_kit import MarkerPolicy, pad, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimToolCall

from .prompts import (
    EXECUTOR_MARKER,
    PLANNER_MARKER,
    REPLANNER_MARKER,
    STRICT_VERIFY_SENTENCE,
    VERIFY_PREFIX,
    parse_executor_input,
    parse_planner_input,
    parse_replanner_input,
)

__all__ = ["PlannerPolicy", "ExecutorPolicy", "ReplannerPolicy", "POLICIES", "register_sim_policies", "claims_in"]

_PADDING = (
    "The search results state this directly.",
    "No other result contradicts it.",
    "This settles the step.",
    "The passages are consistent on this point.",
    "I cross-checked the remaining results as well.",
)
_SPECULATION = (
    "Note: no passage states this step directly; it is my best reconstruction.",
    "Note: this rests on background knowledge rather than on a retrieved source.",
    "Note: several candidates could fit; this one seems most plausible.",
    "Note: the completed steps leave one link unconfirmed.",
)


def _render(line: str, ctx: PolicyContext, speculation: float = 1.0, evidence: str | None = None) -> str:
    """``line``, the passage it read (always quoted: the replanner checks by it), then
    justification, or speculation sentences for an ungrounded result, by verbosity."""
    if evidence:
        line = f"{line}\nEvidence: {evidence}"
    if speculation > 1.0:
        return pad(line, ctx.rng, ctx.verbosity * speculation, _SPECULATION, cap=20)
    return pad(line, ctx.rng, ctx.verbosity, _PADDING, cap=20)


_CLAIM = re.compile(r"Result:\s*(.+?)\s*\(the answer to:\s*(.+?)\)", re.IGNORECASE)


def claims_in(text: str) -> dict[str, str]:
    """Executor claims in completed-steps text: normalised one-hop question -> entity named
    (a later claim about the same question wins)."""
    return {claim_key(q): ent.strip() for ent, q in _CLAIM.findall(text)}


@dataclass(frozen=True)
class PlannerPolicy(MarkerPolicy):
    """Writes the numbered plan."""

    name: str = "plan_execute.planner"
    marker: str = PLANNER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question = parse_planner_input(request.last_user)
        kq = known_question(question)
        rng = ctx.rng
        if kq is None or kq.question is None or rng.random() >= ctx.instruction_following:
            return SimReply(text=f"1. Search for {keyword_query(question)}\n2. Answer the question from the results")
        first = hop_query(kq, empty_chain(kq), 0)
        steps = [first]
        for i in range(1, kq.question.hops):
            kind = kq.question.hop_kinds[i]
            ask = _HOP_ASK[kind]
            steps.append(f"Find {ask} the entity found in step {i}")
        steps.append("Give the final answer")
        return SimReply(text="\n".join(f"{i}. {s}" for i, s in enumerate(steps, start=1)))


_HOP_ASK = {
    "born_in": "the city of birth of",
    "located_in": "the country of",
    "has_capital": "the capital city of",
    "founded_by": "the founder of",
    "headquartered_in": "the headquarters city of",
    "flows_through": "the country that is crossed by",
}
"""How a plan step names each hop kind about an earlier step's entity."""


def _target_hop(kq: KnownQuestion, done: str, ctx: PolicyContext) -> Chain:
    """The walk over the completed steps' evidence only: its first lacking hop is the hop the
    current step works on."""
    return resolve_chain(kq, done, ctx, memory=False)


@dataclass(frozen=True)
class ExecutorPolicy(MarkerPolicy):
    """Carries out one step with the search tools (a ReAct loop)."""

    name: str = "plan_execute.executor"
    marker: str = EXECUTOR_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        first_user = next((m.content for m in request.messages if m.role == "user"), "")
        question, done, step = parse_executor_input(first_user)
        kq = known_question(question)
        rng = ctx.rng
        tool_results = [m.content for m in request.messages if m.role == "tool"]
        tools = {t.name: t for t in request.tools}
        if kq is None:
            if tools and not tool_results:
                return SimReply(tool_calls=(self._call(tools, keyword_query(step or question), ctx),))
            return SimReply(text=_render("Result: not found", ctx))
        base = _target_hop(kq, done, ctx)
        hops = base.hops
        i = min(base.lacking, hops - 1)
        observed = "\n".join(tool_results)
        if tools and not tool_results:
            query = hop_query(kq, base, i) if rng.random() < ctx.instruction_following else keyword_query(step or question)
            return SimReply(tool_calls=(self._call(tools, query, ctx),))
        chain = resolve_chain(kq, done + "\n" + observed, ctx)
        asked = hop_query(kq, chain, i) if len(chain.beliefs) >= i else hop_query(kq, base, i)
        if len(chain.beliefs) > i:
            belief = chain.beliefs[i]
            line = f"Result: {belief.entity} (the answer to: {asked})"
            if belief.source == "evidence":
                return SimReply(text=_render(line, ctx, evidence=belief.evidence))
            return SimReply(text=_render(line, ctx, speculation=speculation_factor(chain)))
        if tools and len(tool_results) < 2:
            # A search that found nothing is not repeated word for word: the model rephrases
            # (the hop's question after a keyword query, keywords after the question).
            calls = [c for m in request.messages for c in m.tool_calls]
            before = str(calls[-1].arguments.get("query", "")) if calls else ""
            query = keyword_query(asked) if before == asked else asked
            return SimReply(tool_calls=(self._call(tools, query, ctx, avoid={c.name for c in calls}),))
        mode, text = lacking_answer(kq, ctx, observed)
        if mode == "confabulate":
            return SimReply(text=_render(f"Result: {text} (the answer to: {asked})", ctx, speculation=speculation_factor(chain)))
        return SimReply(text=_render("Result: not found", ctx))

    @staticmethod
    def _call(tools: dict, query: str, ctx: PolicyContext, avoid: AbstractSet[str] = frozenset()) -> SimToolCall:
        names = sorted(tools)
        web = [n for n in names if "web" in n]
        local = [n for n in names if "web" not in n]
        # A second search goes to the tool not tried yet, when there is one.
        fresh = [n for n in names if n not in avoid]
        if avoid and fresh:
            pick = fresh[0]
        elif web and (not local or ctx.rng.random() < 0.5):
            pick = web[0]
        else:
            pick = (local or names)[0]
        return SimToolCall(name=pick, arguments={"query": query})


_STEP_RESULT = re.compile(r"^\s*\d+\.\s+(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class ReplannerPolicy(MarkerPolicy):
    """Answers, or revises the remaining plan (and doubts claims it cannot check)."""

    name: str = "plan_execute.replanner"
    marker: str = REPLANNER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, done = parse_replanner_input(request.last_user)
        kq = known_question(question)
        rng = ctx.rng
        steps_done = len(_STEP_RESULT.findall(done))
        if kq is None:
            return SimReply(text=self._lacking(kq, ctx, done, 2.0))
        # As the checker of the executor's work it goes by the completed steps: evidence
        # they quote, and claims they make without a source, which it may doubt.
        chain = resolve_chain(kq, done, ctx, memory=False, claims=claims_in(done))
        hops = chain.hops
        for i, belief in enumerate(chain.beliefs):
            if belief.source == "claim" and doubts_claim(ctx, question, belief.entity):
                return SimReply(text=self._verify(belief.entity, hop_query(kq, chain, i)))
        if chain.complete:
            if STRICT_VERIFY_SENTENCE in request.system and VERIFY_PREFIX not in done \
                    and rng.random() < ctx.instruction_following:
                return SimReply(text=self._verify(chain.answer or "", hop_query(kq, chain, hops - 1)))
            return SimReply(text=_render(f"Answer: {chain.answer}", ctx, speculation=speculation_factor(chain)))
        if steps_done < 2 * hops + 2:
            later = kq.question.hop_kinds[chain.lacking + 1:] if kq.question is not None else ()
            steps = [hop_query(kq, chain)]
            steps += [f"Find {_HOP_ASK[k]} the entity found in the previous step" for k in later]
            return SimReply(text="Plan:\n" + "\n".join(f"{k}. {s}" for k, s in enumerate(steps, start=1)))
        # Out of plan revisions: what it knows itself fills the gaps, else it lacks the fact.
        chain = resolve_chain(kq, done, ctx, claims=claims_in(done))
        if chain.complete:
            return SimReply(text=_render(f"Answer: {chain.answer}", ctx, speculation=speculation_factor(chain)))
        return SimReply(text=self._lacking(kq, ctx, done, speculation_factor(chain)))

    @staticmethod
    def _verify(entity: str, hop_question: str) -> str:
        return f"Plan:\n1. {VERIFY_PREFIX} {entity} is the answer to '{hop_question.rstrip('?')}' with another search"

    @staticmethod
    def _lacking(kq: KnownQuestion | None, ctx: PolicyContext, context: str, speculation: float) -> str:
        mode, text = lacking_answer(kq, ctx, context)
        if mode == "abstain":
            return f"Answer: {text}"
        return _render(f"Answer: {text}", ctx, speculation=speculation)


POLICIES = (PlannerPolicy(), ExecutorPolicy(), ReplannerPolicy())
"""The three Plan-and-Execute policies, in registration order."""


def register_sim_policies() -> None:
    """Register the policies with the simulated service (idempotent: same names replace)."""
    register_policies(POLICIES)
