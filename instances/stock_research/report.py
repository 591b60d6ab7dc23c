"""Reading a stock report's facts back from free text.

The judge and the simulated writer read reports and analysts' notes the same way: the *last
close* is the first price after a "last close" / "closed at" / "close" cue (dates,
percentages and "5-day" counts skipped); the *5-day change* is the percentage nearest to a
"5-day" / "five trading days" / "past week" cue in the same sentence, its sign explicit or
read from a direction word ("fell", "down", "rose", ...) in that sentence, positive
otherwise; a *headline* counts as named when its words appear in the text (in order, or
at least 80% of its distinctive words). ``format_report`` writes the layout the simulated
writer uses; real models may write any prose these readers understand.

Framework-free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["StatedFacts", "read_facts", "stated_close", "stated_change", "stated_headline", "headline_named",
           "format_report"]


@dataclass(frozen=True)
class StatedFacts:
    """What a text states about a stock (None: not stated)."""

    close: float | None
    change_pct: float | None
    headline: str | None
    """A headline the text quotes after a "headline" cue (for reading notes; the judge
    checks naming with ``headline_named`` instead)."""


_CLOSE_CUES = (
    re.compile(r"\b(?:last|latest|most recent|final|current|previous)\s+(?:closing\s+price|close|closing|price|trade)\b",
               re.I),
    re.compile(r"\bclosed\b", re.I),
    re.compile(r"\bclos(?:e|ing(?:\s+price)?)\b", re.I),
)
_TOKEN = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<pct>\s*%)?(?P<day>\s*-?\s*(?:day|session|trading)s?\b)?",
    re.I,
)


def _number(s: str) -> float:
    return float(s.replace(",", ""))


def stated_close(text: str) -> float | None:
    """The last close ``text`` states, or None."""
    text = text or ""
    for cue in _CLOSE_CUES:
        for m in cue.finditer(text):
            window = text[m.end(): m.end() + 80].split("\n", 1)[0]
            for t in _TOKEN.finditer(window):
                if t.group("num") is None or t.group("pct") or t.group("day"):
                    continue
                return _number(t.group("num"))
    return None


_CHANGE_CUE = re.compile(
    r"\b(?:5|five)[\s-]*(?:trading[\s-]*)?(?:day|session)s?\b|\bpast week\b|\bover the week\b|\bweek(?:ly)?\s+change\b",
    re.I,
)
_PCT = re.compile(r"(?P<sign>[-+−–])?\s*(?P<num>\d+(?:\.\d+)?)\s*%")
_NEGATIVE = re.compile(
    r"\b(?:down|fell|fall|falls|fallen|lost|loses|lose|declined?|declines|declining|dropped|drops?|lower|slid|slipped|"
    r"negative|decreased?|decreases|minus|loss)\b", re.I)
_POSITIVE = re.compile(
    r"\b(?:up|rose|rise|rises|risen|gained|gains?|climbed|climbs?|higher|advanced?|advances|positive|increased?|"
    r"increases|plus|rallied|rally)\b", re.I)
_SENTENCE = re.compile(r"[^\n]+?(?:(?<=[.!?;])(?=\s)|$)", re.M)


def stated_change(text: str) -> float | None:
    """The signed 5-day change in percent ``text`` states, or None."""
    for s in _SENTENCE.finditer(text or ""):
        sentence = s.group(0)
        cues = [c.start() for c in _CHANGE_CUE.finditer(sentence)]
        if not cues:
            continue
        pcts = list(_PCT.finditer(sentence))
        if not pcts:
            continue
        p = min(pcts, key=lambda p: min(abs(p.start() - c) for c in cues))
        value = float(p.group("num"))
        if p.group("sign"):
            return -value if p.group("sign") != "+" else value
        words = [(w.start(), -1) for w in _NEGATIVE.finditer(sentence)] + [(w.start(), 1) for w in _POSITIVE.finditer(sentence)]
        if words:
            return value * min(words, key=lambda w: abs(w[0] - p.start()))[1]
        return value
    return None


_QUOTED_HEADLINE = re.compile(r"headline[^\"“\n]{0,60}[\"“](?P<h>[^\"”\n]{5,240})[\"”]", re.I)
_PLAIN_HEADLINE = re.compile(r"headline\b[^:\n]{0,40}:\s*(?P<h>[^\n(]{5,240})", re.I)


def stated_headline(text: str) -> str | None:
    """The headline ``text`` quotes (or gives after ``headline:``), or None."""
    m = _QUOTED_HEADLINE.search(text or "") or _PLAIN_HEADLINE.search(text or "")
    return m.group("h").strip().rstrip(".") if m else None


def read_facts(text: str) -> StatedFacts:
    """Every fact ``text`` states."""
    return StatedFacts(stated_close(text), stated_change(text), stated_headline(text))


_STOP = frozenset({"the", "a", "an", "of", "on", "in", "to", "for", "and", "with", "as", "at", "by", "over", "after",
                   "its", "from"})


def _norm(s: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$]+", (s or "").lower().replace("’", "'")))


def headline_named(text: str, headline: str, company: str | None = None) -> bool:
    """Whether ``text`` names ``headline``: word for word (case and punctuation aside), or
    at least 80% of its distinctive words (not stop words, not the company's name; at least
    three of them)."""
    if not headline or not text:
        return False
    if _norm(headline) in _norm(text):
        return True
    skip = _STOP | set(_norm(company or "").split())
    words = {w for w in _norm(headline).split() if w not in skip}
    if len(words) < 3:
        return False
    seen = set(_norm(text).split())
    return len(words & seen) / len(words) >= 0.8


def format_report(ticker: str, company: str | None, close: float | None, as_of: str | None,
                  change_pct: float | None, headline: str | None, headline_date: str | None,
                  notes: tuple[str, ...] = ()) -> str:
    """A report in the simulated writer's layout; a fact given as None is left out."""
    title = f"Stock report: {ticker}" + (f" ({company})" if company else "")
    lines = [title]
    if close is not None:
        lines.append(f"- Last close: ${close:,.2f}" + (f" on {as_of}" if as_of else ""))
    if change_pct is not None:
        lines.append(f"- 5-day change: {change_pct:+.2f}%")
    if headline:
        lines.append(f"- Latest headline: \"{headline}\"" + (f" ({headline_date})" if headline_date else ""))
    lines.extend(notes)
    return "\n".join(lines)
