"""Simulated-model behaviour for CRAG's three LLM roles (grader, rewriter, generator).

Each policy recognises its role by the marker sentence that opens the role's system
prompt, reads the question and material from the user message (layouts in ``prompts``),
and looks the question up in qa_world to know the truth. Randomness comes only from
``ctx.rng``, so a run's seed fixes every reply.

* Grader: a document is truly relevant when it names an entity on the question's path
  after the subject (a bridge entity or the answer), which every supporting passage does.
  It wrongly rejects a relevant document with probability
  ``(1 - accuracy) * (0.5 + strictness)`` (stricter graders reject more) and wrongly
  accepts an irrelevant one with probability ``(1 - strictness) * (1 - accuracy) / 2``,
  doubled when the document names the question's subject (a plausible distractor). An
  accuracy of 1 grades perfectly.
* Rewriter: with probability ``accuracy`` it asks a one-hop question about the first
  entity on the path whose next hop the notes do not resolve yet (the unresolved entity);
  otherwise it returns a keyword paraphrase of the question.
* Generator: when the gold answer is in its documents it answers it with probability
  ``accuracy``; otherwise (or when unlucky) it fails as ``ctx.failure_mix`` draws:
  ``underspecified`` (a vague line naming no entity), ``wrong`` (a confident answer naming
  another entity of the same type, preferably one in the documents) or ``empty`` ('').
  Replies start with ``Answer: X``; ``verbosity`` adds justification sentences.

Knobs in ``ctx.extra`` (all optional): ``crag_false_reject_scale`` (1.0) and
``crag_false_accept_scale`` (1.0) multiply the grader's two error probabilities.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from maestro.instances.qa_world import build_world, contains_span
from maestro.instances.qa_world.lookup import KnownQuestion, answer_in_context
from maestro.instances.qa_world.policy_kit import (
    content_words,
    hop_question,
    keyword_query,
    known_question,
    pick_confusion,
    resolved_hops,
)
from maestro.instances.qa_world.retriever import STOPWORDS
from maestro.instances.sim_kit import MarkerPolicy, clamp, pad, register_policies
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
    "doc_is_relevant",
    "unresolved_hop_query",
]

_PADDING = (
    "This follows from the retrieved passages.",
    "No retrieved document contradicts this.",
    "The answer chains the facts stated in the documents.",
    "Each step of the reasoning is backed by one of the passages.",
    "Other documents mention related names but do not change the conclusion.",
    "I checked the remaining passages for conflicting statements and found none.",
    "The wording of the sources is consistent on this point.",
    "The passages agree on the relation the question asks about.",
)
"""Generic justification sentences (they never name an entity)."""

_VAGUE = {
    "city": "It is one of the cities mentioned in the documents.",
    "country": "It is a country that the sources describe.",
    "person": "It was a person named in the retrieved material.",
    "organisation": "It is one of the organisations the documents talk about.",
    "river": "It is a river discussed in the sources.",
}
_VAGUE_DEFAULT = "The documents point in that direction, but the exact name is not clear from them."


def doc_is_relevant(question: str, doc_text: str) -> bool:
    """Ground truth for the grader: does ``doc_text`` help answer ``question``?

    World questions: the document names a bridge entity or the answer. User questions with
    gold: it contains the gold. Unknown questions: at least two content words, and at least
    40 % of the question's, appear in the document.
    """
    kq = known_question(question)
    if kq is not None and kq.question is not None and kq.world is not None:
        names = [kq.world.name(e) for e in kq.question.path[1:]]
        return any(contains_span(doc_text, n) for n in names)
    if kq is not None and kq.golds():
        return any(contains_span(doc_text, g) for g in kq.golds())
    q = {w.lower() for w in content_words(question)}
    d = {w.lower() for w in content_words(doc_text)}
    overlap = len(q & d)
    return overlap >= 2 and overlap >= 0.4 * len(q)


def _mentions_subject(kq: KnownQuestion | None, doc_text: str) -> bool:
    if kq is None or kq.question is None or kq.world is None:
        return False
    return contains_span(doc_text, kq.world.name(kq.question.path[0]))


def unresolved_hop_query(kq: KnownQuestion, notes: str) -> str:
    """A one-hop question about the first path entity whose next hop ``notes`` lacks.

    Walks the path: hop ``i`` counts as resolved when its target entity is named in the
    notes. When every hop is resolved, the last hop is asked again.
    """
    assert kq.question is not None and kq.world is not None
    return hop_question(kq, resolved_hops(kq, notes))  # clamped to the last hop


@dataclass(frozen=True)
class GraderPolicy(MarkerPolicy):
    """Grades one document yes/no (see the module docstring for the probabilities)."""

    name: str = "crag.grader"
    marker: str = GRADER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, doc = parse_grader_input(request.last_user)
        kq = known_question(question)
        miss = 1.0 - ctx.accuracy
        if doc_is_relevant(question, doc):
            scale = float(ctx.extra.get("crag_false_reject_scale", 1.0))
            p_yes = 1.0 - scale * miss * (0.5 + ctx.strictness)
        else:
            scale = float(ctx.extra.get("crag_false_accept_scale", 1.0))
            p_yes = scale * (1.0 - ctx.strictness) * miss * 0.5
            if _mentions_subject(kq, doc):
                p_yes = min(0.9, 2 * p_yes)
        word = "yes" if ctx.rng.random() < clamp(p_yes) else "no"
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
    """Rewrites the question into a search query aimed at the missing hop."""

    name: str = "crag.rewriter"
    marker: str = REWRITER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, notes = parse_rewriter_input(request.last_user)
        kq = known_question(question)
        rng = ctx.rng
        if kq is not None and kq.question is not None and rng.random() < ctx.accuracy:
            query = unresolved_hop_query(kq, notes)
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
    """Answers from the documents, right or wrong as accuracy and failure_mix say."""

    name: str = "crag.generator"
    marker: str = GENERATOR_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        question, docs = parse_generator_input(request.last_user)
        rng = ctx.rng
        gold, found = answer_in_context(question, docs)
        kq = known_question(question)
        if gold is None:
            # Unknown question: a "model" can still pick the most salient new name.
            guess = _salient_name(question, docs)
            if guess and rng.random() < ctx.accuracy:
                return SimReply(text=_render(f"Answer: {guess}", _evidence(docs, guess), rng, ctx.verbosity))
        elif found and rng.random() < ctx.accuracy:
            return SimReply(text=_render(f"Answer: {gold}", _evidence(docs, gold), rng, ctx.verbosity))
        mode = ctx.failure_mix.draw(rng)
        if mode == "empty":
            return SimReply(text="")
        if mode == "wrong":
            wrong = _wrong_entity(kq, gold, question, docs, rng)
            return SimReply(text=_render(f"Answer: {wrong}", f"The documents indicate {wrong}.", rng, ctx.verbosity))
        etype = kq.question.answer_type if kq is not None and kq.question is not None else ""
        return SimReply(text=_render(f"Answer: {_VAGUE.get(etype, _VAGUE_DEFAULT)}", None, rng, ctx.verbosity))


def _render(answer_line: str, first: str | None, rng, verbosity: float) -> str:
    """The answer line, then justification sentences in proportion to verbosity."""
    return pad(answer_line, rng, verbosity, _PADDING, cap=30, first=first)


_DOC_NUMBER = re.compile(r"^\[\d+\]\s*")


def _evidence(docs: str, answer: str) -> str | None:
    """The first document line naming ``answer``, quoted as evidence."""
    for line in docs.splitlines():
        if contains_span(line, answer):
            return "Evidence: " + _DOC_NUMBER.sub("", line).strip()
    return None


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


def _wrong_entity(kq: KnownQuestion | None, gold: str | None, question: str, docs: str, rng) -> str:
    """A confident wrong answer: another entity of the gold's type, often one in the documents."""
    world = kq.world if kq is not None and kq.world is not None else build_world()
    ent = world.entity_by_name(gold) if gold else None
    if ent is not None:
        return pick_confusion(sorted(e.name for e in world.of_type(ent.etype) if e.name != ent.name), rng, docs)
    # Gold is not a world entity (user task or unknown question): any other name will do.
    names = [m.group(0) for m in _NAME.finditer(docs)]
    names = [n for n in names if not (gold and contains_span(n, gold)) and not contains_span(question, n)
             and n.split()[0].lower() not in STOPWORDS]
    if names:
        return rng.choice(names)
    return rng.choice(sorted(e.name for e in world.of_type("city")))


POLICIES = (GraderPolicy(), RewriterPolicy(), GeneratorPolicy())
"""The three CRAG policies, in registration order."""


def register_sim_policies() -> None:
    """Register CRAG's policies with the simulated service (idempotent: same names replace)."""
    register_policies(POLICIES)
