"""The run record: one definition behind every ``runs.parquet`` row.

The study worker, ``trace_run`` and the runner's crash/kill path all describe a finished
run as a :class:`RunRecord`; :meth:`RunRecord.row` is the only place a row is built.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from maestro.backends import PriceTable, price_key
from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunStats
from maestro.contract import JudgeResult
from maestro.semconv import SCHEMA_VERSION, Judgement, RunStatus

__all__ = ["RunRecord", "RunTiming", "exception_reason"]

REASON_MAX_CHARS = 500
"""A run's ``outcome_reason`` is one line of at most this many characters (the traceback
goes to ``error``)."""


def exception_reason(exc: BaseException, where: str = "") -> str:
    """``Type: first line of the message`` (plus `` (where)``), one line, bounded: a remote
    traceback or a multi-line message never floods the run record or a table."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    if len(text) > REASON_MAX_CHARS:
        text = text[: REASON_MAX_CHARS - 3] + "..."
    return f"{text} ({where})" if where else text


@dataclass
class RunTiming:
    """When a run started and how its wall time splits."""

    started_at_ns: int = field(default_factory=time.time_ns)
    """Start of the run (before set-up), span clock."""
    setup_s: float | None = None
    """Building the MAS, wrapping it, resolving the backend: before the root span opens."""
    working_s: float | None = None
    """The MAS's own work: the run root span."""
    total_s: float | None = None
    """Start to record: set-up, work, scoring and teardown."""


@dataclass
class RunRecord:
    """Everything recorded about one finished run."""

    identity: RunIdentity
    """Who the run is (study, run id, instance, backend, tools, repeat, seed, task)."""
    status: str
    """``success``, ``failure``, ``exception``, ``timeout``, ``crashed`` or ``write_failed``."""
    timing: RunTiming = field(default_factory=RunTiming)
    """Start and the set-up / work / total split."""
    model: str | None = None
    """Model name sent on the wire; None when unknown."""
    provider: str | None = None
    """``gen_ai.provider.name`` of the endpoint; None when unknown."""
    response_model: str | None = None
    """Model the provider reported answering."""
    reason: str | None = None
    """Why the run ended as it did."""
    error: str | None = None
    """Traceback tail or runner error."""
    question: str | None = None
    """The task's input as text."""
    target: str | None = None
    """The task's target (gold) answer."""
    task_meta: dict[str, Any] = field(default_factory=dict)
    """Task metadata."""
    answer: str | None = None
    """The MAS's final answer."""
    judge: JudgeResult | None = None
    """The scorer's verdict; None: unjudged."""
    stats: RunStats | None = None
    """Span totals; None when the run's telemetry never reported (crash, kill)."""
    cost_usd: float | None = None
    """Priced tokens; None when the model has no price."""
    attempt: int = 1
    """How many times the runner started this run."""
    worker_pid: int | None = None
    """The run process."""

    def account_for(self, stats: RunStats) -> RunRecord:
        """Take the run's span totals; a run whose files could not be written becomes
        ``write_failed`` whatever it did, with the write error and its former status in the
        reason (its spans are lost: they count as dropped)."""
        self.stats = stats
        if stats.write_error:
            self.reason = f"the run's files could not be written ({stats.write_error}); the run itself: " \
                          f"{self.status}{f' ({self.reason})' if self.reason else ''}"
            self.status = RunStatus.WRITE_FAILED.value
        return self

    def price(self, prices: PriceTable) -> RunRecord:
        """Set ``cost_usd`` from ``prices``: the backend's price, else the price of the
        model the spans name (``openai/<model>``, ``sim/<profile>``...), else None."""
        if self.stats is None:
            return self
        for key in (self.identity.backend, price_key(self.provider, self.model)):
            if key:
                cost = prices.cost(key, self.stats.input_tokens, self.stats.output_tokens)
                if cost is not None:
                    self.cost_usd = cost
                    return self
        return self

    def row(self, redact: Callable[[str | None], str | None] = lambda s: s, store_answers: bool = True) -> dict[str, Any]:
        """The runs.parquet row. Free text goes through ``redact``; question and answer are
        kept only when ``store_answers`` (a private task set's questions may be sensitive)."""
        judge = self.judge
        judgement = judge.judgement if judge else Judgement.UNJUDGED.value
        if judgement not in (Judgement.CORRECT.value, Judgement.WRONG.value):
            judgement = Judgement.UNJUDGED.value
        score = judge.score if judge and judge.score is not None else \
            {Judgement.CORRECT.value: 1.0, Judgement.WRONG.value: 0.0}.get(judgement)
        t = self.timing
        return {
            "schema_version": SCHEMA_VERSION, **self.identity.columns(), "backend": self.identity.backend or None,
            "model": self.model, "response_model": self.response_model, "provider": self.provider,
            "simulated": self.identity.simulated,
            "task_meta_json": json.dumps(self.task_meta, default=str, sort_keys=True),
            "status": self.status, "outcome": "success" if self.status == RunStatus.SUCCESS else "failure",
            "outcome_reason": redact(self.reason),
            "judgement": judgement, "judgement_reason": redact(judge.reason) if judge else None, "score": score,
            "exact_match": judge.exact_match if judge else None, "f1": judge.f1 if judge else None,
            "question": redact(self.question) if store_answers else None,
            "answer": redact(self.answer) if store_answers else None, "gold": self.target,
            "started_at_ns": t.started_at_ns, "duration_s": t.working_s, "setup_s": t.setup_s,
            "working_s": t.working_s, "total_s": t.total_s,
            "cost_usd": self.cost_usd,
            **(self.stats.run_columns() if self.stats else {"clean": False}),
            "attempt": self.attempt, "worker_pid": self.worker_pid, "error": redact(self.error),
        }
