"""A seeded, synthetic multi-hop QA world, generated in code.

The world is a small knowledge graph of made-up entities (people, cities, countries,
organisations, rivers) whose names are built from syllables by a seeded ``random.Random``,
so no model has seen them: an answer can only come from the passages. Every fact is
rendered as short natural-language passages in two disjoint pools:

* ``local``: the corpus behind the local retriever. It is deliberately incomplete: each
  fact has a local passage only with probability ``local_coverage``, so some questions
  need a hop that only the web pool holds (web search then matters).
* ``web``: the pool behind the offline web-search tool. It states every fact, worded
  differently from the local copy, so the two pools never share a passage.

Both pools also carry distractor passages that mention entities without stating any
relation a question asks about.

Questions chain 1, 2 or 3 functional relations (``born_in``, ``located_in``,
``capital_of``, ``founded_by``, ``headquartered_in``, ``flows_through``) from a subject
named in the question to a gold answer, e.g. "In which country is the city where <person>
was born?". Each question records its path of entities, the facts of each hop and the
passages that support each hop.

Building a world is deterministic in ``(seed, n_questions_per_hop, local_coverage)`` and
cached per process; it takes a few tens of milliseconds.
"""

from __future__ import annotations

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
    web_support_ids: tuple[str, ...]
    """The web copy of each hop's fact (web search can always reach every hop)."""
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
    def key(self) -> tuple[int, int, float]:
        """What identifies the world (the cache key of ``build_world``)."""
        return (self.seed, self.n_questions_per_hop, self.local_coverage)

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


def _build(seed: int, n_questions_per_hop: int, local_coverage: float) -> World:
    rng = random.Random(f"qa_world:{seed}")
    namer = _Namer(rng)
    scale = max(1.0, n_questions_per_hop / DEFAULT_QUESTIONS_PER_HOP)
    n_country = int(16 * scale)
    n_city = n_country * 4
    n_person = int(110 * scale)
    n_org = int(50 * scale)
    n_river = int(20 * scale)

    entities: dict[str, Entity] = {}

    def add(etype: str, i: int, name: str, **attrs: Any) -> str:
        eid = f"{etype}:{i:03d}"
        entities[eid] = Entity(eid, name, etype, attrs)
        return eid

    countries = [add("country", i, namer.word(rng.choice((1, 2)), rng.choice(_COUNTRY_SUFFIXES)),
                     good=rng.choice(_GOODS), population=rng.randint(2, 90)) for i in range(n_country)]
    cities = [add("city", i, namer.word(2, rng.choice(_CITY_SUFFIXES)),
                  feature=rng.choice(_FEATURES), founded=rng.randint(900, 1800)) for i in range(n_city)]
    people = [add("person", i, f"{namer.word(2)} {namer.word(rng.choice((2, 2, 3)))}",
                  profession=rng.choice(_PROFESSIONS), year=rng.randint(1890, 1995),
                  hobby=rng.choice(_HOBBIES)) for i in range(n_person)]
    orgs = [add("organisation", i, f"{namer.word(2)} {rng.choice(_ORG_KINDS)}",
                sector=rng.choice(_SECTORS), year=0) for i in range(n_org)]
    rivers = [add("river", i, f"{namer.word(2)} River", km=rng.randint(80, 2400),
                  activity=rng.choice(_ACTIVITIES)) for i in range(n_river)]

    # Functional relations: every subject has exactly one object, so each question has one answer.
    facts: list[Fact] = []
    city_country: dict[str, str] = {}
    capital: dict[str, str] = {}
    shuffled_cities = cities[:]
    rng.shuffle(shuffled_cities)
    for j, c in enumerate(shuffled_cities):
        country = countries[j % n_country]
        city_country[c] = country
        facts.append(Fact(c, "located_in", country))
        if j < n_country:  # the first city dealt to each country is its capital
            capital[country] = c
            facts.append(Fact(c, "capital_of", country))
    born: dict[str, str] = {}
    for p in people:
        born[p] = rng.choice(cities)
        facts.append(Fact(p, "born_in", born[p]))
    founders = rng.sample(people, n_org)  # distinct founders keep "the founder of X" unambiguous
    founder = dict(zip(orgs, founders))
    for o, p in founder.items():  # an organisation is founded when its founder is an adult
        entities[o].attrs["year"] = entities[p].attrs["year"] + rng.randint(24, 50)
    hq: dict[str, str] = {}
    for o in orgs:
        facts.append(Fact(o, "founded_by", founder[o]))
        hq[o] = rng.choice(cities)
        facts.append(Fact(o, "headquartered_in", hq[o]))
    flows: dict[str, str] = {}
    for r in rivers:
        flows[r] = rng.choice(countries)
        facts.append(Fact(r, "flows_through", flows[r]))

    step = {"born_in": born, "located_in": city_country, "has_capital": capital,
            "founded_by": founder, "headquartered_in": hq, "flows_through": flows}

    # Passages. Local and web copies of a fact use different wordings; local ones are
    # dropped with probability 1 - local_coverage.
    local: list[tuple[str, str, str, tuple[Fact, ...], tuple[str, ...]]] = []
    web: list[tuple[str, str, str, tuple[Fact, ...], tuple[str, ...]]] = []
    n = entities

    def nm(eid: str) -> str:
        return n[eid].name

    for f in facts:
        s, o = n[f.subject], n[f.object]
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
        mentions = (f.subject, f.object)
        if rng.random() < local_coverage:
            local.append((s.name, loc, "fact", (f,), mentions))
        web.append((s.name, wb, "fact", (f,), mentions))

    # Distractors: mention entities (and often a second entity of a question-relevant type)
    # without stating any relation a question asks about. Their second entity is never the
    # true object of a relation of the first one, so they cannot answer a hop by accident.
    def other(pool_: list[str], *exclude: str) -> str:
        while True:
            x = rng.choice(pool_)
            if x not in exclude:
                return x

    for eid, e in entities.items():
        a = e.attrs
        for pool_list in (local, web):
            if e.etype == "person":
                c = other(cities, born[eid])
                txt = rng.choice((
                    f"{e.name} gave a public lecture in {nm(c)} in {a['year'] + 30}.",
                    f"{e.name} spent several summers in {nm(c)} writing about {a['hobby']}.",
                ))
                pool_list.append((e.name, txt, "distractor", (), (eid, c)))
            elif e.etype == "organisation":
                c = other(cities, hq[eid])
                txt = rng.choice((
                    f"{e.name} opened a small regional office in {nm(c)} in {a['year'] + 5}.",
                    f"{e.name} sponsors {_a(a['sector'])} exhibition held each year in {nm(c)}.",
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
                    f"{e.name} exports {a['good']} to {nm(c2)} and has about {a['population']} million inhabitants.",
                    f"{e.name} signed a trade treaty on {a['good']} with {nm(c2)}.",
                ))
                pool_list.append((e.name, txt, "distractor", (), (eid, c2)))
            else:  # river
                txt = f"The {e.name} is popular with {a['activity']} enthusiasts and is {a['km']} kilometres long."
                pool_list.append((e.name, txt, "distractor", (), (eid,)))

    # Shuffle each pool so passage ids carry no hint of kind or relation.
    rng.shuffle(local)
    rng.shuffle(web)
    passages = [Passage(f"L{i:05d}", "local", *row) for i, row in enumerate(local)]
    passages += [Passage(f"W{i:05d}", "web", *row) for i, row in enumerate(web)]
    by_fact: dict[tuple[Fact, str], str] = {}
    for p in passages:
        for f in p.facts:
            by_fact[(f, p.pool)] = p.pid

    def hop_fact(kind: str, frm: str, to: str) -> Fact:
        hk = HOP_KINDS[kind]
        return Fact(frm, hk.relation, to) if hk.forward else Fact(to, hk.relation, frm)

    questions: list[Question] = []
    by_type = {"person": people, "city": cities, "country": countries, "organisation": orgs, "river": rivers}
    for hops in (1, 2, 3):
        templates = _TEMPLATES[hops]
        # Each template draws subjects from its own seeded order without replacement.
        orders = []
        for kinds, _ in templates:
            cands = by_type[HOP_KINDS[kinds[0]].from_type][:]
            rng.shuffle(cands)
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
                    nxt = step[k].get(path[-1])
                    if nxt is None or nxt in path:  # no object, or a loop (e.g. the capital's own capital)
                        ok = False
                        break
                    path.append(nxt)
                text = text_tpl.format(s=nm(subj))
                if not ok or text in seen_text:
                    continue
                seen_text.add(text)
                hop_facts = tuple(hop_fact(k, path[i], path[i + 1]) for i, k in enumerate(kinds))
                sup, pools, websup = [], [], []
                for f in hop_facts:
                    lp = by_fact.get((f, "local"))
                    sup.append(lp or by_fact[(f, "web")])
                    pools.append("local" if lp else "web")
                    websup.append(by_fact[(f, "web")])
                questions.append(Question(
                    qid=f"qa-h{hops}-{made_here:04d}", text=text, answer=nm(path[-1]), hops=hops,
                    template="+".join(kinds), path=tuple(path), hop_kinds=tuple(kinds), facts=hop_facts,
                    support_ids=tuple(sup), support_pools=tuple(pools), web_support_ids=tuple(websup),
                    answer_type=n[path[-1]].etype,
                ))
                made_here += 1
                made = True
                break
            if not made:
                exhausted += 1
            else:
                exhausted = 0

    return World(seed=seed, n_questions_per_hop=n_questions_per_hop, local_coverage=local_coverage,
                 entities=entities, facts=tuple(facts), passages=tuple(passages), questions=tuple(questions))


_BUILT: dict[tuple[int, int, float], World] = {}
# The simulated service answers from several threads; one lock makes each world one object.
_LOCK = threading.RLock()


@lru_cache(maxsize=16)
def _cached(seed: int, n_questions_per_hop: int, local_coverage: float) -> World:
    world = _build(seed, n_questions_per_hop, local_coverage)
    _BUILT[world.key] = world
    return world


def build_world(seed: int = DEFAULT_SEED, n_questions_per_hop: int = DEFAULT_QUESTIONS_PER_HOP,
                *, local_coverage: float = 0.8) -> World:
    """The world for ``seed`` (built once per process, then cached).

    ``local_coverage`` is the chance that a fact also has a local passage; the rest are
    reachable through web search only.
    """
    if n_questions_per_hop < 1:
        raise ValueError(f"n_questions_per_hop must be >= 1, got {n_questions_per_hop}")
    if not 0.0 <= local_coverage <= 1.0:
        raise ValueError(f"local_coverage must be in [0, 1], got {local_coverage}")
    with _LOCK:
        return _cached(int(seed), int(n_questions_per_hop), float(local_coverage))


def built_worlds() -> tuple[World, ...]:
    """Worlds built so far in this process (question lookup searches all of them)."""
    return tuple(_BUILT.values())
