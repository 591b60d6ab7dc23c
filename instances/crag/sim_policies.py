"""Simulated-model behaviour for CRAG's three LLM roles (grader, rewriter, generator).

Each policy recognises its role by the marker sentence that opens the role's system
prompt, reads the question and material from the user message (layouts in ``prompts``),
and reasons about them through the QA world's knowledge model
(``maestro.instances.qa_world.knowledge``, docs/simulation.md): it reads facts from the
passages it was given, recalls the facts its profile knows, and slips with the
reliability of one reasoning step. It never sees the gold answer. Randomness comes only
from ``ctx.rng``, so a run's seed fixes every reply.

* Grader: walks the question's hops over the document (and its own memory) and calls the
  document relevant when it states a fact of a hop it reaches: the subject's first hop, or
  a later hop from an entity it believes in. The verdict is right with the step
  reliability; a slip flips it.
* Rewriter: walks the hops over its notes and asks a one-hop question about the first hop
  it lacks (about the entity it believes that hop starts from) when it follows the
  instruction (``instruction_following``); otherwise a keyword paraphrase.
* Generator: walks the hops over its documents and memory. A complete walk gives
  ``Answer: X`` (X may be wrong after a slip); a walk that lacks a fact gives what
  ``knowledge.lacking_answer`` draws: an explicit abstention, a vague line or a
  confabulated entity. Answers it could not ground in the documents carry speculation
  sentences (longer replies); ``verbosity`` scales both.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from maestro.instances.qa_world.knowledge import (
    effective_reasoning,
    fact_of,
    hop_query,
    lacking_answer,
    reads,
    resolve_chain,
    speculation_factor,
)
from maestro.instances.qa_world.policy_kit import content_words, keyword_query, known_question
from maestro.instances.qa_world.retriever import STOPWORDS
from maestro.instances.qa_world.scoring import contains_span
from maestro.instances.sim_kit import MarkerPolicy, pad, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest

from .prompts import (
    GENERATOR_MARKER,
    GRADER_MARKER,
    REWRITER_MARKER,
    parse_generator_input,
    parse_grader_input,
    parse_rewriter_input,
)

__all__ = [
    "GraderPolicy",
    "RewriterPolicy",
    "GeneratorPolicy",
    "POLICIES",
    "register_sim_policies",
]

_PADDING = (
    "This follows from the retrieved passages.",
    "No retrieved document contradicts this.",
    "The answer chains the facts stated in the documents.",
    "Each step of the reasoning is backed by one of the passages.",
    "Other documents mention related names but do not change the conclusion.",
    "I checked the remaining passages for conflicting statements and found none.",
)
"""Justification sentences of a grounded answer (they never name an entity)."""

_SPECULATION = (
    "the documents do not state every step, so part of this is reconstructed from general knowledge.",
    "several candidates could fit; this one seems the most plausible.",
    "one link in the chain is inferred rather than read in a passage.",
    "this rests partly on background knowledge rather than on the retrieved text.",
    "the retrieved material is incomplete on this point.",
    "related passages point in this direction without settling it.",
)
"""Speculation sentences of an answer the documents do not ground (lower case: they follow
a "Note:" and never name an entity)."""


def _relevant(question: str, doc: str, ctx: PolicyContext) -> bool:
    """Whether the model finds ``doc`` relevant: it states a fact of a hop the model reaches.

    World questions: the walk over the document and memory reaches hop ``i`` and the
    document states hop ``i``'s fact from the entity the model is at. Other questions: at
    least two content words, and 40 % of the question's, appear in the document.
    """
    kq = known_question(question)
    if kq is not None and kq.question is not None and kq.world is not None:
        chain = resolve_chain(kq, doc, ctx)
        w = kq.world
        for i in range(min(chain.lacking + 1, kq.question.hops)):
            start = w.entity_by_name(chain.entity_at(i))
            fact = fact_of(w, start.eid, kq.question.hop_kinds[i]) if start is not None else None
            if fact is not None and reads(w, fact, doc) is not None:
                return True
        return False
    q = {t.lower() for t in content_words(question)}
    d = {t.lower() for t in content_words(doc)}
    overlap = len(q & d)
    return overlap >= 2 and overlap >= 0.4 * len(q)


@dataclass(frozen=True)
class GraderPolicy(MarkerPolicy):
    """Grades one document yes/no (see the module docstring)."""

    name: str = "crag.grader"
    marker: str = GRADER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, doc = parse_grader_input(request.last_user)
        verdict = _relevant(question, doc, ctx)
        if ctx.rng.random() >= effective_reasoning(ctx, request.text):
            verdict = not verdict
        word = "yes" if verdict else "no"
        if request.response_schema:
            # Structured output: fill the schema's first property (e.g. binary_score).
            props = list((request.response_schema.get("properties") or {"binary_score": {}}).keys())
            return SimReply(text=json.dumps({props[0] if props else "binary_score": word}))
        if ctx.verbosity >= 2.0:
            why = ("The document states a fact the question depends on." if word == "yes"
                   else "The document does not state anything the answer depends on.")
            return SimReply(text=f"{word.capitalize()}. {why}")
        return SimReply(text=word)


@dataclass(frozen=True)
class RewriterPolicy(MarkerPolicy):
    """Rewrites the question into a search query aimed at the hop it lacks."""

    name: str = "crag.rewriter"
    marker: str = REWRITER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, notes = parse_rewriter_input(request.last_user)
        kq = known_question(question)
        rng = ctx.rng
        if kq is not None and kq.question is not None and rng.random() < ctx.instruction_following:
            query = hop_query(kq, resolve_chain(kq, notes, ctx))
        else:
            kw = keyword_query(question)
            query = rng.choice((kw, f"{kw} facts", f"information about {kw}"))
        if ctx.verbosity >= 2.0:
            text = f"Improved question: {query}"
            if ctx.verbosity >= 3.0:
                text += "\nThis query targets the information the notes do not cover yet."
            return SimReply(text=text)
        return SimReply(text=query)


@dataclass(frozen=True)
class GeneratorPolicy(MarkerPolicy):
    """Answers from the documents and what the model knows (see the module docstring)."""

    name: str = "crag.generator"
    marker: str = GENERATOR_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, docs = parse_generator_input(request.last_user)
        kq = known_question(question)
        if kq is None:
            # A question nobody registered: a model still picks the most salient new name.
            guess = _salient_name(question, docs)
            if guess and ctx.rng.random() < effective_reasoning(ctx, docs):
                return SimReply(text=_render(guess, "answer", 1.0, ctx))
            mode, text = lacking_answer(None, ctx, docs)
            return SimReply(text=_render(text, mode, 2.0, ctx))
        chain = resolve_chain(kq, docs, ctx)
        if chain.complete:
            first = next((b.evidence for b in reversed(chain.beliefs) if b.evidence), None)
            return SimReply(text=_render(chain.answer or "", "answer", speculation_factor(chain), ctx, first))
        mode, text = lacking_answer(kq, ctx, docs)
        return SimReply(text=_render(text, mode, speculation_factor(chain), ctx))


_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


def _salient_name(question: str, docs: str) -> str | None:
    """The first capitalised name in ``docs`` that the question does not already use."""
    for m in _NAME.finditer(docs):
        cand = m.group(0)
        if cand.split()[0].lower() in STOPWORDS or cand in ("Evidence", "Answer"):
            continue
        if not contains_span(question, cand):
            return cand
    return None


def _render(answer: str, mode: str, speculation: float, ctx: PolicyContext, evidence: str | None = None) -> str:
    """``Answer: ...`` then justification (grounded) or speculation (ungrounded) sentences in
    proportion to verbosity x speculation; an abstention is its sentence alone."""
    if mode == "abstain":
        return answer
    line = f"Answer: {answer}"
    if speculation > 1.0:
        return pad(line, ctx.rng, ctx.verbosity * speculation, tuple("Note: " + s for s in _SPECULATION), cap=30)
    return pad(line, ctx.rng, ctx.verbosity, _PADDING, cap=30, first=f"Evidence: {evidence}" if evidence else None)


POLICIES = (GraderPolicy(), RewriterPolicy(), GeneratorPolicy())
"""The three CRAG policies, in registration order."""


def register_sim_policies() -> None:
    """Register CRAG's policies with the simulated service (idempotent: same names replace)."""
    register_policies(POLICIES)
