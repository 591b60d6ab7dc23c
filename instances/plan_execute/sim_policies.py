"""Simulated-model behaviour for Plan-and-Execute's three roles.

Each policy recognises its role by the marker sentence of the role's system prompt, reads
the question and material from the user message (layouts in ``prompts``), and looks the
question up in the QA world to know the truth. Randomness comes only from ``ctx.rng``.

* Planner: with probability ``accuracy`` one step per hop (the hop's one-hop question for
  the first, "the entity found in step i" after that) and a final answering step;
  otherwise a single lazy step ("Search for ...": the executor and replanner must recover).
* Executor (ReAct): finds the first hop the notes (completed steps and tool results so
  far) do not resolve. Before any tool result it calls a tool: web search (when offered)
  with probability ``pe_p_web`` (0.5), else the local retriever, asking that hop's one-hop
  question with probability ``accuracy`` and a keyword query otherwise. When a tool result
  names the hop's target it reports it with probability ``accuracy`` (otherwise it fails as
  ``failure_mix`` draws); when not, it searches again with the other tool, then gives up
  with "Result: not found".
* Replanner: when the completed steps contain the gold it answers, unless it distrusts the
  result: the first time with probability ``pe_doubt``, and after a verification step it
  already asked for with probability ``pe_persist`` (both per profile in ``PROFILE_KNOBS``,
  overridable by the profile's ``extra``;
  1.0 when the prompt demands verification), in which case it asks for another
  verification step. That is the paper's replanner loop: weaker profiles have higher
  values, and each round costs an executor turn and a replanner turn. When the gold is not
  found yet it lists the unresolved hops as the new plan, until the completed steps reach
  ``2 * hops + 2``; then it answers anyway: right by luck never, wrong as ``failure_mix``
  draws (vague, wrong entity or empty).

Verbosity adds justification sentences to executor results and answers.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from maestro.instances.qa_world.lookup import answer_in_context
from maestro.instances.qa_world.policy_kit import (
    failure_answer,
    hop_question,
    hop_target,
    hops_of,
    keyword_query,
    known_question,
    resolved_hops,
)
from maestro.instances.qa_world.scoring import contains_span
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

__all__ = ["PlannerPolicy", "ExecutorPolicy", "ReplannerPolicy", "POLICIES", "register_sim_policies",
           "DEFAULT_DOUBT", "DEFAULT_PERSIST", "PROFILE_KNOBS"]

DEFAULT_DOUBT = 0.05
"""Chance that a replanner distrusts a correct result the first time (profile ``pe_doubt``)."""
DEFAULT_PERSIST = 0.5
"""Chance that it keeps distrusting after a verification step (profile ``pe_persist``)."""

PROFILE_KNOBS: dict[str, dict[str, float]] = {
    "strong": {"pe_doubt": 0.03, "pe_persist": 0.3},
    "underspecified": {"pe_doubt": 0.2, "pe_persist": 0.75},
    "abstaining": {"pe_doubt": 0.25, "pe_persist": 0.8},
    "confabulating": {"pe_doubt": 0.08, "pe_persist": 0.5},
}
"""``pe_doubt``/``pe_persist`` per simulated profile: weaker models doubt a correct result
more and keep doubting (the replanner loop). A profile's ``extra`` overrides them."""


def _knob(ctx: PolicyContext, name: str, default: float) -> float:
    return float(ctx.extra.get(name, PROFILE_KNOBS.get(ctx.profile_name, {}).get(name, default)))

_PADDING = (
    "The search results state this directly.",
    "No other result contradicts it.",
    "This settles the step.",
    "The passages are consistent on this point.",
    "I cross-checked the remaining results as well.",
)


def _pad(text: str, rng, verbosity: float) -> str:
    return pad(text, rng, verbosity, _PADDING, cap=20)


@dataclass(frozen=True)
class PlannerPolicy(MarkerPolicy):
    """Writes the numbered plan."""

    name: str = "plan_execute.planner"
    marker: str = PLANNER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question = parse_planner_input(request.last_user)
        kq = known_question(question)
        rng = ctx.rng
        if kq is None or rng.random() >= ctx.accuracy:
            return SimReply(text=f"1. Search for {keyword_query(question)}\n2. Answer the question from the results")
        hops = hops_of(kq)
        steps = [hop_question(kq, 0)]
        for i in range(1, hops):
            steps.append(f"Find the answer to '{hop_question(kq, i).rstrip('?')}' for the entity found in step {i}")
        steps.append("Give the final answer")
        return SimReply(text="\n".join(f"{i}. {s}" for i, s in enumerate(steps, start=1)))


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
            return SimReply(text=_pad("Result: not found", rng, ctx.verbosity))
        before = resolved_hops(kq, done)
        i = min(before, hops_of(kq) - 1)
        target = hop_target(kq, i) or ""
        observed = "\n".join(tool_results)
        if observed and contains_span(observed, target):
            if rng.random() < ctx.accuracy:
                return SimReply(text=_pad(f"Result: {target} (the answer to: {hop_question(kq, i)})", rng, ctx.verbosity))
            mode = ctx.failure_mix.draw(rng)
            bad = failure_answer(kq, mode, rng, observed)
            return SimReply(text=f"Result: {bad}" if bad else "")
        if tools and len(tool_results) < 2:
            used = {c.name for m in request.messages for c in m.tool_calls}
            query = hop_question(kq, i) if rng.random() < ctx.accuracy else keyword_query(step or question)
            return SimReply(tool_calls=(self._call(tools, query, ctx, avoid=used),))
        return SimReply(text=_pad("Result: not found", rng, ctx.verbosity))

    @staticmethod
    def _call(tools: dict, query: str, ctx: PolicyContext, avoid: AbstractSet[str] = frozenset()) -> SimToolCall:
        names = sorted(tools)
        web = [n for n in names if "web" in n]
        local = [n for n in names if "web" not in n]
        p_web = float(ctx.extra.get("pe_p_web", 0.5))
        # A second search goes to the tool not tried yet, when there is one.
        fresh = [n for n in names if n not in avoid]
        if avoid and fresh:
            pick = fresh[0]
        elif web and (not local or ctx.rng.random() < p_web):
            pick = web[0]
        else:
            pick = (local or names)[0]
        return SimToolCall(name=pick, arguments={"query": query})


_STEP_RESULT = re.compile(r"^\s*\d+\.\s+(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class ReplannerPolicy(MarkerPolicy):
    """Answers, or revises the remaining plan (and sometimes distrusts a right answer)."""

    name: str = "plan_execute.replanner"
    marker: str = REPLANNER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, done = parse_replanner_input(request.last_user)
        kq = known_question(question)
        rng = ctx.rng
        steps_done = len(_STEP_RESULT.findall(done))
        gold, found = answer_in_context(question, done)
        if found and gold is not None:
            strict = STRICT_VERIFY_SENTENCE in request.system
            verifying = VERIFY_PREFIX in done
            if strict:
                p_reject = 1.0
            elif verifying:
                p_reject = _knob(ctx, "pe_persist", DEFAULT_PERSIST)
            else:
                p_reject = _knob(ctx, "pe_doubt", DEFAULT_DOUBT)
            if rng.random() < p_reject:
                what = hop_question(kq, hops_of(kq) - 1).rstrip("?") if kq is not None else question.rstrip("?")
                return SimReply(text=f"Plan:\n1. {VERIFY_PREFIX} {gold} is the answer to '{what}' with another search")
            if rng.random() < ctx.accuracy:
                return SimReply(text=_pad(f"Answer: {gold}", rng, ctx.verbosity))
            return SimReply(text=self._fail(kq, ctx, done))
        hops = hops_of(kq) if kq is not None else 1
        if kq is not None and steps_done < 2 * hops + 2:
            first = resolved_hops(kq, done)
            steps = [hop_question(kq, j) for j in range(min(first, hops - 1), hops)]
            return SimReply(text="Plan:\n" + "\n".join(f"{k}. {s}" for k, s in enumerate(steps, start=1)))
        return SimReply(text=self._fail(kq, ctx, done))

    @staticmethod
    def _fail(kq, ctx: PolicyContext, context: str) -> str:
        answer = failure_answer(kq, ctx.failure_mix.draw(ctx.rng), ctx.rng, context)
        return _pad(f"Answer: {answer}", ctx.rng, ctx.verbosity) if answer else ""


POLICIES = (PlannerPolicy(), ExecutorPolicy(), ReplannerPolicy())
"""The three Plan-and-Execute policies, in registration order."""


def register_sim_policies() -> None:
    """Register the policies with the simulated service (idempotent: same names replace)."""
    register_policies(POLICIES)
