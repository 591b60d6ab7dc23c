"""What simulated-model policies of QA architectures need to read a prompt.

Framework-free helpers shared by the policies of CRAG, Plan-and-Execute and LATS (and free
for others): find the question a prompt is about and turn text into a lazy search query.
What a model knows, reads and concludes about a question is the knowledge model's
(:mod:`maestro.instances.qa_world.knowledge`), the one place that consults the world.
"""

from __future__ import annotations

import re

from .lookup import KnownQuestion, find_question, lookup_question
from .retriever import STOPWORDS

__all__ = ["known_question", "content_words", "keyword_query"]


def known_question(text: str) -> KnownQuestion | None:
    """The world (or user) question ``text`` is, or quotes; None when unknown."""
    if not text:
        return None
    return lookup_question(text) or find_question(text)


_WORDS = re.compile(r"[A-Za-z0-9]+")


def content_words(text: str) -> list[str]:
    """The words of ``text`` that are not stopwords, in order."""
    return [w for w in _WORDS.findall(text) if w.lower() not in STOPWORDS]


def keyword_query(text: str) -> str:
    """The content words of ``text`` (a lazy search query)."""
    return " ".join(content_words(text)) or text
