"""What simulated-model policies of QA architectures need to know about a question.

Framework-free helpers over the QA world, shared by the policies of CRAG, Plan-and-Execute
and LATS (and free for others): find the question a prompt is about, how many of its hops a
piece of text already resolves, the one-hop question and target of the next hop, and the
three ways a simulated model answers wrongly (vague, confidently wrong entity, empty).
Every random choice takes the caller's seeded ``rng``.
"""

from __future__ import annotations

import random
import re

from .lookup import KnownQuestion, find_question, lookup_question
from .retriever import STOPWORDS
from .scoring import contains_span, normalize_answer
from .world import HOP_KINDS, build_world

__all__ = [
    "known_question",
    "resolved_hops",
    "hops_of",
    "hop_question",
    "hop_target",
    "content_words",
    "keyword_query",
    "vague_line",
    "pick_confusion",
    "wrong_entity",
    "failure_answer",
]


def known_question(text: str) -> KnownQuestion | None:
    """The world (or user) question ``text`` is, or quotes; None when unknown."""
    if not text:
        return None
    return lookup_question(text) or find_question(text)


def resolved_hops(kq: KnownQuestion, notes: str) -> int:
    """How many leading hops of ``kq`` the ``notes`` resolve: hop ``i`` counts when the
    entity it leads to is named in the notes and every earlier hop counts too.
    Unknown paths (user tasks) count as resolved when the gold is in the notes."""
    if kq.question is None or kq.world is None:
        return 1 if any(contains_span(notes, g) for g in kq.golds()) else 0
    q, w = kq.question, kq.world
    i = 0
    while i < q.hops and contains_span(notes, w.name(q.path[i + 1])):
        i += 1
    return i


def hops_of(kq: KnownQuestion) -> int:
    """Hop count of ``kq`` (1 for user tasks)."""
    return kq.question.hops if kq.question is not None else 1


def hop_question(kq: KnownQuestion, i: int) -> str:
    """The one-hop question of hop ``i`` (clamped to the last hop), about the hop's source."""
    if kq.question is None or kq.world is None:
        return kq.text
    q, w = kq.question, kq.world
    i = max(0, min(i, q.hops - 1))
    return HOP_KINDS[q.hop_kinds[i]].question.format(s=w.name(q.path[i]))


def hop_target(kq: KnownQuestion, i: int) -> str | None:
    """The name hop ``i`` leads to (the gold for the last hop)."""
    if kq.question is None or kq.world is None:
        return kq.gold
    q, w = kq.question, kq.world
    i = max(0, min(i, q.hops - 1))
    return w.name(q.path[i + 1])


_WORDS = re.compile(r"[A-Za-z0-9]+")


def content_words(text: str) -> list[str]:
    """The words of ``text`` that are not stopwords, in order."""
    return [w for w in _WORDS.findall(text) if w.lower() not in STOPWORDS]


def keyword_query(text: str) -> str:
    """The content words of ``text`` (a lazy search query)."""
    return " ".join(content_words(text)) or text


_VAGUE = {
    "city": "one of the cities mentioned in the sources",
    "country": "a country that the sources describe",
    "person": "a person named in the material",
    "organisation": "one of the organisations the sources talk about",
    "river": "a river discussed in the sources",
}


def vague_line(kq: KnownQuestion | None) -> str:
    """An underspecified answer: talks around the entity's type without naming it."""
    etype = kq.question.answer_type if kq is not None and kq.question is not None else ""
    return "It is " + _VAGUE.get(etype, "not clear from the sources which one it is") + "."


def wrong_entity(kq: KnownQuestion | None, rng: random.Random, context: str = "") -> str:
    """A confident wrong answer: another entity of the gold's type, half the time one that
    ``context`` names (a plausible confusion), else any of that type."""
    world = kq.world if kq is not None and kq.world is not None else build_world()
    gold = kq.gold if kq is not None else None
    ent = world.entity_by_name(gold) if gold else None
    etype = ent.etype if ent is not None else "city"
    return pick_confusion(sorted(e.name for e in world.of_type(etype) if e.name != gold), rng, context)


def pick_confusion(pool: list[str], rng: random.Random, context: str = "") -> str:
    """One name of ``pool``: half the time (one ``rng.random()`` draw, made only when
    ``context`` names any) one of those ``context`` names, else any (one ``rng.choice``)."""
    padded = f" {normalize_answer(context)} "  # normalise once, then test every name
    near = [n for n in pool if f" {normalize_answer(n)} " in padded] if context else []
    if near and rng.random() < 0.5:
        return rng.choice(near)
    return rng.choice(pool)


def failure_answer(kq: KnownQuestion | None, mode: str, rng: random.Random, context: str = "") -> str:
    """The answer text of a failure ``mode`` (``underspecified``, ``wrong`` or ``empty``)."""
    if mode == "empty":
        return ""
    if mode == "wrong":
        return wrong_entity(kq, rng, context)
    return vague_line(kq)
