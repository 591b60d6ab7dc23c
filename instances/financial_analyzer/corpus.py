"""The financial analyzer's offline data: fictional companies (``corpus.json``), the search
corpus built from them and the pages the loopback web server serves.

Framework-free: the MCP servers, the simulated-model policies and the judge all read it.
Every figure is fictional; quarters are calendar 2026 quarters and revenue is in USD millions.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CORPUS_PATH", "Document", "load_corpus", "tickers", "company", "facts", "documents", "pages",
           "page_text", "normalise_ticker"]

CORPUS_PATH = Path(__file__).with_name("corpus.json")
"""The shipped data set."""

LATEST, PREVIOUS, EARLIER = "2026-Q3", "2026-Q2", "2026-Q1"
_ORDINAL = {LATEST: "third", PREVIOUS: "second", EARLIER: "first"}


@dataclass(frozen=True)
class Document:
    """One searchable document: an earnings release, a news item or a quote-page link."""

    doc_id: str
    title: str
    path: str
    """Path of its page on the loopback web server (``/news/...``, ``/quote/...``)."""
    text: str


@functools.lru_cache(maxsize=1)
def load_corpus() -> dict[str, Any]:
    """The parsed ``corpus.json`` (cached)."""
    return json.loads(CORPUS_PATH.read_text(encoding="utf-8"))


def tickers() -> list[str]:
    """The companies' tickers, in file order."""
    return [c["ticker"] for c in load_corpus()["companies"]]


def normalise_ticker(text: str) -> str:
    """``text`` as a ticker (upper case, no ``$`` or spaces)."""
    return text.strip().lstrip("$").upper()


def company(ticker: str) -> dict[str, Any]:
    """The record of ``ticker``; a KeyError names the known tickers."""
    t = normalise_ticker(ticker)
    for c in load_corpus()["companies"]:
        if c["ticker"] == t:
            return c
    raise KeyError(f"financial_analyzer: unknown ticker {ticker!r}; known: {', '.join(tickers())}")


def facts(ticker: str) -> dict[str, Any]:
    """What a correct report on ``ticker`` states: latest quarterly revenue, its growth over
    the previous quarter (percent, 2 decimals) and the current share price."""
    c = company(ticker)
    rev = c["revenue_musd"]
    growth = round((rev[LATEST] - rev[PREVIOUS]) / rev[PREVIOUS] * 100, 2)
    return {"ticker": c["ticker"], "company": c["name"], "quarter": LATEST, "revenue_musd": rev[LATEST],
            "previous_revenue_musd": rev[PREVIOUS], "growth_pct": growth, "price": c["price"],
            "as_of": load_corpus()["as_of"]}


def _release(c: dict[str, Any], quarter: str, before: str) -> Document:
    rev, ni = c["revenue_musd"], c["net_income_musd"]
    q = quarter.split("-")[1].lower()
    text = (f"{c['name']} ({c['ticker']}) reported revenue of ${rev[quarter]:.1f} million for the "
            f"{_ORDINAL[quarter]} quarter of 2026, compared with ${rev[before]:.1f} million in the "
            f"{_ORDINAL[before]} quarter.")
    if quarter in ni:
        text += f" Net income was ${ni[quarter]:.1f} million."
    return Document(f"{c['ticker']}-{q}", f"{c['name']} reports {_ORDINAL[quarter]}-quarter 2026 results",
                    f"/news/{c['ticker'].lower()}-{q}", text)


@functools.lru_cache(maxsize=1)
def documents() -> tuple[Document, ...]:
    """The search corpus: per company its two latest earnings releases, a link to its quote
    page and its news items."""
    corpus = load_corpus()
    docs: list[Document] = []
    for c in corpus["companies"]:
        t = c["ticker"]
        docs.append(_release(c, LATEST, PREVIOUS))
        docs.append(_release(c, PREVIOUS, EARLIER))
        docs.append(Document(f"{t}-quote", f"{c['name']} ({t}) share price quote", f"/quote/{t}",
                             f"Quote page of {c['name']} ({t}) on the {corpus['exchange']}: open it for the "
                             "current share price."))
        for i, item in enumerate(c["news"]):
            docs.append(Document(f"{t}-news-{i + 1}", item, f"/news/{t.lower()}-{i + 1}",
                                 f"{item}, the company said on its investor site ({c['sector']})."))
    return tuple(docs)


def _html(title: str, body: str) -> str:
    return f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"


@functools.lru_cache(maxsize=1)
def pages() -> dict[str, str]:
    """Path -> HTML of every page the loopback web server serves: each document's page, and
    each company's quote page (last price and previous close)."""
    corpus = load_corpus()
    out = {d.path: _html(d.title, f"<p>{d.text}</p>") for d in documents()}
    for c in corpus["companies"]:
        out[f"/quote/{c['ticker']}"] = _html(
            f"{c['name']} ({c['ticker']})",
            f"<p>{corpus['exchange']}, as of {corpus['as_of']}.</p><p>Last price: ${c['price']:.2f}</p>"
            f"<p>Previous close: ${c['previous_close']:.2f}</p>")
    return out


def page_text(html: str) -> str:
    """The visible text of one of our pages (tags dropped, whitespace collapsed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<title>.*?</title>", "", html))).strip()
