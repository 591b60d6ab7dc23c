"""Pure-Python BM25 search over the world's local corpus and its offline "web" pool.

Indexes are built once per process and world (a few milliseconds) and kept; a query
touches only the posting lists of its own terms, so a search costs well under a
millisecond on the bundled world. Ties are broken by passage order, so results are
deterministic.

Passages registered from a user task file (``context`` field) join the local corpus of
the default world: that is how a user dataset brings its own evidence.
"""

from __future__ import annotations

import heapq
import math
import re
import threading
from collections import Counter

from .world import DEFAULT_QUESTIONS_PER_HOP, DEFAULT_SEED, Passage, World, build_world

__all__ = [
    "STOPWORDS",
    "tokenize",
    "BM25Index",
    "index_for",
    "retrieve",
    "web_search",
    "add_user_passages",
    "user_passages",
]

STOPWORDS = frozenset(
    """a an and are as at be by did do does for from has have he her his in is it its of on or
    she that the their there these this those to was were what when where which who whom whose
    why with how into than then they them about after before also been being can could would
    should will""".split()
)
"""Words dropped from queries and passages before scoring."""

_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ing", "ed", "er", "es", "s")


def _stem(w: str) -> str:
    # A crude suffix stripper (at most two suffixes): enough to match "founded",
    # "founder" and "founders", or "headquartered" and "headquarters", without a library.
    for _ in range(2):
        if len(w) <= 4:
            break
        for suf in _SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                w = w[: -len(suf)]
                break
        else:
            break
    return w


def tokenize(text: str) -> list[str]:
    """Lowercased, stemmed word tokens without stopwords."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


class BM25Index:
    """Okapi BM25 over a fixed list of passages (inverted index, precomputed norms)."""

    def __init__(self, passages: list[Passage] | tuple[Passage, ...], k1: float = 1.5, b: float = 0.75) -> None:
        self.passages = tuple(passages)
        self.k1 = k1
        postings: dict[str, list[tuple[int, int]]] = {}
        lengths = []
        for i, p in enumerate(self.passages):
            toks = tokenize(p.text)
            lengths.append(len(toks))
            for term, tf in Counter(toks).items():
                postings.setdefault(term, []).append((i, tf))
        n = len(self.passages)
        avg = (sum(lengths) / n) if n else 1.0
        # Per-document length normaliser and per-term idf are fixed: compute them once.
        self._norm = [k1 * (1 - b + b * ln / avg) for ln in lengths]
        self._idf = {t: math.log(1 + (n - len(ps) + 0.5) / (len(ps) + 0.5)) for t, ps in postings.items()}
        self._postings = postings

    def __len__(self) -> int:
        return len(self.passages)

    def scores(self, query: str) -> dict[int, float]:
        """BM25 score of every passage sharing a term with ``query`` (by passage index)."""
        acc: dict[int, float] = {}
        k1p = self.k1 + 1
        norm = self._norm
        for term in set(tokenize(query)):
            plist = self._postings.get(term)
            if not plist:
                continue
            idf = self._idf[term]
            for i, tf in plist:
                acc[i] = acc.get(i, 0.0) + idf * tf * k1p / (tf + norm[i])
        return acc

    def search(self, query: str, k: int) -> list[tuple[Passage, float]]:
        """Top ``k`` passages with their scores, best first (ties: earlier passage first)."""
        if k <= 0:
            return []
        acc = self.scores(query)
        top = heapq.nlargest(k, acc.items(), key=lambda kv: (kv[1], -kv[0]))
        return [(self.passages[i], s) for i, s in top]


_USER_PASSAGES: list[Passage] = []
_INDEXES: dict[tuple[object, ...], BM25Index] = {}
_LOCK = threading.RLock()  # policies may search from several server threads at once


def add_user_passages(passages: list[Passage]) -> None:
    """Add user-supplied passages to the default world's local corpus (skips known ids)."""
    with _LOCK:
        known = {p.pid for p in _USER_PASSAGES}
        new = [p for p in passages if p.pid not in known]
        if new:
            _USER_PASSAGES.extend(new)
            # The local index of the default world includes user passages: rebuild it lazily.
            for key in [k for k in _INDEXES if k[-1] == "local"]:
                del _INDEXES[key]


def user_passages() -> tuple[Passage, ...]:
    """User passages registered so far in this process."""
    return tuple(_USER_PASSAGES)


def _default_world() -> World:
    return build_world(DEFAULT_SEED, DEFAULT_QUESTIONS_PER_HOP)


def index_for(world: World | None = None, pool: str = "local") -> BM25Index:
    """The (cached) BM25 index of one pool of ``world`` (default: the bundled world)."""
    if pool not in ("local", "web"):
        raise ValueError(f"pool must be 'local' or 'web', got {pool!r}")
    w = world or _default_world()
    key = (*w.key, pool)
    idx = _INDEXES.get(key)
    if idx is None:
        with _LOCK:
            idx = _INDEXES.get(key)
            if idx is None:
                docs = list(w.pool(pool))
                if pool == "local" and w.key == _default_world().key:
                    docs += _USER_PASSAGES
                idx = _INDEXES[key] = BM25Index(docs)
    return idx


def retrieve(query: str, k: int = 4, *, world: World | None = None) -> list[Passage]:
    """Top ``k`` passages of the local corpus for ``query``."""
    return [p for p, _ in index_for(world, "local").search(query, k)]


def web_search(query: str, k: int = 3, *, world: World | None = None) -> list[Passage]:
    """Top ``k`` passages of the offline web pool for ``query``."""
    return [p for p, _ in index_for(world, "web").search(query, k)]
