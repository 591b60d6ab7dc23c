"""Stock Research's two tools over the bundled offline market (``market.json``).

Plain functions returning JSON text, so AutoGen hands the model exactly what a real market
API would return (``FunctionTool`` turns a ``dict`` into its Python repr, not JSON). Local,
deterministic and instant; an unknown ticker is an ``{"error": ...}`` object, never an
exception (a model can read it and go on).

* ``get_stock_data(ticker)``: the company, the currency and the last ``SESSIONS`` trading
  days (date, close, volume), oldest first. The last close and the 5-day change are left
  for the analyst to read off and compute (``market.facts`` says how).
* ``get_news(ticker)``: the company and its recent headlines (date, headline, source),
  newest first.
"""

from __future__ import annotations

import json

from . import market

__all__ = ["TOOL_NAMES", "SESSIONS", "get_stock_data", "get_news"]

TOOL_NAMES = ("get_stock_data", "get_news")
"""The tools, in the order of the agents that hold them (financial analyst, news analyst)."""
SESSIONS = 10
"""Trading days ``get_stock_data`` returns."""


def _unknown(ticker: str) -> str:
    return json.dumps({"error": f"no market data for ticker {market.normalise_ticker(ticker)!r}"})


def get_stock_data(ticker: str) -> str:
    """Daily market data for a stock ticker: the company, the currency and the last ten trading days (date, closing
    price, volume), oldest first."""
    t = market.normalise_ticker(ticker)
    try:
        rows = market.closes(t)[-SESSIONS:]
        name = market.company(t)
    except KeyError:
        return _unknown(ticker)
    return json.dumps({"ticker": t, "company": name, "currency": market.load_market()["currency"],
                       "sessions": rows})


def get_news(ticker: str) -> str:
    """Recent news headlines about the company behind a stock ticker (date, headline, source), newest first."""
    t = market.normalise_ticker(ticker)
    try:
        items = market.news(t)
        name = market.company(t)
    except KeyError:
        return _unknown(ticker)
    return json.dumps({"ticker": t, "company": name, "articles": items})
