"""Travel Planning's task set and judge.

Tasks are travel requests written for maestro (not from any dataset): each names a
destination and a number of days in the layout ``<N>-day trip to <Destination>``. The
gold of a task is ``"<N> days in <Destination>"``; ``meta`` holds ``days`` and
``destination``.

Judge (``judge``): the final itinerary is *correct* when it names the destination
(case-insensitive) and has a day section for every day 1..N (a line starting ``Day <n>``)
and none beyond N; otherwise *wrong*, with the reason naming what is missing or extra
(no itinerary at all is wrong too). A task whose request cannot be parsed is judged
*unknown*.
"""

from __future__ import annotations

from maestro.contract import JudgeResult, Task
from maestro.instances._common import seeded_sample, tasks_from_jsonl

from .prompts import day_numbers, format_request, parse_request

__all__ = ["BUNDLED_REQUESTS", "load_tasks", "judge", "task_from_request"]

BUNDLED_REQUESTS: tuple[tuple[str, int, str, str], ...] = (
    ("tp-01", 3, "Lisbon", "I like seafood and old trams, and I travel in spring."),
    ("tp-02", 2, "Kyoto", "We are a couple interested in temples and tea."),
    ("tp-03", 4, "Nepal", "I want some light hiking and one rest day."),
    ("tp-04", 1, "Marrakesh", "A single day between two flights; I enjoy markets."),
    ("tp-05", 5, "Iceland", "Travelling by rental car in late summer, keen on waterfalls."),
    ("tp-06", 3, "Mexico City", "Museums, street food and a day trip if possible."),
    ("tp-07", 2, "Tallinn", "A winter weekend with a child of eight."),
    ("tp-08", 4, "Buenos Aires", "Tango, steak and a football match."),
)
"""(task id, days, destination, traveller's extra wishes)."""


def task_from_request(task_id: str, question: str, days: int | None = None, destination: str | None = None) -> Task:
    """A task for ``question``; days and destination are parsed from it when not given."""
    if days is None or destination is None:
        parsed = parse_request(question)
        if parsed is None:
            raise ValueError(
                f"travel_planning task {task_id!r}: the request must contain '<N>-day trip to <Destination>' "
                "(or give 'days' and 'destination')"  # not the text itself: it may hold secrets
            )
        days = days if days is not None else parsed[0]
        destination = destination or parsed[1]
    return Task(task_id=task_id, question=question, gold=f"{days} days in {destination}",
                meta={"days": int(days), "destination": str(destination)})


def _bundled() -> list[Task]:
    return [task_from_request(tid, format_request(days, dest, extra), days, dest)
            for tid, days, dest, extra in BUNDLED_REQUESTS]


def _from_jsonl(path: str) -> list[Task]:
    return tasks_from_jsonl(path, "travel_planning", "id, question, optional days, destination",
                            lambda task_id, row: task_from_request(task_id, str(row["question"]), row.get("days"), row.get("destination")))


def load_tasks(*, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
    """The bundled requests, or ``source`` (JSONL: ``id``, ``question``, optional ``days``,
    ``destination``); a seeded sample of ``n`` when given (in the set's order)."""
    return seeded_sample(_from_jsonl(source) if source else _bundled(), n, seed)


def judge(task: Task, answer: str | None) -> JudgeResult:
    """Does the itinerary cover the requested destination and exactly days 1..N?"""
    days, dest = task.meta.get("days"), task.meta.get("destination")
    if not days or not dest:
        return JudgeResult("unknown", "task has no days/destination to check")
    text = answer or ""
    if not text.strip():
        return JudgeResult("wrong", "no itinerary")
    problems = []
    if dest.lower() not in text.lower():
        problems.append(f"destination {dest!r} not named")
    found = set(day_numbers(text))
    missing = [d for d in range(1, int(days) + 1) if d not in found]
    extra = sorted(d for d in found if d > int(days) or d < 1)
    if missing:
        problems.append("missing day " + ", ".join(map(str, missing)))
    if extra:
        problems.append("extra day " + ", ".join(map(str, extra)))
    if problems:
        return JudgeResult("wrong", "; ".join(problems))
    return JudgeResult("correct", f"{dest} named and days 1-{days} covered")
