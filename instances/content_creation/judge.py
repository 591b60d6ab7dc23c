"""Content creation's judge: does the final article cover the brief within its length?

``correct`` when the answer has a ``# `` title, a ``### `` section for every key point of
the brief (case-insensitive match of the heading), names the topic, and has at most the
brief's word limit; otherwise ``wrong`` with the missing parts in the reason. The score is
the share of key points covered (0 for an empty answer).
"""

from __future__ import annotations

import re

from maestro.contract import JudgeResult, Task

from .prompts import draft_sections, parse_brief, word_count

__all__ = ["judge"]


def judge(task: Task, answer: str | None) -> JudgeResult:
    """Judge ``answer`` for ``task`` (module docstring)."""
    if not answer or not answer.strip():
        return JudgeResult("wrong", "no article (empty answer)", score=0.0)
    brief = parse_brief(task.question)
    points = list(task.meta.get("key_points") or (brief.key_points if brief else []))
    topic = str(task.meta.get("topic") or (brief.topic if brief else ""))
    limit = int(task.meta.get("max_words") or (brief.max_words if brief else 10**9))
    headings = {h.lower() for h in draft_sections(answer)}
    missing = [p for p in points if p.lower() not in headings]
    words = word_count(answer)
    problems = []
    if not re.search(r"^#[ \t]+\S", answer, re.MULTILINE):
        problems.append("no title")
    if missing:
        problems.append(f"missing sections: {', '.join(missing)}")
    if topic and topic.lower() not in answer.lower():
        problems.append(f"topic {topic!r} not named")
    if words > limit:
        problems.append(f"{words} words over the limit of {limit}")
    covered = len(points) - len(missing)
    reason = f"key points {covered}/{len(points)}; {words} words" + (f"; {'; '.join(problems)}" if problems else "")
    return JudgeResult("wrong" if problems else "correct", reason, score=covered / len(points) if points else 0.0)
