"""A seeded, synthetic multi-hop QA world, generated in code.

The world is a small knowledge graph of made-up entities (people, cities, countries,
organisations, rivers) whose names are built from syllables by a seeded ``random.Random``,
so no model has seen them: an answer can only come from the passages. Every fact is
rendered as short natural-language passages in two disjoint pools:

* ``local``: the corpus behind the local retriever (an organisation's own documents). It
  is deliberately incomplete: each fact has a local passage only with probability
  ``local_coverage``, so some questions need a hop that only the web pool holds (web
  search then matters).
* ``web``: the pool behind the offline web-search tool. It states every fact the local
  corpus lacks, and each fact the local corpus holds unless that fact is private (with
  probability ``private_share``: known only from the local corpus, so web search cannot
  reach it). A fact in both pools is worded differently in each, so the two pools never
  share a passage.

Both pools also carry distractor passages that mention entities without stating any
relation a question asks about.

Questions chain 1, 2 or 3 functional relations (``born_in``, ``located_in``,
``capital_of``, ``founded_by``, ``headquartered_in``, ``flows_through``) from a subject
named in the question to a gold answer, e.g. "In which country is the city where <person>
was born?". Each question records its path of entities, the facts of each hop and the
passages that support each hop.

Building a world is deterministic in ``(seed, n_questions_per_hop, local_coverage,
private_share)`` and
cached per process; it takes a few tens of milliseconds. It runs in phases (entities,
relations, passages, questions), each with its own generator derived from the seed and the
phase's name, so a change to one phase cannot shift another's draws (see "generation"
below); ``World.fingerprint()`` hashes the generated content, and a test pins it for the
default world.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = [
    "ENTITY_TYPES",
    "HOP_KINDS",
    "HopKind",
    "Entity",
    "Fact",
    "Passage",
    "Question",
    "World",
    "build_world",
    "built_worlds",
    "DEFAULT_SEED",
    "DEFAULT_QUESTIONS_PER_HOP",
]

DEFAULT_SEED = 0
"""Seed of the bundled world (the one ``load_tasks`` uses and the sim policies know)."""
DEFAULT_QUESTIONS_PER_HOP = 50
"""Questions per hop count in the bundled world (150 tasks in all)."""
DEFAULT_LOCAL_COVERAGE = 0.8
"""Chance that a fact of the bundled world has a local passage."""
DEFAULT_PRIVATE_SHARE = 0.5
"""Chance that a fact of the bundled world with a local passage is private (no web
passage), so some questions can be answered from the local corpus only."""

ENTITY_TYPES = ("person", "city", "country", "organisation", "river")
"""Entity types the world generates."""


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class Entity:
    """One named thing in the world."""

    eid: str
    """Stable id, ``{type}:{index:03d}``."""
    name: str
    """Display name (unique in the world; every name token is unique too)."""
    etype: str
    """One of ``ENTITY_TYPES``."""
    attrs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """Flavour attributes used in passages (profession, year, sector...); never asked about."""


@dataclass(frozen=True)
class Fact:
    """A relation triple between two entities (always stored in its canonical direction)."""

    subject: str
    """Entity id of the subject."""
    relation: str
    """``born_in``, ``located_in``, ``capital_of``, ``founded_by``, ``headquartered_in`` or ``flows_through``."""
    object: str
    """Entity id of the object."""


@dataclass(frozen=True)
class Passage:
    """A short text in one of the two pools."""

    pid: str
    """Stable id: ``L#####`` for local passages, ``W#####`` for web passages, ``U-...`` for user ones."""
    pool: str
    """``local`` or ``web`` (user-supplied context passages count as ``local``)."""
    title: str
    """Name of the entity the passage is about."""
    text: str
    """The passage itself (one or two sentences)."""
    kind: str
    """``fact`` (states ``facts``), ``distractor`` (states no asked relation) or ``user``."""
    facts: tuple[Fact, ...] = ()
    """Relations this passage states."""
    mentions: tuple[str, ...] = ()
    """Entity ids named in the text."""

    def as_doc(self) -> dict[str, str]:
        """The JSON-friendly shape tools return: id, title, text and source pool."""
        return {"id": self.pid, "title": self.title, "text": self.text, "source": self.pool}


@dataclass(frozen=True)
class HopKind:
    """How one hop walks a relation, and how to ask about it on its own."""

    relation: str
    """The ``Fact.relation`` the hop follows."""
    forward: bool
    """True when the hop goes subject -> object, False for object -> subject."""
    from_type: str
    """Entity type the hop starts from."""
    to_type: str
    """Entity type the hop ends at."""
    question: str
    """A one-hop question about ``{s}`` (used for 1-hop tasks and by query rewriters)."""


HOP_KINDS: dict[str, HopKind] = {
    "born_in": HopKind("born_in", True, "person", "city", "In which city was {s} born?"),
    "located_in": HopKind("located_in", True, "city", "country", "In which country is the city of {s} located?"),
    "has_capital": HopKind("capital_of", False, "country", "city", "What is the capital city of {s}?"),
    "founded_by": HopKind("founded_by", True, "organisation", "person", "Who founded {s}?"),
    "headquartered_in": HopKind(
        "headquartered_in", True, "organisation", "city", "In which city is {s} headquartered?"
    ),
    "flows_through": HopKind("flows_through", True, "river", "country", "Through which country does the {s} flow?"),
}
"""Hop kinds by name. ``has_capital`` walks ``capital_of`` backwards (country -> its capital)."""

# Multi-hop templates: (hop kinds in order, question text about the first entity ``{s}``).
_TEMPLATES: dict[int, tuple[tuple[tuple[str, ...], str], ...]] = {
    1: tuple(((name,), kind.question) for name, kind in HOP_KINDS.items()),
    2: (
        (("born_in", "located_in"), "In which country is the city where {s} was born?"),
        (("founded_by", "born_in"), "In which city was the founder of {s} born?"),
        (("headquartered_in", "located_in"), "In which country is the city that hosts the headquarters of {s}?"),
        (("located_in", "has_capital"), "What is the capital of the country in which the city of {s} lies?"),
        (("flows_through", "has_capital"), "What is the capital of the country that the {s} flows through?"),
    ),
    3: (
        (("founded_by", "born_in", "located_in"), "In which country was the founder of {s} born?"),
        (("born_in", "located_in", "has_capital"), "What is the capital of the country where {s} was born?"),
        (
            ("headquartered_in", "located_in", "has_capital"),
            "What is the capital of the country where {s} has its headquarters?",
        ),
    ),
}


@dataclass(frozen=True)
class Question:
    """A multi-hop question with its gold answer and evidence."""

    qid: str
    """Stable task id, ``qa-h{hops}-{index:04d}``."""
    text: str
    """The question as asked."""
    answer: str
    """Gold answer: the name of the last entity on ``path``."""
    hops: int
    """Number of relations to chain (1, 2 or 3)."""
    template: str
    """Hop kinds joined by ``+`` (e.g. ``born_in+located_in``)."""
    path: tuple[str, ...]
    """Entity ids from the subject named in the question to the answer (``hops + 1`` long)."""
    hop_kinds: tuple[str, ...]
    """``HOP_KINDS`` key of each hop."""
    facts: tuple[Fact, ...]
    """The fact each hop follows."""
    support_ids: tuple[str, ...]
    """One supporting passage per hop: the local copy when there is one, else the web copy."""
    support_pools: tuple[str, ...]
    """Pool of each ``support_ids`` entry (``local`` or ``web``)."""
    web_support_ids: tuple[str | None, ...]
    """The web copy of each hop's fact; None for a private fact (local corpus only: web
    search cannot reach that hop)."""
    answer_type: str
    """Entity type of the answer."""

    @property
    def local_complete(self) -> bool:
        """True when every hop has a passage in the local corpus."""
        return all(p == "local" for p in self.support_pools)


@dataclass
class World:
    """A generated world: entities, facts, passages of both pools and questions."""

    seed: int
    """Seed it was generated from."""
    n_questions_per_hop: int
    """Questions generated per hop count (fewer only if subjects ran out)."""
    local_coverage: float
    """Probability that a fact has a passage in the local pool."""
    private_share: float
    """Probability that a fact with a local passage has no web passage (private)."""
    entities: dict[str, Entity]
    """Entities by id."""
    facts: tuple[Fact, ...]
    """All relation triples."""
    passages: tuple[Passage, ...]
    """Passages of both pools (local first, then web)."""
    questions: tuple[Question, ...]
    """Questions, ordered by hops then index."""
    _by_pid: dict[str, Passage] = field(init=False, repr=False, compare=False)
    _by_name: dict[str, Entity] = field(init=False, repr=False, compare=False)
    _by_fact: dict[Fact, tuple[Passage, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Lookup tables are derived, so they are built here rather than passed in.
        self._by_pid = {p.pid: p for p in self.passages}
        self._by_name = {e.name.lower(): e for e in self.entities.values()}
        by_fact: dict[Fact, list[Passage]] = {}
        for p in self.passages:
            for f in p.facts:
                by_fact.setdefault(f, []).append(p)
        self._by_fact = {f: tuple(ps) for f, ps in by_fact.items()}

    @property
    def key(self) -> tuple[int, int, float, float]:
        """What identifies the world (the cache key of ``build_world``)."""
        return (self.seed, self.n_questions_per_hop, self.local_coverage, self.private_share)

    def passage(self, pid: str) -> Passage:
        """The passage with id ``pid`` (KeyError if unknown)."""
        return self._by_pid[pid]

    def pool(self, name: str) -> tuple[Passage, ...]:
        """Passages of pool ``local`` or ``web``."""
        return tuple(p for p in self.passages if p.pool == name)

    def entity_by_name(self, name: str) -> Entity | None:
        """The entity called ``name`` (case-insensitive), or None."""
        return self._by_name.get(name.strip().lower())

    def name(self, eid: str) -> str:
        """Display name of entity ``eid``."""
        return self.entities[eid].name

    def of_type(self, etype: str) -> list[Entity]:
        """Entities of one type, in id order."""
        return [e for e in self.entities.values() if e.etype == etype]

    def fact_passages(self, fact: Fact) -> tuple[Passage, ...]:
        """Every passage (either pool) that states ``fact``."""
        return self._by_fact.get(fact, ())

    def content(self) -> dict[str, list]:
        """The generated content as plain JSON-friendly lists, per part: ``entities`` (id,
        name, type, attributes), ``facts`` (subject, relation, object), ``passages`` (id,
        pool, title, text, kind, facts, mentions) and ``questions`` (every field, the gold
        answer and the evidence included), each in the world's order."""
        def fact(f: Fact) -> list[str]:
            return [f.subject, f.relation, f.object]

        return {
            "entities": [[e.eid, e.name, e.etype, e.attrs] for e in self.entities.values()],
            "facts": [fact(f) for f in self.facts],
            "passages": [[p.pid, p.pool, p.title, p.text, p.kind, [fact(f) for f in p.facts], list(p.mentions)]
                         for p in self.passages],
            "questions": [[q.qid, q.text, q.answer, q.hops, q.template, list(q.path), list(q.hop_kinds),
                           [fact(f) for f in q.facts], list(q.support_ids), list(q.support_pools),
                           list(q.web_support_ids), q.answer_type] for q in self.questions],
        }

    def fingerprint(self) -> dict[str, str]:
        """SHA-256 (hex) of each part of :meth:`content` (canonical JSON: sorted keys, no
        spaces, UTF-8) and of the whole (``world``): equal fingerprints, equal worlds."""
        def digest(value: Any) -> str:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            return hashlib.sha256(text.encode("utf-8")).hexdigest()

        content = self.content()
        return {**{part: digest(value) for part, value in content.items()}, "world": digest(content)}


# ------------------------------------------------------------------------ name making

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "r", "s",
           "t", "tr", "v", "z", "th", "sh", "w")
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ou")
_CODAS = ("n", "r", "l", "s", "m", "th", "nd", "rk", "st", "v")
_CITY_SUFFIXES = ("", "", "", "", "ford", "holm", "mere", "wick", "haven", "gate")
_COUNTRY_SUFFIXES = ("ia", "land", "ora", "mark", "ovia", "esh")
_ORG_KINDS = ("Institute", "Foundation", "Works", "Collective", "Holdings", "Guild",
              "Laboratories", "Trust", "Company", "Society")
# Generated words must never collide with ordinary words a question or passage uses,
# or whole-token answer matching and BM25 would see false hits.
_RESERVED = {"the", "and", "born", "city", "river", "capital", "country", "founder", "where",
             "which", "there", "then", "than", "from", "state", "trade", "made", "more", "most",
             "sale", "tone", "lone", "none", "some", "same", "done", "gone", "home", "name"}

_PROFESSIONS = ("cartographer", "composer", "engineer", "botanist", "economist", "novelist",
                "architect", "physician", "sculptor", "astronomer", "historian", "chemist")
_SECTORS = ("shipbuilding", "textile", "publishing", "optics", "agricultural", "pharmaceutical",
            "railway", "software", "mining", "insurance")
_FEATURES = ("lantern festival", "stone bridges", "glass markets", "clock towers", "salt gardens",
             "copper domes", "night markets", "harbour walls")
_GOODS = ("timber", "wool", "copper", "olive oil", "paper", "salt", "glassware", "tea")
_ACTIVITIES = ("rowing", "fishing", "birdwatching", "kayaking", "swimming")
_HOBBIES = ("chess", "beekeeping", "mountaineering", "violin", "gardening", "sailing")


class _Namer:
    """Draws unique, pronounceable syllable names from one rng."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def word(self, n_syl: int, suffix: str = "") -> str:
        r = self.rng
        for _ in range(1000):
            parts = []
            for i in range(n_syl):
                last = i == n_syl - 1
                # Codas mostly close the word; inside it they are rare, which keeps names short.
                coda = r.choice(_CODAS) if (last and r.random() < 0.6) or r.random() < 0.15 else ""
                parts.append(r.choice(_ONSETS) + r.choice(_VOWELS) + coda)
            w = ("".join(parts) + suffix).capitalize()
            low = w.lower()
            if (len(low) >= 4 and low not in self.used and low not in _RESERVED
                    and not _CLUSTER.search(low) and len(low) <= 13):
                self.used.add(low)
                return w
        raise RuntimeError("name space exhausted")  # pragma: no cover - needs absurd world sizes


_CLUSTER = re.compile(r"[^aeiouy]{3}|(.)\1")
"""Rejects three consonants in a row and doubled letters (hard to read)."""


def _a(word: str) -> str:
    """``word`` with its indefinite article."""
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


# ------------------------------------------------------------------------ generation
#
# The world is built in phases, each drawing from its own generator seeded by the world
# seed and the phase name only (:func:`_rng`), never from a generator another phase has
# used. So a change inside one phase (a new passage wording, another relation, a template
# more) changes what that phase draws and what depends on its output, but cannot shift the
# draws of any other phase. Phases, in build order:
#
# * ``entities``: names and flavour attributes of every entity;
# * ``relations:<relation>``: the objects of each functional relation (``located_in`` also
#   deals the capitals; ``founded_by`` also dates the organisations);
# * ``passages:wording``: which local wording each fact passage uses;
# * ``passages:coverage``: which facts get a local passage (the draws do not depend on
#   ``local_coverage``, so a higher coverage only adds local passages);
# * ``passages:private``: which facts are private (no web passage when they have a local
#   one; the draws do not depend on ``private_share``);
# * ``passages:distractors``: the distractor passages of both pools;
# * ``passages:order``: the order of each pool (so passage ids carry no hint);
# * ``questions:<template>``: the order in which each question template tries subjects.
#
# ``tests/instances/test_qa_world_fingerprint.py`` pins a hash of the default world's
# content per part, so a change to the generated world is always deliberate.

_Row = tuple[str, str, str, tuple[Fact, ...], tuple[str, ...]]
"""A passage before it has an id: title, text, kind, facts, mentions."""


def _rng(seed: int, phase: str) -> random.Random:
    """The generator of one build phase: seeded by ``seed`` and ``phase`` alone (a string
    seed goes through SHA-512, so it is stable across processes and Python versions)."""
    return random.Random(f"qa_world:{seed}:{phase}")


@dataclass
class _Graph:
    """What the phases hand on: entities by type and each relation as a mapping."""

    entities: dict[str, Entity]
    by_type: dict[str, list[str]]
    """Entity ids per type, in id order."""
    facts: list[Fact] = field(default_factory=list)
    step: dict[str, dict[str, str]] = field(default_factory=dict)
    """``HOP_KINDS`` key -> {from entity: to entity}."""

    def name(self, eid: str) -> str:
        return self.entities[eid].name


def _make_entities(rng: random.Random, n_questions_per_hop: int) -> _Graph:
    """Phase ``entities``: every entity with a unique name and its flavour attributes."""
    namer = _Namer(rng)
    scale = max(1.0, n_questions_per_hop / DEFAULT_QUESTIONS_PER_HOP)
    n_country = int(16 * scale)
    entities: dict[str, Entity] = {}

    def add(etype: str, i: int, name: str, **attrs: Any) -> str:
        eid = f"{etype}:{i:03d}"
        entities[eid] = Entity(eid, name, etype, attrs)
        return eid

    countries = [add("country", i, namer.word(rng.choice((1, 2)), rng.choice(_COUNTRY_SUFFIXES)),
                     good=rng.choice(_GOODS), population=rng.randint(2, 90)) for i in range(n_country)]
    cities = [add("city", i, namer.word(2, rng.choice(_CITY_SUFFIXES)),
                  feature=rng.choice(_FEATURES), founded=rng.randint(900, 1800)) for i in range(n_country * 4)]
    people = [add("person", i, f"{namer.word(2)} {namer.word(rng.choice((2, 2, 3)))}",
                  profession=rng.choice(_PROFESSIONS), year=rng.randint(1890, 1995),
                  hobby=rng.choice(_HOBBIES)) for i in range(int(110 * scale))]
    orgs = [add("organisation", i, f"{namer.word(2)} {rng.choice(_ORG_KINDS)}",
                sector=rng.choice(_SECTORS), year=0) for i in range(int(50 * scale))]
    rivers = [add("river", i, f"{namer.word(2)} River", km=rng.randint(80, 2400),
                  activity=rng.choice(_ACTIVITIES)) for i in range(int(20 * scale))]
    return _Graph(entities, {"country": countries, "city": cities, "person": people, "organisation": orgs,
                             "river": rivers})


def _make_relations(seed: int, g: _Graph) -> None:
    """Phases ``relations:<relation>``: functional relations, so every subject has exactly
    one object and each question one answer. Adds ``g.facts`` and ``g.step``."""
    countries, cities, people = g.by_type["country"], g.by_type["city"], g.by_type["person"]
    orgs, rivers = g.by_type["organisation"], g.by_type["river"]

    rng = _rng(seed, "relations:located_in")
    city_country: dict[str, str] = {}
    capital: dict[str, str] = {}
    located: list[Fact] = []
    shuffled_cities = cities[:]
    rng.shuffle(shuffled_cities)
    for j, c in enumerate(shuffled_cities):
        country = countries[j % len(countries)]
        city_country[c] = country
        located.append(Fact(c, "located_in", country))
        if j < len(countries):  # the first city dealt to each country is its capital
            capital[country] = c
            located.append(Fact(c, "capital_of", country))

    rng = _rng(seed, "relations:born_in")
    born = {p: rng.choice(cities) for p in people}

    rng = _rng(seed, "relations:founded_by")
    founder = dict(zip(orgs, rng.sample(people, len(orgs))))  # distinct founders: "the founder of X" is unambiguous
    for o, p in founder.items():  # an organisation is founded when its founder is an adult
        g.entities[o].attrs["year"] = g.entities[p].attrs["year"] + rng.randint(24, 50)

    rng = _rng(seed, "relations:headquartered_in")
    hq = {o: rng.choice(cities) for o in orgs}

    rng = _rng(seed, "relations:flows_through")
    flows = {r: rng.choice(countries) for r in rivers}

    g.facts = [*located, *(Fact(p, "born_in", born[p]) for p in people)]
    for o in orgs:
        g.facts += [Fact(o, "founded_by", founder[o]), Fact(o, "headquartered_in", hq[o])]
    g.facts += [Fact(r, "flows_through", flows[r]) for r in rivers]
    g.step = {"born_in": born, "located_in": city_country, "has_capital": capital,
              "founded_by": founder, "headquartered_in": hq, "flows_through": flows}


def _fact_texts(f: Fact, s: Entity, o: Entity, rng: random.Random) -> tuple[str, str]:
    """The local wording (one of two, drawn) and the web wording of one fact."""
    a, b = s.attrs, o.attrs
    if f.relation == "born_in":
        loc = rng.choice((
            f"{s.name}, {_a(a['profession'])}, was born in the city of {o.name} in {a['year']}.",
            f"Born in {o.name} in {a['year']}, {s.name} later became a well-known {a['profession']}.",
        ))
        wb = f"Biography: {s.name} ({a['year']}) is {_a(a['profession'])} whose birthplace is {o.name}; {s.name} was born there."
    elif f.relation == "located_in":
        loc = rng.choice((
            f"{s.name} is a city located in the country of {o.name}.",
            f"The city of {s.name}, known for its {a['feature']}, lies in the country of {o.name}.",
        ))
        wb = f"Travel guide: {s.name} is a city in {o.name}, a country whose main export is {b['good']}."
    elif f.relation == "capital_of":
        loc = rng.choice((
            f"{s.name} is the capital city of {o.name}.",
            f"The capital of {o.name} is {s.name}, seat of its parliament since {a['founded'] + 400}.",
        ))
        wb = f"Fact sheet: capital of {o.name} - {s.name}. The country's government sits in the capital, {s.name}."
    elif f.relation == "founded_by":
        loc = rng.choice((
            f"{s.name} was founded by {o.name} in {a['year']}.",
            f"In {a['year']}, the {b['profession']} {o.name} founded {s.name}, {_a(a['sector'])} organisation.",
        ))
        wb = f"About us: {s.name} ({a['sector']}) - founder: {o.name}, who founded the organisation in {a['year']}."
    elif f.relation == "headquartered_in":
        loc = rng.choice((
            f"{s.name} is headquartered in {o.name}.",
            f"The headquarters of {s.name}, {_a(a['sector'])} organisation, are in the city of {o.name}.",
        ))
        wb = f"Company profile: {s.name} ({a['sector']}) is headquartered in {o.name}, where its head office has stood since {a['year']}."
    else:  # flows_through
        loc = rng.choice((
            f"The {s.name} flows through {o.name}.",
            f"The {s.name} runs for {a['km']} kilometres and flows through the country of {o.name}.",
        ))
        wb = f"Geography notes: the {s.name} ({a['km']} km) flows through the country of {o.name}."
    return loc, wb


def _make_fact_passages(seed: int, g: _Graph, local_coverage: float,
                        private_share: float) -> tuple[list[_Row], list[_Row]]:
    """Phases ``passages:wording``, ``passages:coverage`` and ``passages:private``: with
    probability ``local_coverage`` a fact has a local passage; it has a web one, worded
    differently, unless it has a local one and is private (probability ``private_share``).
    Every fact draws once from each generator, so coverage and privacy do not shift each
    other's draws."""
    wording, coverage = _rng(seed, "passages:wording"), _rng(seed, "passages:coverage")
    private = _rng(seed, "passages:private")
    local: list[_Row] = []
    web: list[_Row] = []
    for f in g.facts:
        s, o = g.entities[f.subject], g.entities[f.object]
        loc, wb = _fact_texts(f, s, o, wording)
        mentions = (f.subject, f.object)
        in_local = coverage.random() < local_coverage
        is_private = private.random() < private_share
        if in_local:
            local.append((s.name, loc, "fact", (f,), mentions))
        if not (in_local and is_private):
            web.append((s.name, wb, "fact", (f,), mentions))
    return local, web


def _make_distractors(rng: random.Random, g: _Graph, local: list[_Row], web: list[_Row]) -> None:
    """Phase ``passages:distractors``: per entity and pool, a passage that mentions it (and
    often a second entity of a question-relevant type) without stating any relation a
    question asks about. The second entity is never the true object of a relation of the
    first one, so a distractor cannot answer a hop by accident."""
    cities, countries = g.by_type["city"], g.by_type["country"]
    born, hq = g.step["born_in"], g.step["headquartered_in"]

    def other(pool_: list[str], *exclude: str) -> str:
        while True:
            x = rng.choice(pool_)
            if x not in exclude:
                return x

    for eid, e in g.entities.items():
        a = e.attrs
        for pool_list in (local, web):
            if e.etype == "person":
                c = other(cities, born[eid])
                txt = rng.choice((
                    f"{e.name} gave a public lecture in {g.name(c)} in {a['year'] + 30}.",
                    f"{e.name} spent several summers in {g.name(c)} writing about {a['hobby']}.",
                ))
                pool_list.append((e.name, txt, "distractor", (), (eid, c)))
            elif e.etype == "organisation":
                c = other(cities, hq[eid])
                txt = rng.choice((
                    f"{e.name} opened a small regional office in {g.name(c)} in {a['year'] + 5}.",
                    f"{e.name} sponsors {_a(a['sector'])} exhibition held each year in {g.name(c)}.",
                ))
                pool_list.append((e.name, txt, "distractor", (), (eid, c)))
            elif e.etype == "city":
                txt = rng.choice((
                    f"{e.name} is famous for its {a['feature']}, which attract visitors every spring.",
                    f"The oldest quarter of {e.name} dates from {a['founded']} and is known for its {a['feature']}.",
                ))
                pool_list.append((e.name, txt, "distractor", (), (eid,)))
            elif e.etype == "country":
                c2 = other(countries, eid)
                txt = rng.choice((
                    f"{e.name} exports {a['good']} to {g.name(c2)} and has about {a['population']} million "
                    "inhabitants.",
                    f"{e.name} signed a trade treaty on {a['good']} with {g.name(c2)}.",
                ))
                pool_list.append((e.name, txt, "distractor", (), (eid, c2)))
            else:  # river
                txt = f"The {e.name} is popular with {a['activity']} enthusiasts and is {a['km']} kilometres long."
                pool_list.append((e.name, txt, "distractor", (), (eid,)))


def _make_passages(seed: int, g: _Graph, local_coverage: float, private_share: float) -> list[Passage]:
    """The passage phases: fact passages, distractors, then each pool shuffled (phase
    ``passages:order``) so passage ids carry no hint of kind or relation."""
    local, web = _make_fact_passages(seed, g, local_coverage, private_share)
    _make_distractors(_rng(seed, "passages:distractors"), g, local, web)
    rng = _rng(seed, "passages:order")
    rng.shuffle(local)
    rng.shuffle(web)
    passages = [Passage(f"L{i:05d}", "local", *row) for i, row in enumerate(local)]
    return passages + [Passage(f"W{i:05d}", "web", *row) for i, row in enumerate(web)]


def _hop_fact(kind: str, frm: str, to: str) -> Fact:
    hk = HOP_KINDS[kind]
    return Fact(frm, hk.relation, to) if hk.forward else Fact(to, hk.relation, frm)


def _make_questions(seed: int, g: _Graph, passages: list[Passage], n_questions_per_hop: int) -> list[Question]:
    """Phases ``questions:<template>``: per hop count, the templates take turns; each walks
    its own seeded order of subjects (without replacement) to the next one whose path exists,
    has no loop and whose question text is new, until ``n_questions_per_hop`` questions are
    made or every template ran out of subjects."""
    by_fact: dict[tuple[Fact, str], str] = {}
    for p in passages:
        for f in p.facts:
            by_fact[(f, p.pool)] = p.pid
    questions: list[Question] = []
    for hops in (1, 2, 3):
        templates = _TEMPLATES[hops]
        orders = []
        for kinds, _ in templates:
            cands = g.by_type[HOP_KINDS[kinds[0]].from_type][:]
            _rng(seed, "questions:" + "+".join(kinds)).shuffle(cands)
            orders.append(cands)
        cursors = [0] * len(templates)
        seen_text: set[str] = set()
        t = 0
        exhausted = 0
        made_here = 0
        while made_here < n_questions_per_hop and exhausted < len(templates):
            ti = t % len(templates)
            t += 1
            kinds, text_tpl = templates[ti]
            made = False
            while cursors[ti] < len(orders[ti]):
                subj = orders[ti][cursors[ti]]
                cursors[ti] += 1
                path = [subj]
                ok = True
                for k in kinds:
                    nxt = g.step[k].get(path[-1])
                    if nxt is None or nxt in path:  # no object, or a loop (e.g. the capital's own capital)
                        ok = False
                        break
                    path.append(nxt)
                text = text_tpl.format(s=g.name(subj))
                if not ok or text in seen_text:
                    continue
                seen_text.add(text)
                hop_facts = tuple(_hop_fact(k, path[i], path[i + 1]) for i, k in enumerate(kinds))
                sup, pools, websup = [], [], []
                for f in hop_facts:
                    lp = by_fact.get((f, "local"))
                    sup.append(lp or by_fact[(f, "web")])
                    pools.append("local" if lp else "web")
                    websup.append(by_fact.get((f, "web")))
                questions.append(Question(
                    qid=f"qa-h{hops}-{made_here:04d}", text=text, answer=g.name(path[-1]), hops=hops,
                    template="+".join(kinds), path=tuple(path), hop_kinds=tuple(kinds), facts=hop_facts,
                    support_ids=tuple(sup), support_pools=tuple(pools), web_support_ids=tuple(websup),
                    answer_type=g.entities[path[-1]].etype,
                ))
                made_here += 1
                made = True
                break
            exhausted = 0 if made else exhausted + 1
    return questions


def _build(seed: int, n_questions_per_hop: int, local_coverage: float,
           private_share: float = DEFAULT_PRIVATE_SHARE) -> World:
    g = _make_entities(_rng(seed, "entities"), n_questions_per_hop)
    _make_relations(seed, g)
    passages = _make_passages(seed, g, local_coverage, private_share)
    questions = _make_questions(seed, g, passages, n_questions_per_hop)
    return World(seed=seed, n_questions_per_hop=n_questions_per_hop, local_coverage=local_coverage,
                 private_share=private_share, entities=g.entities, facts=tuple(g.facts), passages=tuple(passages), questions=tuple(questions))


_BUILT: dict[tuple[int, int, float, float], World] = {}
# The simulated service answers from several threads; one lock makes each world one object.
_LOCK = threading.RLock()


@lru_cache(maxsize=16)
def _cached(seed: int, n_questions_per_hop: int, local_coverage: float, private_share: float) -> World:
    world = _build(seed, n_questions_per_hop, local_coverage, private_share)
    _BUILT[world.key] = world
    return world


def build_world(seed: int = DEFAULT_SEED, n_questions_per_hop: int = DEFAULT_QUESTIONS_PER_HOP,
                *, local_coverage: float = DEFAULT_LOCAL_COVERAGE,
                private_share: float = DEFAULT_PRIVATE_SHARE) -> World:
    """The world for ``seed`` (built once per process, then cached).

    ``local_coverage`` is the chance that a fact has a local passage; the rest are
    reachable through web search only. ``private_share`` is the chance that a fact with a
    local passage has no web passage (reachable through the local corpus only).
    """
    if n_questions_per_hop < 1:
        raise ValueError(f"n_questions_per_hop must be >= 1, got {n_questions_per_hop}")
    if not 0.0 <= local_coverage <= 1.0:
        raise ValueError(f"local_coverage must be in [0, 1], got {local_coverage}")
    if not 0.0 <= private_share <= 1.0:
        raise ValueError(f"private_share must be in [0, 1], got {private_share}")
    with _LOCK:
        return _cached(int(seed), int(n_questions_per_hop), float(local_coverage), float(private_share))


def built_worlds() -> tuple[World, ...]:
    """Worlds built so far in this process (question lookup searches all of them)."""
    return tuple(_BUILT.values())
