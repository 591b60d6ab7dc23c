"""Content creation's task set: article briefs written for maestro, and the planner's notes.

A task's question is a brief in ``prompts.format_brief``'s layout; its gold lists the key
points the article must cover. A user task file (JSONL) has ``id``, ``topic``,
``key_points`` (a list, or one string split at ``;``) and optional ``audience``,
``max_words``.
"""

from __future__ import annotations

from maestro.contract import Task
from maestro.instances._common import seeded_sample, tasks_from_jsonl

from .prompts import Brief, format_brief

__all__ = ["BRIEFS", "NOTES", "load_tasks", "task_for"]

BRIEFS: tuple[tuple[str, Brief], ...] = (
    ("cc-01", Brief("urban beekeeping", "city dwellers with a balcony or roof",
                    ("hive placement", "neighbour relations", "first-year harvest"), 450)),
    ("cc-02", Brief("home composting", "families in terraced houses",
                    ("bin choice", "greens and browns", "common smells"), 400)),
    ("cc-03", Brief("learning a second language after fifty", "retirees",
                    ("daily habit", "listening first", "speaking partners"), 450)),
    ("cc-04", Brief("repairing bicycles at home", "commuters",
                    ("basic tools", "puncture repair", "brake checks", "chain care"), 500)),
    ("cc-05", Brief("saving energy in winter", "renters",
                    ("draught stoppers", "thermostat settings", "curtains at night"), 400)),
    ("cc-06", Brief("starting a community library", "neighbourhood groups",
                    ("finding a spot", "first collection", "lending rules"), 450)),
)
"""(task id, brief): the bundled briefs (our own text)."""

NOTES: dict[str, tuple[str, ...]] = {
    "urban beekeeping": ("a hive needs about two hours of morning sun", "one colony forages within three km"),
    "home composting": ("a bin of 300 litres suits a family of four", "aim for two parts browns to one part greens"),
    "learning a second language after fifty": ("twenty minutes a day beats two hours once a week",
                                               "listening builds the sound system first"),
    "repairing bicycles at home": ("a track pump and tyre levers fix most flats", "brake pads wear at the groove"),
    "saving energy in winter": ("each degree lower saves about ten percent of heating", "draughts cost most at night"),
    "starting a community library": ("a weatherproof box of 60 books is a common start", "swap, do not lend, at first"),
}
"""Planner's notes by topic (what ``lookup_notes`` returns)."""


def task_for(task_id: str, brief: Brief) -> Task:
    """The task of ``brief``."""
    return Task(task_id=task_id, question=format_brief(brief), gold="article covering: " + "; ".join(brief.key_points),
                meta={"topic": brief.topic, "key_points": list(brief.key_points), "max_words": brief.max_words})


def _from_row(task_id: str, row: dict) -> Task:
    points = row["key_points"]
    points = [p.strip() for p in (points.split(";") if isinstance(points, str) else points) if str(p).strip()]
    if not points:
        raise ValueError("key_points is empty")
    return task_for(task_id, Brief(str(row["topic"]), str(row.get("audience", "general readers")), tuple(points),
                                   int(row.get("max_words", 450))))


def load_tasks(source: str | None = None, n: int | None = None, seed: int = 0) -> list[Task]:
    """The bundled briefs, or those of the JSONL file ``source``; ``n`` picks a seeded sample."""
    tasks = tasks_from_jsonl(source, "content_creation", "id, topic, key_points, audience, max_words", _from_row) \
        if source else [task_for(tid, b) for tid, b in BRIEFS]
    return seeded_sample(tasks, n, seed)
