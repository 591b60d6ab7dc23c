"""The marketing agency's task set: small business briefs written for maestro.

Each task's question is a brief in the labelled layout of ``prompts.format_brief``; the
gold is the list of deliverables the launch kit must contain, and ``meta`` carries the
business name the judge checks the kit is about. A user task file (JSONL) has ``id`` and
either ``question`` (a brief with a ``Business:`` line) or the brief fields ``business``,
``product``, ``audience``, ``location``, ``goal``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from maestro.contract import Task

from .prompts import Brief, format_brief, parse_brief

__all__ = ["BRIEFS", "GOLD", "bundled_tasks", "load_tasks"]

BRIEFS: tuple[tuple[str, Brief], ...] = (
    ("mk-01", Brief("Crumb & Co", "gluten-free pastries and sourdough", "young families and coeliac adults",
                    "Lisbon", "fill the new shop's morning rush within three months")),
    ("mk-02", Brief("Tidewater Kayaks", "guided sea-kayak tours and rentals", "weekend adventurers aged 25-45",
                    "Cornwall", "sell out the summer season")),
    ("mk-03", Brief("Ledgerly", "bookkeeping app for freelancers", "self-employed designers and writers",
                    "online, English-speaking markets", "reach 2,000 paying users in the first year")),
    ("mk-04", Brief("Fernhouse Plants", "rare houseplants by subscription", "urban renters with small flats",
                    "Berlin", "500 subscribers before winter")),
    ("mk-05", Brief("Quietpaw Clinic", "calm, low-stress veterinary care for cats", "cat owners with anxious pets",
                    "Toronto", "book the clinic's first 300 appointments")),
    ("mk-06", Brief("Copperline Coffee", "small-batch roasted beans and a tasting bar", "office workers and home brewers",
                    "Melbourne", "make the tasting bar a neighbourhood habit")),
)
"""(task id, brief): the bundled briefs (our own text; any resemblance is accidental)."""

GOLD = "launch kit with domain options, website outline, marketing strategy and logo"
"""Gold of every task: what the judge requires (see ``judge``)."""


def _task(task_id: str, brief: Brief) -> Task:
    return Task(task_id=task_id, question=format_brief(brief), gold=GOLD,
                meta={"business": brief.business, "location": brief.location})


def bundled_tasks() -> list[Task]:
    """All bundled briefs as tasks, in id order."""
    return [_task(tid, b) for tid, b in BRIEFS]


def _from_row(i: int, row: dict, source: str) -> Task:
    tid = str(row.get("id") or f"user-{i:03d}")
    if row.get("question"):
        brief = parse_brief(str(row["question"]))
        if brief is None:
            raise ValueError(f"{source}: task {tid!r}: question has no 'Business:' line")
        return Task(task_id=tid, question=str(row["question"]), gold=GOLD,
                    meta={"business": brief.business, "location": brief.location})
    if not row.get("business"):
        raise ValueError(f"{source}: task {tid!r} needs 'question' or 'business'")
    brief = Brief(str(row["business"]), str(row.get("product", "")), str(row.get("audience", "")),
                  str(row.get("location", "")), str(row.get("goal", "")))
    return _task(tid, brief)


def load_tasks(source: str | None = None, n: int | None = None, seed: int = 0) -> list[Task]:
    """The bundled briefs, or those of the JSONL file ``source``; ``n`` picks a seeded sample
    (kept in id order)."""
    if source:
        rows = []
        for i, line in enumerate(Path(source).read_text().splitlines()):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{source}:{i + 1}: not JSON ({e.msg} at column {e.colno})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{source}:{i + 1}: not a JSON object")
                try:
                    rows.append(_from_row(i, row, source))
                except ValueError as e:
                    raise ValueError(f"{source}:{i + 1}: {str(e).removeprefix(f'{source}: ')}") from None
        tasks = rows
    else:
        tasks = bundled_tasks()
    if n is not None and n < len(tasks):
        picked = set(random.Random(seed).sample(range(len(tasks)), n))
        tasks = [t for i, t in enumerate(tasks) if i in picked]
    return tasks
