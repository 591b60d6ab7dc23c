"""The financial analyzer's task set and judge.

Each task asks for a short report on one company of the offline corpus (``corpus.json``):
its latest quarterly revenue, its quarter-over-quarter revenue growth and its current share
price. The facts come from the data set (``corpus.facts``) and travel in ``Task.meta``; the
gold text names them. Finding them takes the tools: the revenue figures are in the earnings
releases the search server finds, the price on the quote page the fetch server reads.

Judge (``judge``): three checks, each explained in the reason:

* **revenue**: the stated latest quarterly revenue is within ``REVENUE_TOLERANCE`` (0.1%) of
  the true one (the previous quarter's figure is not);
* **growth**: the stated growth is within ``GROWTH_TOLERANCE`` (0.05 percentage points) of
  the true growth (growth over the wrong base is not);
* **price**: the stated share price is within ``PRICE_TOLERANCE`` (0.2%) of the last price
  (the previous close is not).

*correct* when all three hold, else *wrong*; ``score`` is the share of checks passed. No
report at all is wrong; a task without facts is *unjudged*.
"""

from __future__ import annotations

from typing import Any

from maestro.contract import JudgeResult, Task
from maestro.instances._common import seeded_sample, tasks_from_jsonl

from . import corpus
from .prompts import format_question
from .report import read_growth, read_price, read_revenue

__all__ = ["REVENUE_TOLERANCE", "GROWTH_TOLERANCE", "PRICE_TOLERANCE", "load_tasks", "task_for", "judge", "gold_text"]

REVENUE_TOLERANCE = 0.001
GROWTH_TOLERANCE = 0.05
PRICE_TOLERANCE = 0.002


def gold_text(f: dict[str, Any]) -> str:
    """The gold answer of a company's facts, as one line."""
    return (f"{f['company']} ({f['ticker']}): latest quarterly revenue ${f['revenue_musd']:.1f} million "
            f"({f['quarter']}); quarter-over-quarter growth {f['growth_pct']:+.2f}%; share price ${f['price']:.2f}")


def task_for(task_id: str, ticker: str) -> Task:
    """The task on ``ticker`` with its facts as gold and ``meta`` (a ValueError names the known tickers)."""
    try:
        f = corpus.facts(ticker)
    except KeyError as e:
        raise ValueError(str(e).strip("'\"")) from None
    return Task(task_id=task_id, question=format_question(f["company"], f["ticker"]), gold=gold_text(f), meta=f)


def _from_jsonl(path: str) -> list[Task]:
    return tasks_from_jsonl(path, "financial_analyzer", "id, ticker",
                            lambda task_id, row: task_for(task_id, str(row["ticker"])))


def load_tasks(*, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
    """One task per company of the corpus, or ``source`` (JSONL: ``id``, ``ticker``); a seeded
    sample of ``n`` when given (in the set's order)."""
    tasks = _from_jsonl(source) if source else \
        [task_for(f"fa-{i + 1:02d}", t) for i, t in enumerate(corpus.tickers())]
    return seeded_sample(tasks, n, seed)


def _check(label: str, stated: float | None, gold: float, ok: bool, unit: str) -> tuple[bool, str]:
    if stated is None:
        return False, f"no {label} stated"
    return ok, f"{label} {stated:g}{unit} {'matches' if ok else 'is not'} {gold:g}{unit}"


def judge(task: Task, answer: str | None) -> JudgeResult:
    """Check the report's revenue, growth and share price against the task's facts (see the
    module docstring)."""
    meta = task.meta
    if not all(k in meta for k in ("revenue_musd", "growth_pct", "price")):
        return JudgeResult("unjudged", "task has no financial facts to check")
    text = answer or ""
    if not text.strip():
        return JudgeResult("wrong", "no report", score=0.0)
    rev, growth, price = float(meta["revenue_musd"]), float(meta["growth_pct"]), float(meta["price"])
    r, g, p = read_revenue(text), read_growth(text), read_price(text)
    checks = [
        _check("revenue", r, rev, r is not None and abs(r - rev) <= REVENUE_TOLERANCE * rev, "M"),
        _check("growth", g, growth, g is not None and abs(g - growth) <= GROWTH_TOLERANCE, "%"),
        _check("share price", p, price, p is not None and abs(p - price) <= PRICE_TOLERANCE * price, ""),
    ]
    passed = sum(ok for ok, _ in checks)
    return JudgeResult("correct" if passed == len(checks) else "wrong", "; ".join(why for _, why in checks),
                       score=passed / len(checks))
