"""Magentic-One's task set and scorer.

Tasks are data questions over the bundled document folder (``documents/``: sales,
employees, inventory CSV files and an operations log), written for maestro in the
templates of :mod:`.questions`. The gold is the number ``questions.compute`` derives from
the file (``meta["truth"]``); every task ends with ``prompts.TASK_MARKER``.

Scorer (``judge``): the answer's number (its last free-standing number,
``questions.answer_number``) is *correct* when it equals the truth within 0.01 (or 1e-6
relative); *wrong* otherwise, or when the answer gives no number. Exact match and score are
1.0 or 0.0.
"""

from __future__ import annotations

from maestro.contract import JudgeResult, Task
from maestro.instances._common import seeded_sample, tasks_from_jsonl

from .documents import document_names, document_text
from .prompts import TASK_MARKER
from .questions import Question, answer_number, compute, format_number, format_question, numbers_match, parse_question

__all__ = ["BUNDLED_QUESTIONS", "load_tasks", "judge", "task_for"]

BUNDLED_QUESTIONS: tuple[tuple[str, Question], ...] = (
    ("m1-01", Question("sum", "sales.csv", column="units")),
    ("m1-02", Question("sum", "sales.csv", column="revenue", where_column="region", where_value="North")),
    ("m1-03", Question("count", "employees.csv", where_column="department", where_value="Engineering")),
    ("m1-04", Question("mean", "employees.csv", column="salary", where_column="city", where_value="Berlin")),
    ("m1-05", Question("max", "inventory.csv", column="quantity", where_column="warehouse", where_value="Hamburg")),
    ("m1-06", Question("lines", "incidents.log", word="ERROR")),
    ("m1-07", Question("sum", "inventory.csv", column="quantity", where_column="category", where_value="stationery")),
    ("m1-08", Question("count", "sales.csv", where_column="product", where_value="Gizmo")),
    ("m1-09", Question("mean", "employees.csv", column="years")),
    ("m1-10", Question("max", "inventory.csv", column="unit_price")),
    ("m1-11", Question("lines", "incidents.log", word="WARN")),
    ("m1-12", Question("sum", "sales.csv", column="units", where_column="quarter", where_value="Q2")),
)
"""(task id, question) of the bundled set."""


def task_for(task_id: str, question: str, answer: float | str | None = None) -> Task:
    """A task for ``question`` (the task marker appended when missing); the gold is
    ``answer`` when given, else computed from the bundled document the question names."""
    text = question.strip()
    if TASK_MARKER not in text:
        text = f"{text} {TASK_MARKER}"
    q = parse_question(text)
    meta: dict = {}
    if q is not None:
        meta.update(op=q.op, file=q.file)
    if answer is None:
        if q is None:
            raise ValueError(f"magentic_one task {task_id!r}: the question fits no template and gives no 'answer'")
        if q.file not in document_names():
            raise ValueError(f"magentic_one task {task_id!r}: {q.file!r} is not in the document folder "
                             f"({', '.join(document_names())}); give 'answer'")
        truth = compute(q, document_text(q.file))
    else:
        truth = float(answer)
    meta["truth"] = truth
    return Task(task_id=task_id, question=text, gold=format_number(truth), meta=meta)


def _bundled() -> list[Task]:
    return [task_for(tid, format_question(q)) for tid, q in BUNDLED_QUESTIONS]


def _from_jsonl(path: str) -> list[Task]:
    return tasks_from_jsonl(path, "magentic_one", "id, question, optional answer (a number)",
                            lambda task_id, row: task_for(task_id, str(row["question"]), row.get("answer")))


def load_tasks(*, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
    """The bundled questions, or ``source`` (JSONL: ``id``, ``question``, optional
    ``answer``); a seeded sample of ``n`` when given (in the set's order)."""
    return seeded_sample(_from_jsonl(source) if source else _bundled(), n, seed)


def judge(task: Task, answer: str | None) -> JudgeResult:
    """Does the answer's number equal the task's truth (within tolerance)?"""
    truth = task.meta.get("truth")
    if truth is None:
        try:
            truth = float(task.gold or "")
        except ValueError:
            return JudgeResult("unjudged", "task has no numeric gold")
    truth = float(truth)
    value = answer_number(answer)
    if value is None:
        return JudgeResult("wrong", "no number in the answer", exact_match=0.0, score=0.0)
    if numbers_match(value, truth):
        return JudgeResult("correct", f"{format_number(value)} equals the truth {format_number(truth)}",
                           exact_match=1.0, score=1.0)
    return JudgeResult("wrong", f"{format_number(value)} is not the truth {format_number(truth)}",
                       exact_match=0.0, score=0.0)
