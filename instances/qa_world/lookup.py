"""Question lookup: which known question a prompt is about.

A policy only sees prompt text. These helpers map a question's text back to what the
world knows about it: its gold answer and, for world questions, its path of entities. Sim
policies pass what they find to the knowledge model (``knowledge``), the one place that
consults that truth, and never read the gold themselves. Lookup is by normalised
question text over every world built in this process (the bundled one is built on first
use) and over tasks loaded from user JSONL files in this process.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scoring import normalize_answer
from .world import DEFAULT_QUESTIONS_PER_HOP, DEFAULT_SEED, Question, World, build_world, built_worlds

__all__ = [
    "KnownQuestion",
    "register_user_question",
    "lookup_question",
    "find_question",
]


@dataclass(frozen=True)
class KnownQuestion:
    """What the lookup knows about one question."""

    text: str
    """The question as registered."""
    gold: str | None
    """Gold answer (None when the source had none)."""
    aliases: tuple[str, ...] = ()
    """Other accepted answers (user files only)."""
    question: Question | None = None
    """The world question, with its entity path and supports (None for user tasks)."""
    world: World | None = None
    """The world the question belongs to (None for user tasks)."""

    def golds(self) -> tuple[str, ...]:
        """Gold and aliases."""
        return ((self.gold,) if self.gold is not None else ()) + self.aliases


_USER: dict[str, KnownQuestion] = {}
_WORLD_INDEX: dict[tuple[int, int, float, float], dict[str, KnownQuestion]] = {}


def register_user_question(text: str, gold: str | None, aliases: tuple[str, ...] = ()) -> None:
    """Make a user task's question known to ``lookup_question`` in this process."""
    _USER[normalize_answer(text)] = KnownQuestion(text=text, gold=gold, aliases=tuple(aliases))


def _world_indexes() -> list[dict[str, KnownQuestion]]:
    build_world(DEFAULT_SEED, DEFAULT_QUESTIONS_PER_HOP)  # cached; makes the bundled world known
    out = []
    for w in built_worlds():
        idx = _WORLD_INDEX.get(w.key)
        if idx is None:
            idx = _WORLD_INDEX[w.key] = {
                normalize_answer(q.text): KnownQuestion(q.text, q.answer, (), q, w) for q in w.questions
            }
        out.append(idx)
    return out


def lookup_question(text: str) -> KnownQuestion | None:
    """The known question whose normalised text equals normalised ``text``, or None.

    User tasks take precedence over world questions with the same text.
    """
    key = normalize_answer(text)
    if not key:
        return None
    if key in _USER:
        return _USER[key]
    for idx in _world_indexes():
        if key in idx:
            return idx[key]
    return None


def find_question(text: str) -> KnownQuestion | None:
    """Like ``lookup_question``, but also finds a known question quoted inside ``text``.

    Useful for prompts that embed the question in a longer message; the longest contained
    question wins, so a question that is a prefix of another cannot shadow it.
    """
    hit = lookup_question(text)
    if hit is not None:
        return hit
    norm = f" {normalize_answer(text)} "
    best: KnownQuestion | None = None
    best_len = 0
    for idx in [_USER, *_world_indexes()]:
        for key, kq in idx.items():
            if len(key) > best_len and f" {key} " in norm:
                best, best_len = kq, len(key)
    return best
