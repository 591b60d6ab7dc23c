"""Stock Research's task set and judge.

Tasks ask for a short report on one ticker of the bundled market (``market.json``): its
last close, its 5-day change and its latest headline. The facts to check come from the data
set (``market.facts``) and travel in ``Task.meta``; the gold text names them.

Judge (``judge``): three checks, each explained in the reason:

* **close**: the report's last close (``report.stated_close``) is within
  ``CLOSE_TOLERANCE`` (0.5%) of the true last close;
* **change**: the report's 5-day change (``report.stated_change``) has the sign of the
  true one (the generator keeps it at least 1% from zero);
* **headline**: the latest headline is named (``report.headline_named``).

*correct* when all three hold, else *wrong*; ``score`` is the share of checks passed. No
report at all is wrong; a task without facts is *unjudged*.
"""

from __future__ import annotations

from typing import Any

from maestro.contract import JudgeResult, Task
from maestro.instances._common import seeded_sample, tasks_from_jsonl

from . import market
from .prompts import format_question, parse_ticker
from .report import headline_named, stated_change, stated_close

__all__ = ["CLOSE_TOLERANCE", "load_tasks", "task_for", "judge", "gold_text"]

CLOSE_TOLERANCE = 0.005
"""Relative tolerance of the stated last close (0.5%: rounding to the dollar passes above
$100, a neighbouring day's close mostly does not)."""


def gold_text(f: dict[str, Any]) -> str:
    """The gold answer of a ticker's facts, as one line."""
    return (f"{f['ticker']}: last close ${f['close']:.2f} on {f['as_of']}; 5-day change {f['change_pct']:+.2f}%; "
            f"latest headline \"{f['headline']}\" ({f['headline_date']})")


def task_for(task_id: str, question: str, ticker: str | None = None) -> Task:
    """A task asking ``question`` about ``ticker`` (parsed from the question when not given),
    with the ticker's facts from the bundled market as gold and ``meta``."""
    t = market.normalise_ticker(ticker) if ticker else parse_ticker(question)
    if not t or t not in market.tickers():
        raise ValueError(f"stock_research task {task_id!r}: "
                         + (f"ticker {t!r} is not in the bundled market" if t else "no ticker in the question")
                         + f"; known tickers: {', '.join(market.tickers())}")
    f = market.facts(t)
    return Task(task_id=task_id, question=question, gold=gold_text(f), meta=dict(f))


def _bundled() -> list[Task]:
    return [task_for(f"sr-{i + 1:02d}", format_question(t, i), t) for i, t in enumerate(market.tickers())]


def _from_jsonl(path: str) -> list[Task]:
    return tasks_from_jsonl(path, "stock_research", "id, question, optional ticker",
                            lambda task_id, row: task_for(task_id, str(row["question"]), row.get("ticker")))


def load_tasks(*, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
    """The bundled questions (one per ticker), or ``source`` (JSONL: ``id``, ``question``,
    optional ``ticker``; the ticker must be one of the bundled market's); a seeded sample of
    ``n`` when given (in the set's order)."""
    return seeded_sample(_from_jsonl(source) if source else _bundled(), n, seed)


def judge(task: Task, answer: str | None) -> JudgeResult:
    """Check the report's last close, 5-day change sign and latest headline against the
    task's facts (see the module docstring)."""
    meta = task.meta
    if not all(k in meta for k in ("close", "change_pct", "headline")):
        return JudgeResult("unjudged", "task has no market facts to check")
    text = answer or ""
    if not text.strip():
        return JudgeResult("wrong", "no report", score=0.0)
    gold_close, gold_change = float(meta["close"]), float(meta["change_pct"])
    checks = []
    close = stated_close(text)
    if close is None:
        checks.append((False, "no last close stated"))
    else:
        ok = abs(close - gold_close) <= CLOSE_TOLERANCE * gold_close
        checks.append((ok, f"close {close:g} {'matches' if ok else 'is not'} {gold_close:g} (within "
                           f"{CLOSE_TOLERANCE:.1%})"))
    change = stated_change(text)
    if change is None:
        checks.append((False, "no 5-day change stated"))
    else:
        ok = (change > 0) == (gold_change > 0) and change != 0
        checks.append((ok, f"5-day change {change:+g}% {'has' if ok else 'lacks'} the sign of {gold_change:+g}%"))
    named = headline_named(text, str(meta["headline"]), meta.get("company"))
    checks.append((named, f"latest headline {'named' if named else 'not named'} ({meta['headline']!r})"))
    passed = sum(ok for ok, _ in checks)
    reason = "; ".join(why for _, why in checks)
    return JudgeResult("correct" if passed == len(checks) else "wrong", reason, score=passed / len(checks))
