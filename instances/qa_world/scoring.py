"""Answer scoring for open-ended QA: SQuAD-style normalisation, exact match, token F1.

``judge`` is deliberately lenient in one way only: a short answer (at most
``SHORT_ANSWER_TOKENS`` normalised tokens) that contains the whole normalised gold answer
as a contiguous token span counts as correct ("Answer: the city of Brashford" for gold
"Brashford"). Long answers must match exactly, so padding an answer with every candidate
entity does not pay.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Any

from maestro.contract import JudgeResult, Task

__all__ = [
    "SHORT_ANSWER_TOKENS",
    "normalize_answer",
    "normalized_tokens",
    "exact_match",
    "token_f1",
    "contains_span",
    "judge",
]

SHORT_ANSWER_TOKENS = 12
"""Longest answer (in normalised tokens) for which a contained gold span counts as correct."""

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: " " for c in string.punctuation})


def normalize_answer(text: str | None) -> str:
    """Lowercase, drop punctuation and articles, collapse whitespace (SQuAD's normalisation).

    Punctuation becomes a space rather than vanishing so "Brashford." and "Brashford,"
    normalise alike and hyphenated words split into tokens.
    """
    if not text:
        return ""
    t = text.lower().translate(_PUNCT)
    t = _ARTICLES.sub(" ", t)
    return " ".join(t.split())


def normalized_tokens(text: str | None) -> list[str]:
    """Tokens of ``normalize_answer(text)``."""
    return normalize_answer(text).split()


def exact_match(pred: str | None, gold: str | None) -> float:
    """1.0 when the normalised strings are equal, else 0.0."""
    return 1.0 if normalize_answer(pred) == normalize_answer(gold) else 0.0


def token_f1(pred: str | None, gold: str | None) -> float:
    """Harmonic mean of token precision and recall over normalised tokens (bag of words).

    Two empty strings score 1.0; one empty string scores 0.0.
    """
    p, g = normalized_tokens(pred), normalized_tokens(gold)
    if not p or not g:
        return 1.0 if p == g else 0.0
    common = Counter(p) & Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def contains_span(text: str | None, needle: str | None) -> bool:
    """True when normalised ``needle`` occurs in normalised ``text`` as whole tokens."""
    n, t = normalized_tokens(needle), normalized_tokens(text)
    if not n or len(n) > len(t):
        return False
    # Padding with spaces turns whole-token matching into a substring test.
    return f" {' '.join(n)} " in f" {' '.join(t)} "


def _golds(task: Task) -> list[str]:
    aliases: Any = task.meta.get("aliases") if task.meta else None
    golds = [task.gold] if task.gold is not None else []
    if isinstance(aliases, (list, tuple)):
        golds += [a for a in aliases if isinstance(a, str) and a not in golds]
    return golds


def judge(task: Task, answer: str | None) -> JudgeResult:
    """Correct on exact match, or when a short answer contains the gold as a token span.

    ``unknown`` when the task has no gold. Aliases in ``task.meta["aliases"]`` count as gold
    too; the best-scoring one is reported.
    """
    golds = _golds(task)
    if not golds:
        return JudgeResult("unknown", "no gold answer")
    pred = answer or ""
    best: tuple[float, float, bool] = (-1.0, -1.0, False)
    for g in golds:
        em, f1 = exact_match(pred, g), token_f1(pred, g)
        span = len(normalized_tokens(pred)) <= SHORT_ANSWER_TOKENS and contains_span(pred, g)
        best = max(best, (em, f1, span), key=lambda x: (x[0] == 1.0 or x[2], x[0], x[1]))
    em, f1, span = best
    reason = f"em={em:.0f} f1={f1:.2f}"
    if not pred.strip():
        return JudgeResult("wrong", reason + " empty answer", em, f1)
    if em == 1.0:
        return JudgeResult("correct", reason, em, f1)
    if span:
        return JudgeResult("correct", reason + " gold-span", em, f1)
    return JudgeResult("wrong", reason, em, f1)
