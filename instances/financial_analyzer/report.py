"""How the financial analyzer's agents write their figures, and how they (the simulated ones)
and the judge read them back. Framework-free.

The data collector writes ``Latest quarterly revenue (2026-Q3): $699.0 million``,
``Previous quarter revenue (2026-Q2): $733.1 million`` and ``Current share price: $177.45``;
the analyst ``Quarter-over-quarter revenue growth: -4.65%``; the report writer a report that
opens with ``Financial report: <company> (<ticker>)`` and states the revenue, the growth
and the share price in those phrasings. Readers accept what a model might vary: case,
``'s``, a thousands separator, text between the label and the figure on the same line.
"""

from __future__ import annotations

import re

__all__ = [
    "REPORT_HEADING", "format_data", "format_growth", "format_report", "read_revenue", "read_previous_revenue",
    "read_price", "read_growth", "read_releases", "read_quote", "report_block",
]

REPORT_HEADING = "Financial report:"

_NUM = r"\$\s*(\d[\d,]*(?:\.\d+)?)"
_REVENUE = re.compile(r"latest quarter(?:ly)? revenue[^$\n]*" + _NUM, re.IGNORECASE)
_PREVIOUS = re.compile(r"previous quarter(?:'s)? revenue[^$\n]*" + _NUM, re.IGNORECASE)
_PRICE = re.compile(r"share price[^$\n]*" + _NUM, re.IGNORECASE)
_GROWTH = re.compile(r"revenue growth[^%\n]*?([+-]?\d+(?:\.\d+)?)\s*%", re.IGNORECASE)
_RELEASE = re.compile(r"reported revenue of \$(\d[\d,]*(?:\.\d+)?) million for the (\w+) quarter of (\d{4}), "
                      r"compared with \$(\d[\d,]*(?:\.\d+)?) million in the (\w+) quarter")
_LAST = re.compile(r"Last price: \$(\d[\d,]*(?:\.\d+)?)")
_PREVIOUS_CLOSE = re.compile(r"Previous close: \$(\d[\d,]*(?:\.\d+)?)")
_ORDER = {"first": 1, "second": 2, "third": 3, "fourth": 4}


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _read(pattern: re.Pattern, text: str, last: bool) -> float | None:
    found = pattern.findall(text or "")
    return _number(found[-1] if last else found[0]) if found else None


def read_revenue(text: str, last: bool = False) -> float | None:
    """The latest quarterly revenue ($ millions) stated in ``text`` (its last statement when ``last``)."""
    return _read(_REVENUE, text, last)


def read_previous_revenue(text: str, last: bool = False) -> float | None:
    """The previous quarter's revenue ($ millions) stated in ``text``."""
    return _read(_PREVIOUS, text, last)


def read_price(text: str, last: bool = False) -> float | None:
    """The current share price stated in ``text``."""
    return _read(_PRICE, text, last)


def read_growth(text: str, last: bool = False) -> float | None:
    """The quarter-over-quarter revenue growth (percent) stated in ``text``."""
    return _read(_GROWTH, text, last)


def read_releases(text: str) -> list[tuple[int, float, float]]:
    """Earnings releases quoted in ``text`` (search results), newest first: ``(quarter
    number, that quarter's revenue, the quarter before's revenue)``."""
    out = {(_ORDER.get(m[1], 0) + 10 * int(m[2])): (_ORDER.get(m[1], 0), _number(m[0]), _number(m[3]))
           for m in _RELEASE.findall(text or "")}
    return [out[k] for k in sorted(out, reverse=True)]


def read_quote(text: str) -> tuple[float | None, float | None]:
    """(last price, previous close) of a quote page's text in ``text``."""
    return _read(_LAST, text, True), _read(_PREVIOUS_CLOSE, text, True)


def format_data(name: str, ticker: str, revenue: float | None, previous: float | None, price: float | None,
                quarter: str = "2026-Q3", previous_quarter: str = "2026-Q2") -> str:
    """The data collector's statement; a figure that is None is said to be unavailable."""
    lines = [f"{name} ({ticker}) data:"]
    lines.append(f"Latest quarterly revenue ({quarter}): ${revenue:.1f} million" if revenue is not None
                 else "Latest quarterly revenue: not found")
    lines.append(f"Previous quarter revenue ({previous_quarter}): ${previous:.1f} million" if previous is not None
                 else "Previous quarter revenue: not found")
    lines.append(f"Current share price: ${price:.2f}" if price is not None else "Current share price: not found")
    return "\n".join(lines)


def format_growth(growth: float, revenue: float, previous: float) -> str:
    """The analyst's statement."""
    return (f"Quarter-over-quarter revenue growth: {growth:+.2f}% (revenue ${revenue:.1f} million against "
            f"${previous:.1f} million the quarter before)")


def format_report(name: str, ticker: str, revenue: float | None, growth: float | None, price: float | None) -> str:
    """The report writer's report (a missing figure is said to be unavailable)."""
    return "\n".join([
        f"{REPORT_HEADING} {name} ({ticker})",
        f"Latest quarterly revenue: ${revenue:.1f} million" if revenue is not None
        else "Latest quarterly revenue: not available",
        f"Quarter-over-quarter revenue growth: {growth:+.2f}%" if growth is not None
        else "Quarter-over-quarter revenue growth: not available",
        f"Current share price: ${price:.2f}" if price is not None else "Current share price: not available",
    ])


def report_block(text: str) -> str | None:
    """The last report quoted in ``text``: from its heading to the end of its share-price line
    (or of ``text``); None when there is none."""
    i = (text or "").rfind(REPORT_HEADING)
    if i < 0:
        return None
    block = text[i:]
    m = re.search(r"Current share price:[^\n]*", block)
    return block[:m.end()] if m else block
