"""The knowledge model: what a simulated model knows, reads and concludes about a question.

This module is the only place where simulated-model policies touch the QA world's truth,
and it does so the way a model would (docs/simulation.md):

* **Reading.** A model can read a fact from its context when the text of a passage stating
  that fact is there (a retrieved document, a tool result, a note quoting one). Which fact
  a passage states is the passage's meaning, so reading consults the world's passages.
* **Knowing.** Without evidence a model knows a fact with its profile's ``knowledge``
  probability. Which facts it knows is fixed per model: a hash of the profile name and the
  fact, as training would fix it, so repeats of one question agree on what is known.
* **Reasoning.** Each step taken with a fact in hand (read or recalled) is right with the
  profile's ``reasoning`` probability, lowered by a long context
  (:func:`effective_reasoning`); a slip lands on another entity of the right type, often
  one the context names, and the chain goes on from there through that entity's own facts.
* **Lacking.** When neither evidence nor memory gives a hop's fact the chain stops there.
  What the model then says follows :func:`lacking_answer`: it notices (``calibration``)
  and abstains (``abstention``) or hedges, or it does not notice and confabulates an
  entity. Without evidence it speculates at length; with evidence it is brief.

Questions outside the world (user task files) are one fact each: the question and its
answer. A model reads that answer when a passage in its context contains it, or knows it
with the ``knowledge`` probability. Policies get beliefs (entity names with their source),
never the gold answer.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Literal

from maestro.sim.policy import PolicyContext

from .lookup import KnownQuestion
from .scoring import contains_span, normalize_answer
from .world import HOP_KINDS, Fact, World, build_world

__all__ = [
    "CONTEXT_HALF_TOKENS",
    "Belief",
    "Chain",
    "effective_reasoning",
    "knows",
    "fact_of",
    "reads",
    "resolve_chain",
    "claim_key",
    "empty_chain",
    "doubts_claim",
    "hop_query",
    "lacking_answer",
    "speculation_factor",
]

CONTEXT_HALF_TOKENS = 8000
"""Context length (tokens, about 4 characters each) at which a step's reliability is squared:
``reasoning ** (1 + tokens / CONTEXT_HALF_TOKENS)``. Long interaction histories make models
slip more (the paper's explanation of Plan-and-Execute's lower accuracy)."""

Source = Literal["evidence", "memory", "claim"]


@dataclass(frozen=True)
class Belief:
    """What the model concluded one hop leads to."""

    entity: str
    """Name of the entity the model believes the hop leads to (right or wrong)."""
    source: Source
    """``evidence`` (read in the context), ``memory`` (recalled) or ``claim`` (taken on trust
    from another agent's unsupported statement)."""
    evidence: str | None = None
    """The passage text it read, for ``evidence``."""


@dataclass(frozen=True)
class Chain:
    """The model's walk along a question's hops."""

    hops: int
    """Hops the question needs."""
    beliefs: tuple[Belief, ...]
    """One belief per hop it got through, in order."""
    subject: str
    """The entity the question names (the walk's start)."""

    @property
    def complete(self) -> bool:
        """Every hop has a belief."""
        return len(self.beliefs) >= self.hops

    @property
    def answer(self) -> str | None:
        """The final belief's entity when complete."""
        return self.beliefs[-1].entity if self.complete else None

    @property
    def grounded(self) -> bool:
        """Every belief came from evidence in the context."""
        return all(b.source == "evidence" for b in self.beliefs)

    @property
    def lacking(self) -> int:
        """Index of the first hop without a belief (``hops`` when complete)."""
        return len(self.beliefs)

    def entity_at(self, i: int) -> str:
        """The entity hop ``i`` starts from (the subject for hop 0)."""
        return self.subject if i == 0 else self.beliefs[i - 1].entity


def effective_reasoning(ctx: PolicyContext, context: str) -> float:
    """The per-step reliability for a context of this length (see ``CONTEXT_HALF_TOKENS``)."""
    tokens = len(context) / 4.0
    return float(ctx.accuracy) ** (1.0 + tokens / CONTEXT_HALF_TOKENS)


def _unit(*parts: str) -> float:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def knows(ctx: PolicyContext, fact_key: str) -> bool:
    """Whether this model knows the fact ``fact_key`` without evidence (fixed per profile)."""
    return _unit("knows", ctx.profile_name, fact_key) < ctx.knowledge


def _fact_key(f: Fact) -> str:
    return f"{f.subject}|{f.relation}|{f.object}"


_FACT_INDEX: dict[tuple, dict[tuple[str, str, bool], Fact]] = {}


def fact_of(world: World, entity_id: str, hop_kind: str) -> Fact | None:
    """The fact hop kind ``hop_kind`` follows from ``entity_id`` (None when the entity has none)."""
    idx = _FACT_INDEX.get(world.key)
    if idx is None:
        idx = {}
        for f in world.facts:
            idx[(f.subject, f.relation, True)] = f
            idx[(f.object, f.relation, False)] = f
        _FACT_INDEX[world.key] = idx
    kind = HOP_KINDS[hop_kind]
    return idx.get((entity_id, kind.relation, kind.forward))


def reads(world: World, fact: Fact, context: str) -> str | None:
    """The text of a passage stating ``fact`` that the context contains, or None."""
    flat = " ".join(context.split())
    for p in world.fact_passages(fact):
        if " ".join(p.text.split()) in flat:
            return p.text
    return None


def _target(world: World, fact: Fact, hop_kind: str) -> str:
    kind = HOP_KINDS[hop_kind]
    return world.name(fact.object if kind.forward else fact.subject)


def _slip(world: World, to_type: str, avoid: str, rng: random.Random, context: str) -> str:
    """A wrong entity of ``to_type``: half the time one the context names."""
    pool = sorted(e.name for e in world.of_type(to_type) if e.name != avoid)
    padded = f" {normalize_answer(context)} "
    near = [n for n in pool if f" {normalize_answer(n)} " in padded]
    if near and rng.random() < 0.5:
        return rng.choice(near)
    return rng.choice(pool)


def resolve_chain(kq: KnownQuestion, context: str, ctx: PolicyContext, *, memory: bool = True,
                  claims: dict[str, str] | None = None) -> Chain:
    """Walk the question's hops as this model would, given ``context``.

    Each hop: read the fact from the context, else recall it (when ``memory``), else take
    another agent's claim for that hop on trust (``claims``: normalised one-hop question ->
    claimed entity name, see :func:`claim_key`), else stop. A read or recalled hop is right
    with :func:`effective_reasoning`, else it slips to another entity. Draws, per hop read or
    recalled: one ``rng.random()`` for the slip, plus the slip's own draws.
    """
    rng = ctx.rng
    r = effective_reasoning(ctx, context)
    claims = claims or {}
    if kq.question is None or kq.world is None:
        return _resolve_user(kq, context, ctx, memory=memory, r=r, claims=claims)
    q, w = kq.question, kq.world
    beliefs: list[Belief] = []
    current = q.path[0]
    for hk in q.hop_kinds:
        fact = fact_of(w, current, hk)
        if fact is None:
            break  # a slip led to an entity without this relation: nothing to read or recall
        text = reads(w, fact, context)
        if text is not None:
            source: Source = "evidence"
        elif memory and knows(ctx, _fact_key(fact)):
            source = "memory"
        else:
            claimed = claims.get(claim_key(HOP_KINDS[hk].question.format(s=w.name(current))))
            ent = w.entity_by_name(claimed) if claimed else None
            if ent is None:
                break
            beliefs.append(Belief(ent.name, "claim"))
            current = ent.eid
            continue
        name = _target(w, fact, hk)
        if rng.random() >= r:
            name = _slip(w, HOP_KINDS[hk].to_type, name, rng, context)
        beliefs.append(Belief(name, source, text))
        ent = w.entity_by_name(name)
        assert ent is not None
        current = ent.eid
    return Chain(q.hops, tuple(beliefs), w.name(q.path[0]))


def _resolve_user(kq: KnownQuestion, context: str, ctx: PolicyContext, *, memory: bool, r: float,
                  claims: dict[str, str]) -> Chain:
    """A question outside the world: one fact, question -> answer (see the module docstring)."""
    golds = kq.golds()
    line = next((ln for ln in context.splitlines() if any(contains_span(ln, g) for g in golds)), None)
    if line is not None:
        source: Source = "evidence"
    elif memory and golds and knows(ctx, "user|" + normalize_answer(kq.text)):
        source = "memory"
    elif claim_key(kq.text) in claims:
        return Chain(1, (Belief(claims[claim_key(kq.text)], "claim"),), kq.text)
    else:
        return Chain(1, (), kq.text)
    answer = golds[0]
    if ctx.rng.random() >= r:
        world = build_world()
        answer = _slip(world, "city", answer, ctx.rng, context)
    return Chain(1, (Belief(answer, source, line),), kq.text)


def doubts_claim(ctx: PolicyContext, question: str, claim: str) -> bool:
    """Whether this model, checking another agent's unsupported claim ``claim`` about
    ``question``, doubts it: with probability ``calibration``, decided once per model,
    question and claim (a hash, not the request's rng), so the same unsupported claim meets
    the same doubt every time it comes back with nothing new."""
    return _unit("doubt", ctx.profile_name, normalize_answer(question), normalize_answer(claim)) < ctx.calibration


def claim_key(hop_question: str) -> str:
    """The key of a claim about one hop: its one-hop question, normalised."""
    return normalize_answer(hop_question)


def empty_chain(kq: KnownQuestion) -> Chain:
    """The walk before any hop: at the subject the question names."""
    if kq.question is None or kq.world is None:
        return Chain(1, (), kq.text)
    return Chain(kq.question.hops, (), kq.world.name(kq.question.path[0]))


def hop_query(kq: KnownQuestion, chain: Chain, i: int | None = None) -> str:
    """The one-hop question of hop ``i`` (default: the first lacking hop, clamped to the last)
    about the entity the model believes that hop starts from."""
    if kq.question is None:
        return kq.text
    hops = kq.question.hops
    i = min(chain.lacking if i is None else i, hops - 1)
    return HOP_KINDS[kq.question.hop_kinds[i]].question.format(s=chain.entity_at(i))


_VAGUE = {
    "city": "one of the cities mentioned in the sources",
    "country": "a country that the sources describe",
    "person": "a person named in the material",
    "organisation": "one of the organisations the sources talk about",
    "river": "a river discussed in the sources",
}


def lacking_answer(kq: KnownQuestion | None, ctx: PolicyContext, context: str) -> tuple[str, str]:
    """What a model that lacks a needed fact answers: ``(mode, text)``.

    Draws ``rng.random()`` for noticing (``calibration``); if it notices, one more for
    ``abstention``: ``abstain`` (an explicit "cannot determine") or ``hedge`` (a vague line
    naming nothing); if not, ``confabulate``: a confident entity of the answer's type, half
    the time one the context names.
    """
    rng = ctx.rng
    etype = kq.question.answer_type if kq is not None and kq.question is not None else "city"
    if rng.random() < ctx.calibration:
        if rng.random() < ctx.abstention:
            return "abstain", "I cannot determine the answer from the information available."
        return "hedge", "It is " + _VAGUE.get(etype, "not clear which one it is") + "."
    world = kq.world if kq is not None and kq.world is not None else build_world()
    return "confabulate", _slip(world, etype, "", rng, context)


def speculation_factor(chain: Chain) -> float:
    """How much longer than a grounded answer the model writes: 1 when every hop was read in
    the context; otherwise one more unit per hop it recalled, took on trust or lacks (it
    speculates to fill the gaps)."""
    unsupported = sum(1 for b in chain.beliefs if b.source != "evidence") + (chain.hops - len(chain.beliefs))
    return 1.0 + 1.5 * unsupported
