"""The data questions Magentic-One answers: their wording, their parser, their truth and
the number read back from an answer.

A question is one of five templates over one document (``format_question`` writes them,
``parse_question`` reads them back, from a task or from anywhere in a conversation):

* ``What is the total of column <col> in <file>[ for rows where <c> is <v>]?`` (sum)
* ``What is the average of column <col> in <file>[ for rows where <c> is <v>]? Round to two decimals.`` (mean)
* ``What is the largest value of column <col> in <file>[ for rows where <c> is <v>]?`` (max)
* ``How many rows in <file> have <c> equal to <v>?`` (count)
* ``How many lines of <file> contain the word <w>?`` (lines: whole word, case-sensitive)

``compute`` gives the truth from a document's text (the task set calls it on the bundled
files; nothing in the simulated models does). ``answer_number`` reads the number an answer
gives: its last number that is not part of a name (``Q3``, ``db-2``, ``A-100``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from .prompts import TASK_MARKER

__all__ = ["Question", "OPS", "format_question", "parse_question", "find_question", "compute", "answer_number",
           "numbers_match", "format_number", "word_pattern"]

OPS = ("sum", "mean", "max", "count", "lines")


@dataclass(frozen=True)
class Question:
    """One data question."""

    op: str
    """``sum``, ``mean``, ``max``, ``count`` or ``lines``."""
    file: str
    column: str | None = None
    """Column aggregated (sum, mean, max)."""
    where_column: str | None = None
    where_value: str | None = None
    """Row filter ``where_column == where_value`` (exact text), optional except for count."""
    word: str | None = None
    """The word counted (lines)."""


_FILE = r"(?P<file>[\w.-]+\.(?:csv|txt|log))"
_WHERE = r"(?: for rows where (?P<wcol>\w+) is (?P<wval>[^?]+?))?"
_PATTERNS = (
    ("sum", re.compile(rf"What is the total of column (?P<col>\w+) in {_FILE}{_WHERE}\?")),
    ("mean", re.compile(rf"What is the average of column (?P<col>\w+) in {_FILE}{_WHERE}\?")),
    ("max", re.compile(rf"What is the largest value of column (?P<col>\w+) in {_FILE}{_WHERE}\?")),
    ("count", re.compile(rf"How many rows in {_FILE} have (?P<wcol>\w+) equal to (?P<wval>[^?]+?)\?")),
    ("lines", re.compile(rf"How many lines of {_FILE} contain the word (?P<word>[^\s?]+)\?")),
)


def format_question(q: Question) -> str:
    """The question's text, ending with the task marker sentence."""
    where = f" for rows where {q.where_column} is {q.where_value}" if q.where_column else ""
    if q.op == "sum":
        text = f"What is the total of column {q.column} in {q.file}{where}?"
    elif q.op == "mean":
        text = f"What is the average of column {q.column} in {q.file}{where}? Round to two decimals."
    elif q.op == "max":
        text = f"What is the largest value of column {q.column} in {q.file}{where}?"
    elif q.op == "count":
        text = f"How many rows in {q.file} have {q.where_column} equal to {q.where_value}?"
    elif q.op == "lines":
        text = f"How many lines of {q.file} contain the word {q.word}?"
    else:
        raise ValueError(f"unknown question kind {q.op!r}; known: {', '.join(OPS)}")
    return f"{text} {TASK_MARKER}"


def parse_question(text: str) -> Question | None:
    """The first question in ``text`` (any template), or None."""
    best: tuple[int, Question] | None = None
    for op, pattern in _PATTERNS:
        m = pattern.search(text or "")
        if not m:
            continue
        g = m.groupdict()
        q = Question(op=op, file=g["file"], column=g.get("col"), where_column=g.get("wcol"),
                     where_value=(g.get("wval") or "").strip() or None, word=g.get("word"))
        if best is None or m.start() < best[0]:
            best = (m.start(), q)
    return None if best is None else best[1]


def find_question(texts: list[str]) -> Question | None:
    """The first question found in ``texts``, in order."""
    for t in texts:
        q = parse_question(t)
        if q is not None:
            return q
    return None


def word_pattern(word: str) -> str:
    """Regex matching ``word`` as a whole word (what the lines question counts)."""
    return rf"(?<!\w){re.escape(word)}(?!\w)"


def compute(q: Question, text: str) -> float:
    """The true answer of ``q`` over a document's ``text``.

    Raises ValueError when the question does not fit the document (a missing column, a
    non-numeric value, no matching row for an average or maximum)."""
    if q.op == "lines":
        pattern = re.compile(word_pattern(q.word or ""))
        return float(sum(1 for line in text.splitlines() if pattern.search(line)))
    rows = list(csv.DictReader(io.StringIO(text)))
    header = set(rows[0]) if rows else set()
    for col in (q.column, q.where_column):
        if col is not None and col not in header:
            raise ValueError(f"{q.file} has no column {col!r}")
    if q.where_column:
        rows = [r for r in rows if r[q.where_column].strip() == q.where_value]
    if q.op == "count":
        return float(len(rows))
    try:
        values = [float(r[q.column or ""]) for r in rows]
    except ValueError:
        raise ValueError(f"column {q.column!r} of {q.file} is not numeric") from None
    if q.op == "sum":
        return round(sum(values), 2)
    if not values:
        raise ValueError(f"no row of {q.file} matches the question")
    if q.op == "mean":
        return round(sum(values) / len(values), 2)
    return max(values)


_NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:,\d{3})*(?:\.\d+)?(?!\w)")


def answer_number(text: str | None) -> float | None:
    """The last number in ``text`` that stands alone (thousands commas allowed), or None."""
    found = _NUMBER.findall(text or "")
    if not found:
        return None
    return float(found[-1].replace(",", ""))


def numbers_match(value: float, truth: float, abs_tol: float = 0.01, rel_tol: float = 1e-6) -> bool:
    """``value`` equals ``truth`` within ``abs_tol`` or ``rel_tol`` of it."""
    return abs(value - truth) <= max(abs_tol, rel_tol * abs(truth))


def format_number(x: float) -> str:
    """``12`` for an integral value, else up to two decimals (``12.5``, ``12.25``)."""
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")
