"""Image Scoring's briefs and the run's judge.

Each bundled brief (our own wording) describes an image by checkable requirements: element
counts of a colour and shape, and the background colour. The requirements travel in
``Task.meta["requirements"]`` (their text) and are the gold.

Judge (``judge``): the answer carries the final image as a ``data:image/png;base64,...``
URI (see ``instance.final_answer``); the judge decodes it and checks every requirement
against its pixels (:mod:`.pixels`), never against the answer's words. *correct* when all
are met, else *wrong*; ``score`` is the share met. No image at all (a run without the image
tool, or one that never rendered) is *wrong* with score 0.
"""

from __future__ import annotations

import base64
import binascii
import re

from maestro.contract import JudgeResult, Task
from maestro.instances._common import seeded_sample, tasks_from_jsonl

from .pixels import check_requirements, inspect_png
from .prompts import Requirement, format_brief, parse_requirements

__all__ = ["BRIEFS", "load_tasks", "task_for", "judge", "image_from_answer", "IMAGE_URI_PREFIX"]

IMAGE_URI_PREFIX = "data:image/png;base64,"

BRIEFS: tuple[tuple[str, str, str], ...] = (
    ("is-01", "A sticker for a kids' maths club.", "two red circles; a blue square; a yellow background"),
    ("is-02", "Cover art for a calm evening playlist.", "a purple circle; two blue squares; a white background"),
    ("is-03", "A badge for a road-safety week.", "a red circle; a yellow circle; a green circle; a black background"),
    ("is-04", "A pattern swatch for a picnic blanket.", "two orange triangles; two pink squares; a grey background"),
    ("is-05", "A preview tile for an icon set.", "a black square; a green triangle; a blue circle; an orange background"),
    ("is-06", "A flyer motif for a kite festival.", "three yellow triangles; a red square; a blue background"),
)
"""(task id, description, requirements): the bundled briefs."""


def task_for(task_id: str, description: str, requirements: list[Requirement]) -> Task:
    """A task for one brief (ValueError when it has no requirement)."""
    if not requirements:
        raise ValueError(f"image_scoring task {task_id!r}: no requirement could be read (write them as "
                         "'two red circles; a yellow background')")
    return Task(task_id=task_id, question=format_brief(description, requirements),
                gold="; ".join(r.text() for r in requirements),
                meta={"description": description, "requirements": [r.text() for r in requirements]})


def _bundled() -> list[Task]:
    return [task_for(tid, desc, parse_requirements(reqs)) for tid, desc, reqs in BRIEFS]


def load_tasks(*, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
    """The bundled briefs, or ``source`` (JSONL: ``id``, ``description``, ``requirements``
    as one string such as ``"two red circles; a yellow background"``); a seeded sample of
    ``n`` when given."""
    if source:
        tasks = tasks_from_jsonl(source, "image_scoring", "id, description, requirements",
                                 lambda tid, row: task_for(tid, str(row["description"]),
                                                           parse_requirements(str(row["requirements"]))))
    else:
        tasks = _bundled()
    return seeded_sample(tasks, n, seed)


_URI_RE = re.compile(re.escape(IMAGE_URI_PREFIX) + r"([A-Za-z0-9+/=]+)")


def image_from_answer(answer: str | None) -> bytes | None:
    """The PNG bytes of the last image URI in ``answer`` (None when there is none)."""
    found = _URI_RE.findall(answer or "")
    if not found:
        return None
    try:
        return base64.b64decode(found[-1], validate=True)
    except (binascii.Error, ValueError):
        return None


def judge(task: Task, answer: str | None) -> JudgeResult:
    """Check the answer's image against the brief's requirements, by its pixels (module docstring)."""
    wanted = parse_requirements("; ".join(task.meta.get("requirements") or [])) or parse_requirements(task.question)
    if not wanted:
        return JudgeResult("unjudged", "task has no requirements to check")
    png = image_from_answer(answer)
    if png is None:
        return JudgeResult("wrong", "no image in the answer", score=0.0)
    try:
        scene = inspect_png(png)
    except ValueError as e:
        return JudgeResult("wrong", f"the answer's image is unreadable ({e})", score=0.0)
    checks = check_requirements(scene, wanted)
    met = sum(c["ok"] for c in checks)
    missed = [f"{c['requirement']} (found {c['found']})" for c in checks if not c["ok"]]
    reason = f"{met}/{len(checks)} requirements met in the image's pixels" + (f"; missing: {'; '.join(missed)}" if missed else "")
    return JudgeResult("correct" if met == len(checks) else "wrong", reason, score=met / len(checks))
