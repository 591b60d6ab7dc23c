"""Stock Research's offline market: a seeded generator, the bundled data set and the facts a
report is judged against.

Everything here is fictional: six made-up companies with made-up tickers, 30 trading days
of daily closes and volumes (a seeded random walk, two decimals) and five news headlines
each, written from templates. ``generate_market(seed)`` builds the data set;
``market.json`` next to this module is ``generate_market(DEFAULT_SEED)``, checked in so
that runs read a fixed file (``python -c "from maestro.instances.stock_research.market import main; main()"``
writes it again; a test checks the two agree).

Conventions the tools and the judge share: a ticker's *last close* is the close of its last
trading day (``as_of``); its *5-day change* is ``close[-1] / close[-6] - 1`` in percent (the
change over the last five trading days); its *latest headline* is the one with the latest
date (dates are unique per ticker). The generator keeps every 5-day change at least
``MIN_CHANGE_PCT`` away from zero, alternating in sign between tickers, so the sign a report
states is never a matter of rounding.

Framework-free (the tools, the tasks, the judge and the tests read it).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_SEED",
    "DATA_FILE",
    "TRADING_DAYS",
    "WINDOW",
    "MIN_CHANGE_PCT",
    "COMPANIES",
    "generate_market",
    "load_market",
    "tickers",
    "normalise_ticker",
    "company",
    "closes",
    "news",
    "facts",
    "change_pct",
    "dump_market",
]

DEFAULT_SEED = 2025
"""Seed of the bundled ``market.json``."""
DATA_FILE = "market.json"
"""File name of the bundled data set (package data)."""
TRADING_DAYS = 30
"""Trading days of prices per ticker."""
WINDOW = 5
"""Trading days the "5-day change" spans."""
MIN_CHANGE_PCT = 1.0
"""Smallest absolute 5-day change the generator lets through, in percent."""
_START = dt.date(2025, 3, 3)  # a Monday
_NEWS_PER_TICKER = 5

COMPANIES: tuple[tuple[str, str, str, float, float], ...] = (
    ("AQRX", "Aquarex Biosystems", "Biotechnology", 42.0, 0.028),
    ("BLNQ", "Blanquette Foods", "Consumer staples", 67.5, 0.012),
    ("CYVO", "Cyvora Robotics", "Industrial automation", 118.0, 0.022),
    ("DRMZ", "Dormaze Home Goods", "Retail", 23.4, 0.018),
    ("EXLW", "Exelway Logistics", "Transport", 88.2, 0.015),
    ("FNQT", "Fenquist Energy", "Utilities", 151.0, 0.010),
)
"""(ticker, company, sector, first close, daily volatility): all invented."""

_HEADLINES = (
    "{company} wins {amount} contract with {partner}",
    "{company} shares slip after {issue}",
    "{company} names {person} as chief financial officer",
    "{company} raises full-year outlook on {driver}",
    "{company} opens new facility in {city}",
    "Analysts at {bank} upgrade {company} to buy",
    "{company} recalls {product} batch over {issue}",
    "{company} agrees to acquire {target} for {amount}",
    "{company} cuts prices on {product} to win back customers",
    "{company} settles dispute with {partner} over {issue}",
)
_FILL = {
    "amount": ("$40 million", "$125 million", "$18 million", "$2.1 billion", "$310 million"),
    "partner": ("Norland Rail", "the city of Varsk", "Helmgate Hospitals", "Oberin Grocers", "Tessaly Ports"),
    "issue": ("a supplier delay", "a software outage", "weak quarterly orders", "a labelling error", "a patent claim"),
    "person": ("Mira Castellane", "Jonas Weyland", "Priya Okonedo", "Tomas Hallberg", "Ada Renwick"),
    "driver": ("strong export demand", "lower input costs", "a rebound in orders", "new service contracts"),
    "city": ("Port Aurel", "Linsgard", "New Calder", "Brightmoor", "Esselby"),
    "bank": ("Halden & Co", "Marrow Street Securities", "Kestrel Capital", "Ivel Partners"),
    "product": ("its flagship", "its entry-level", "its premium", "its seasonal"),
    "target": ("Quillon Labs", "Sarrow Devices", "Pellam Freight", "Orrin Analytics"),
}
_SOURCES = ("Ledger Wire", "Harbor Street Journal", "Market Dispatch", "The Fictional Times")


def _trading_days(n: int) -> list[str]:
    days: list[str] = []
    d = _START
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d.isoformat())
        d += dt.timedelta(days=1)
    return days


def change_pct(series: list[float]) -> float:
    """The 5-day change of a close series, in percent, two decimals."""
    return round((series[-1] / series[-1 - WINDOW] - 1.0) * 100.0, 2)


def _walk(rng: random.Random, first: float, vol: float, n: int) -> list[float]:
    out = [round(first, 2)]
    while len(out) < n:
        out.append(round(max(1.0, out[-1] * (1.0 + rng.gauss(0.0005, vol))), 2))
    return out


def _prices(seed: int, index: int, first: float, vol: float, days: list[str]) -> list[dict[str, Any]]:
    """A close series whose 5-day change is at least ``MIN_CHANGE_PCT`` from zero, positive
    for even ``index`` and negative for odd (redrawn with the next sub-seed until it is)."""
    want = 1 if index % 2 == 0 else -1
    for attempt in range(10_000):
        rng = random.Random(f"{seed}:prices:{index}:{attempt}")
        series = _walk(rng, first, vol, len(days))
        c = change_pct(series)
        if abs(c) >= MIN_CHANGE_PCT and (c > 0) == (want > 0):
            volumes = [int(rng.uniform(0.4, 2.5) * 1_000_000) // 100 * 100 for _ in days]
            return [{"date": d, "close": p, "volume": v} for d, p, v in zip(days, series, volumes, strict=True)]
    raise RuntimeError("no price series met the 5-day change constraint")  # pragma: no cover


def _news(seed: int, index: int, name: str, days: list[str]) -> list[dict[str, str]]:
    """Five headlines on distinct trading days, newest first (the last two weeks hold the
    newest, so a report's "latest" is recent)."""
    rng = random.Random(f"{seed}:news:{index}")
    dates = sorted(rng.sample(days[-15:], _NEWS_PER_TICKER), reverse=True)
    templates = rng.sample(_HEADLINES, _NEWS_PER_TICKER)
    items = []
    for date, template in zip(dates, templates, strict=True):
        fill = {k: rng.choice(v) for k, v in sorted(_FILL.items())}
        items.append({"date": date, "headline": template.format(company=name, **fill), "source": rng.choice(_SOURCES)})
    return items


def generate_market(seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The whole data set for ``seed``: JSON-ready, deterministic."""
    days = _trading_days(TRADING_DAYS)
    out: dict[str, Any] = {
        "about": "Fictional market data generated by maestro's stock_research instance: invented companies, "
                 "tickers, prices and headlines; not financial information.",
        "seed": seed,
        "currency": "USD",
        "tickers": {},
    }
    for i, (ticker, name, sector, first, vol) in enumerate(COMPANIES):
        out["tickers"][ticker] = {
            "company": name,
            "sector": sector,
            "prices": _prices(seed, i, first, vol, days),
            "news": _news(seed, i, name, days),
        }
    return out


def dump_market(data: dict[str, Any]) -> str:
    """``data`` as the bundled file's text (indented JSON, keys in generation order)."""
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


@lru_cache(maxsize=1)
def load_market() -> dict[str, Any]:
    """The bundled data set (``market.json``)."""
    return json.loads(resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8"))


def tickers() -> list[str]:
    """Tickers of the bundled data set, in file order."""
    return list(load_market()["tickers"])


def normalise_ticker(ticker: str) -> str:
    """``ticker`` upper-cased, without ``$``, spaces or quotes."""
    return str(ticker or "").strip().strip("\"'$ ").upper()


def _entry(ticker: str) -> dict[str, Any]:
    t = normalise_ticker(ticker)
    entry = load_market()["tickers"].get(t)
    if entry is None:
        raise KeyError(t)
    return entry


def company(ticker: str) -> str:
    """The company behind ``ticker`` (KeyError when unknown)."""
    return str(_entry(ticker)["company"])


def closes(ticker: str) -> list[dict[str, Any]]:
    """Every trading day of ``ticker``, oldest first (KeyError when unknown)."""
    return list(_entry(ticker)["prices"])


def news(ticker: str) -> list[dict[str, str]]:
    """The headlines of ``ticker``, newest first (KeyError when unknown)."""
    return sorted(_entry(ticker)["news"], key=lambda n: n["date"], reverse=True)


def facts(ticker: str) -> dict[str, Any]:
    """What a correct report on ``ticker`` states: last close (and its date), the close
    five trading days earlier, the 5-day change in percent and the latest headline."""
    t = normalise_ticker(ticker)
    rows = closes(t)
    latest = news(t)[0]
    series = [r["close"] for r in rows]
    return {
        "ticker": t,
        "company": company(t),
        "as_of": rows[-1]["date"],
        "close": series[-1],
        "close_5d_ago": series[-1 - WINDOW],
        "change_pct": change_pct(series),
        "headline": latest["headline"],
        "headline_date": latest["date"],
    }


def main() -> None:  # pragma: no cover - a maintenance command
    """Write ``market.json`` next to this module from ``generate_market(DEFAULT_SEED)``."""
    path = Path(__file__).with_name(DATA_FILE)
    path.write_text(dump_market(generate_market(DEFAULT_SEED)), encoding="utf-8")
    print(f"wrote {path}")

